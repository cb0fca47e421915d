/**
 * Claude Code's Bedrock mode (`CLAUDE_CODE_USE_BEDROCK=1`, `ANTHROPIC_BEDROCK_BASE_URL` → the sidecar,
 * `CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`: no AWS credentials on the client) against the sidecar's native Bedrock
 * routes, the sidecar in front of the emulator (docs/contract.md#bedrock-native). Claude Code asks for its
 * default Bedrock model id on `/model/{id}/invoke-with-response-stream`; the sidecar signs with its own
 * credentials. A plain turn and a tool-use turn complete.
 *
 * Before its first turn, Claude Code 2.1.332 checks that the model answers: an InvokeModel with
 * `max_tokens: 1` and the message ".". A model that fails it is passed over for the next one in its list
 * (Opus 5, Opus 4.8, 4.7, 4.6 …), so the probe must succeed through the sidecar too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claudeCodeBedrock, claudeResult, TEST_TIMEOUT_MS } from './clients.ts';
import { agentSuite, assertReadResult, describeRun, READ_ANSWER, readTurn } from './harness.ts';

/** The model id Claude Code 2.1.332 puts in the path in Bedrock mode when none is configured. */
const DEFAULT_BEDROCK_MODEL = 'us.anthropic.claude-opus-5';

/** The availability probe's answer, scripted ahead of each run's turns. */
const PROBE_ANSWER = { type: 'text', text: '.' } as const;

/** Asserts the run's first model call is Claude Code's availability probe, and returns the calls after it. */
function afterProbe(calls: ReturnType<typeof suite.modelCalls>): ReturnType<typeof suite.modelCalls> {
  const [probe, ...turns] = calls;
  assert.equal(probe?.operation, 'InvokeModel');
  assert.equal(probe.modelId, DEFAULT_BEDROCK_MODEL);
  assert.equal(probe.json.max_tokens, 1);
  assert.equal(probe.signature, 'valid');
  return turns;
}

const suite = agentSuite('claude-code-bedrock', {
  routing: { allow_direct_models: true },
  models: [{ name: 'claude', model: `bedrock/invoke/${DEFAULT_BEDROCK_MODEL}`, region: 'us-east-1' }],
});

test(
  'claude code bedrock mode: a plain turn completes through /model/{id}/invoke-with-response-stream',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const { stack, cwd, modelCalls } = suite;
    stack.emu.script(PROBE_ANSWER, { type: 'text', text: 'pong from Bedrock' });
    const run = await claudeCodeBedrock({ baseUrl: stack.proxy, prompt: 'Reply with the word pong', cwd });
    const result = claudeResult(run);
    assert.equal(run.code, 0, describeRun(run, stack));
    assert.equal(result?.is_error, false, describeRun(run, stack));
    assert.equal(result.result, 'pong from Bedrock');
    const calls = afterProbe(modelCalls());
    assert.equal(calls.length, 1, describeRun(run, stack));
    assert.equal(calls[0]!.operation, 'InvokeModelWithResponseStream');
    assert.equal(calls[0]!.modelId, DEFAULT_BEDROCK_MODEL);
    // The client sent no credentials; the call Bedrock received carries the sidecar's valid SigV4 signature.
    assert.equal(calls[0]!.signature, 'valid');
  },
);

test(
  'claude code bedrock mode: a tool-use turn runs Read and sends its result back to the model',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const { stack, cwd, modelCalls } = suite;
    const turn = readTurn(cwd, 'toolu_bdrk_agents03');
    stack.emu.script(PROBE_ANSWER, ...turn.script);
    const run = await claudeCodeBedrock({ baseUrl: stack.proxy, prompt: turn.prompt, cwd });
    const result = claudeResult(run);
    assert.equal(run.code, 0, describeRun(run, stack));
    assert.equal(result?.is_error, false, describeRun(run, stack));
    assert.equal(result.result, READ_ANSWER);
    const calls = afterProbe(modelCalls());
    assert.equal(calls.length, 2, describeRun(run, stack));
    assertReadResult(calls[1]!.json, 'toolu_bdrk_agents03');
  },
);
