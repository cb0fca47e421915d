/**
 * Claude Code itself (`claude -p`, first-party mode) against the sidecar's Anthropic Messages surface, the
 * sidecar in front of the emulator: `ANTHROPIC_BASE_URL` → `/v1/messages`, aliases named after the models
 * Claude Code asks for (docs/contract.md#anthropic-messages). A plain turn and a tool-use turn complete (the
 * tool turn on Claude and, through Converse, on Qwen3 Coder); an
 * output guardrail block ends the run with "Violated guardrail policy" (Claude Code re-sends a blocked stream
 * without streaming, and the guardrail blocks that too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claudeCode, claudeResult, TEST_TIMEOUT_MS } from './clients.ts';
import {
  agentSuite,
  assertConverseOffers,
  assertConverseToolResult,
  assertReadResult,
  describeRun,
  NO_KUMQUATS,
  READ_ANSWER,
  readTurn,
} from './harness.ts';

/** What Claude Code 2.1.332 asks for when no model is configured, and what the sidecar serves it with. */
const DEFAULT_MODEL = 'claude-opus-5-5';
const BEDROCK_MODEL = 'us.anthropic.claude-opus-5-5';
const GUARDED_MODEL = 'claude-guarded';
/** An alias a team points Claude Code at to run it on another family: Qwen3 Coder, through Converse. */
const CONVERSE_MODEL = 'claude-on-qwen';
const CONVERSE_BEDROCK_MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';

// Claude Code's `HEAD /` preconnect never reaches the emulator: modelCalls() are its model calls only.
const suite = agentSuite('claude-code', {
  guardrails: [NO_KUMQUATS],
  models: [
    { name: DEFAULT_MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1' },
    { name: GUARDED_MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1', guardrails: [NO_KUMQUATS.name] },
    { name: CONVERSE_MODEL, model: `bedrock/converse/${CONVERSE_BEDROCK_MODEL}`, region: 'us-east-1' },
  ],
});

test('claude code: a plain turn completes through /v1/messages with its default model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  stack.emu.script({ type: 'text', text: 'pong from Bedrock' });
  const run = await claudeCode({ baseUrl: stack.proxy, prompt: 'Reply with the word pong', cwd });
  const result = claudeResult(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, 'pong from Bedrock');
  const calls = modelCalls();
  assert.equal(calls.length, 1, describeRun(run, stack));
  assert.equal(calls[0]!.operation, 'InvokeModelWithResponseStream');
  assert.equal(calls[0]!.modelId, BEDROCK_MODEL);
});

/** Claude Code's tool turn on `model` (its default when undefined): the model asks to Read a file (call `id`), then answers. */
async function readFileTurn(model: string | undefined, id: string): Promise<ReturnType<typeof suite.modelCalls>> {
  const { stack, cwd, modelCalls } = suite;
  const turn = readTurn(cwd, id);
  stack.emu.script(...turn.script);
  const run = await claudeCode({ baseUrl: stack.proxy, prompt: turn.prompt, cwd, ...(model ? { model } : {}) });
  const result = claudeResult(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, READ_ANSWER);
  const calls = modelCalls();
  assert.equal(calls.length, 2, describeRun(run, stack));
  return calls;
}

test('claude code: a tool-use turn runs Read and sends its result back to the model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const calls = await readFileTurn(undefined, 'toolu_bdrk_agents01');
  // The second call carries the assistant's tool_use and Claude Code's tool_result with the file's text.
  assertReadResult(calls[1]!.json, 'toolu_bdrk_agents01');
});

test(
  'claude code: on another family through Converse, a tool-use turn runs Read and sends its result back',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const calls = await readFileTurn(CONVERSE_MODEL, 'tooluse_qwen_agents01');
    assert.deepEqual(
      calls.map((c) => [c.operation, c.modelId]),
      [
        ['ConverseStream', CONVERSE_BEDROCK_MODEL],
        ['ConverseStream', CONVERSE_BEDROCK_MODEL],
      ],
    );
    // Claude Code's tools reach Qwen as Converse tools, and its tool_result comes back as a toolResult with the file's text.
    assertConverseOffers(calls[0]!.json, 'Read');
    assertConverseToolResult(calls[1]!.json, 'tooluse_qwen_agents01', 'Read');
  },
);

test('claude code: an output guardrail block ends the run with "Violated guardrail policy"', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  // Claude Code answers an in-stream invalid_request_error by re-sending the request without streaming
  // (2.1.332: three times, each a 400 here, then it gives up): every answer says the blocked word, so every
  // one is blocked. The script holds more answers than that, so a run that ended well would have read one.
  const blocked = { type: 'text', text: 'Here it is: kumquat-7741.' } as const;
  const scripted = 8;
  stack.emu.script(...Array.from({ length: scripted }, () => blocked));
  const run = await claudeCode({ baseUrl: stack.proxy, prompt: 'Tell me the secret fruit code', cwd, model: GUARDED_MODEL });
  const result = claudeResult(run);
  assert.equal(run.code, 1, describeRun(run, stack));
  assert.equal(result?.is_error, true, describeRun(run, stack));
  assert.match(result.result, /Violated guardrail policy/);
  assert.doesNotMatch(run.stdout, /kumquat/);
  const calls = modelCalls();
  assert.equal(calls[0]?.operation, 'InvokeModelWithResponseStream', describeRun(run, stack));
  assert.ok(calls.length >= 2 && calls.length < scripted, `${calls.length} model calls`);
  assert.ok(
    calls.slice(1).every((c) => c.operation === 'InvokeModel'),
    calls.map((c) => c.operation).join(', '),
  );
});
