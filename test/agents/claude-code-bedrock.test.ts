/**
 * Claude Code's Bedrock mode (`CLAUDE_CODE_USE_BEDROCK=1`, `ANTHROPIC_BEDROCK_BASE_URL` → the sidecar,
 * `CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`: no AWS credentials on the client) against the sidecar's native Bedrock
 * routes, the sidecar in front of the emulator (docs/contract.md#bedrock-native). Claude Code asks for its
 * default Bedrock model id on `/model/{id}/invoke-with-response-stream`; the sidecar signs with its own
 * credentials. A plain turn and a tool-use turn complete.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claudeCodeBedrock, claudeResult, TEST_TIMEOUT_MS } from './clients.ts';
import { describeRun, makeTemp, removeTemp, startStack, type Stack } from './harness.ts';

/** The model id Claude Code 2.1.197 puts in the path in Bedrock mode when none is configured. */
const DEFAULT_BEDROCK_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

let stack: Stack;
let cwd: string;

before(async () => {
  stack = await startStack({
    routing: { allow_direct_models: true },
    models: [{ name: 'claude', model: `bedrock/invoke/${DEFAULT_BEDROCK_MODEL}`, region: 'us-east-1' }],
  });
  cwd = makeTemp('claude-code-bedrock');
});

after(async () => {
  await stack?.close();
  if (cwd) removeTemp(cwd);
});

beforeEach(() => stack.emu.reset());

function modelCalls(): Array<{ operation: string; modelId?: string; signature: string; json: Record<string, unknown> }> {
  return stack.emu.requests
    .filter((r) => r.operation === 'InvokeModel' || r.operation === 'InvokeModelWithResponseStream')
    .map((r) => ({ operation: r.operation, modelId: r.modelId, signature: r.signature, json: r.json as Record<string, unknown> }));
}

test('claude code bedrock mode: a plain turn completes through /model/{id}/invoke-with-response-stream', { timeout: TEST_TIMEOUT_MS }, async () => {
  stack.emu.script({ type: 'text', text: 'pong from Bedrock' });
  const run = await claudeCodeBedrock({ baseUrl: stack.proxy, prompt: 'Reply with the word pong', cwd });
  const result = claudeResult(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, 'pong from Bedrock');
  const calls = modelCalls();
  assert.equal(calls.length, 1, describeRun(run, stack));
  assert.equal(calls[0]!.operation, 'InvokeModelWithResponseStream');
  assert.equal(calls[0]!.modelId, DEFAULT_BEDROCK_MODEL);
  // The client sent no credentials; the call Bedrock received carries the sidecar's valid SigV4 signature.
  assert.equal(calls[0]!.signature, 'valid');
});

test('claude code bedrock mode: a tool-use turn runs Read and sends its result back to the model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const file = join(cwd, 'secret.txt');
  writeFileSync(file, 'fig-3306\n');
  stack.emu.script(
    { type: 'tool_use', calls: [{ id: 'toolu_bdrk_agents03', name: 'Read', input: { file_path: file } }] },
    { type: 'text', text: 'The file holds the secret.' },
  );
  const run = await claudeCodeBedrock({ baseUrl: stack.proxy, prompt: `Use the Read tool to read the file ${file} and reply with its contents.`, cwd });
  const result = claudeResult(run);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result?.is_error, false, describeRun(run, stack));
  assert.equal(result.result, 'The file holds the secret.');
  const calls = modelCalls();
  assert.equal(calls.length, 2, describeRun(run, stack));
  const messages = calls[1]!.json.messages as Array<{ role: string; content: unknown }>;
  const toolResult = messages.flatMap((m) => (Array.isArray(m.content) ? m.content as Array<Record<string, unknown>> : []))
    .find((block) => block.type === 'tool_result');
  assert.equal(toolResult?.tool_use_id, 'toolu_bdrk_agents03', JSON.stringify(messages).slice(-2000));
  assert.match(JSON.stringify(toolResult.content), /fig-3306/);
});
