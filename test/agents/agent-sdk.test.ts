/**
 * The Claude Agent SDK (`query()` from @anthropic-ai/claude-agent-sdk, which runs its own bundled Claude Code)
 * against the sidecar's Anthropic Messages surface, the sidecar in front of the emulator: `ANTHROPIC_BASE_URL`
 * → `/v1/messages`, an alias named after the model it asks for (docs/contract.md#anthropic-messages). A plain
 * turn and a tool-use turn complete; an output guardrail block ends the session with an error result that says
 * "Violated guardrail policy", never a success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claudeAgentSdk, TEST_TIMEOUT_MS } from './clients.ts';
import { agentSuite, assertReadResult, describeRun, jsonLines, NO_KUMQUATS, READ_ANSWER, readTurn, type ClientRun } from './harness.ts';

/** What the Agent SDK's bundled Claude Code asks for when no model is configured, and what serves it. */
const DEFAULT_MODEL = 'claude-opus-5-5';
const BEDROCK_MODEL = 'us.anthropic.claude-opus-5-5';
const GUARDED_MODEL = 'claude-guarded';

const suite = agentSuite('agent-sdk', {
  guardrails: [NO_KUMQUATS],
  models: [
    { name: DEFAULT_MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1' },
    { name: GUARDED_MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1', guardrails: [NO_KUMQUATS.name] },
  ],
});

interface SdkResult {
  type: 'result';
  is_error: boolean;
  result?: string;
  errors?: string[];
}

/** The session's `result` message (the SDK yields it last), if the run got that far. */
function resultOf(run: ClientRun): SdkResult | undefined {
  return jsonLines(run.stdout).find((m) => m.type === 'result') as SdkResult | undefined;
}

test('agent sdk: a plain turn completes through /v1/messages with its default model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  stack.emu.script({ type: 'text', text: 'pong from Bedrock' });
  const run = await claudeAgentSdk({ baseUrl: stack.proxy, prompt: 'Reply with the word pong', cwd });
  const result = resultOf(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, 'pong from Bedrock');
  // The session really ran the SDK's own bundled Claude Code, on the model it asks for by default.
  const init = jsonLines(run.stdout).find((m) => m.type === 'system' && m.subtype === 'init');
  assert.equal(init?.model, DEFAULT_MODEL, describeRun(run, stack));
  assert.equal(typeof init.claude_code_version, 'string');
  const calls = modelCalls();
  assert.equal(calls.length, 1, describeRun(run, stack));
  assert.equal(calls[0]!.operation, 'InvokeModelWithResponseStream');
  assert.equal(calls[0]!.modelId, BEDROCK_MODEL);
  assert.equal(calls[0]!.signature, 'valid');
});

test('agent sdk: a tool-use turn runs Read and sends its result back to the model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  const turn = readTurn(cwd, 'toolu_bdrk_agentsdk01');
  stack.emu.script(...turn.script);
  const run = await claudeAgentSdk({ baseUrl: stack.proxy, prompt: turn.prompt, cwd });
  const result = resultOf(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, READ_ANSWER);
  const calls = modelCalls();
  assert.equal(calls.length, 2, describeRun(run, stack));
  assertReadResult(calls[1]!.json, 'toolu_bdrk_agentsdk01');
});

test('agent sdk: an output guardrail block ends the session with "Violated guardrail policy"', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  // Like Claude Code, the bundled CLI re-sends a blocked stream without streaming; every answer names the
  // blocked word, so every one is blocked. The script holds more answers than it will ask for.
  const blocked = { type: 'text', text: 'Here it is: kumquat-7741.' } as const;
  const scripted = 8;
  stack.emu.script(...Array.from({ length: scripted }, () => blocked));
  const run = await claudeAgentSdk({ baseUrl: stack.proxy, prompt: 'Tell me the secret fruit code', cwd, model: GUARDED_MODEL });
  const result = resultOf(run);
  assert.equal(run.code, 1, describeRun(run, stack));
  assert.equal(result?.is_error, true, describeRun(run, stack));
  assert.match(JSON.stringify(result), /Violated guardrail policy/);
  assert.doesNotMatch(run.stdout, /kumquat/);
  const calls = modelCalls();
  assert.ok(calls.length >= 2 && calls.length < scripted, describeRun(run, stack));
});
