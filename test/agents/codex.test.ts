/**
 * Codex itself (`codex exec`) against the sidecar's OpenAI Responses surface, the sidecar in front of the
 * emulator: a provider with `wire_api = "responses"` and `base_url` → `/v1/responses`
 * (docs/contract.md#openai-responses). A plain turn and a tool turn (Codex runs `echo` and sends its output
 * back) complete, the tool turn on Claude (invoke) and on GPT (Converse); `view_image`'s picture reaches Claude inside the tool result; an output guardrail block is shown as "Violated guardrail policy" after one request, without
 * Codex's retries. With the built-in OpenAI provider at the sidecar (`openai_base_url`) Codex compacts remotely
 * (`compaction_trigger`), and its turn goes on from the sidecar's compaction item.
 */
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { codex, TEST_TIMEOUT_MS } from './clients.ts';
import { agentSuite, assertConverseOffers, assertConverseToolResult, describeRun, jsonLines, NO_KUMQUATS, SECRET } from './harness.ts';

const MODEL = 'sidecar-codex';
const GUARDED_MODEL = 'sidecar-codex-guarded';
const BEDROCK_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
/** Codex on a GPT model through Converse, the other way teams run it. */
const GPT_MODEL = 'sidecar-codex-gpt';
const GPT_BEDROCK_MODEL = 'openai.gpt-6-sol';

const suite = agentSuite('codex', {
  guardrails: [NO_KUMQUATS],
  models: [
    { name: MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1' },
    { name: GUARDED_MODEL, model: `bedrock/invoke/${BEDROCK_MODEL}`, region: 'us-east-1', guardrails: [NO_KUMQUATS.name] },
    { name: GPT_MODEL, model: `bedrock/converse/${GPT_BEDROCK_MODEL}`, region: 'us-east-1' },
  ],
});

/** Codex's `--json` events: the last agent message, the failure if the turn failed. */
function outcome(stdout: string): { message?: string; completed: boolean; failure?: string } {
  const events = jsonLines(stdout);
  const messages = events.flatMap((e) => {
    const item = e.item as { type?: string; text?: string } | undefined;
    return e.type === 'item.completed' && item?.type === 'agent_message' && typeof item.text === 'string' ? [item.text] : [];
  });
  const failed = events.find((e) => e.type === 'turn.failed') as { error?: { message?: string } } | undefined;
  return {
    ...(messages.length > 0 ? { message: messages[messages.length - 1] } : {}),
    completed: events.some((e) => e.type === 'turn.completed'),
    ...(failed ? { failure: failed.error?.message ?? '' } : {}),
  };
}

test('codex: a plain turn completes through /v1/responses', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  stack.emu.script({ type: 'text', text: 'pong from Bedrock' });
  const run = await codex({ baseUrl: stack.proxy, model: MODEL, prompt: 'Reply with the word pong', cwd });
  const result = outcome(run.stdout);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result.completed, true, describeRun(run, stack));
  assert.equal(result.message, 'pong from Bedrock');
  assert.equal(modelCalls().length, 1, describeRun(run, stack));
});

/** Codex's tool turn on `model`: the model asks for `echo SECRET` (call `id`), Codex runs it and the model answers. */
async function echoTurn(model: string, id: string): Promise<ReturnType<typeof suite.modelCalls>> {
  const { stack, cwd, modelCalls } = suite;
  stack.emu.script(
    { type: 'tool_use', calls: [{ id, name: 'exec_command', input: { cmd: `echo ${SECRET}` } }] },
    { type: 'text', text: 'The command printed the secret.' },
  );
  const run = await codex({ baseUrl: stack.proxy, model, prompt: `Run the shell command \`echo ${SECRET}\` and tell me its output.`, cwd });
  const result = outcome(run.stdout);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result.completed, true, describeRun(run, stack));
  assert.equal(result.message, 'The command printed the secret.');
  const calls = modelCalls();
  assert.equal(calls.length, 2, describeRun(run, stack));
  return calls;
}

test('codex: a tool turn runs the shell command and sends its output back to the model', { timeout: TEST_TIMEOUT_MS }, async () => {
  const calls = await echoTurn(MODEL, 'toolu_bdrk_agents02');
  // Codex ran the command; its output reached Bedrock as the tool result of that call.
  const sent = JSON.stringify(calls[1]!.json);
  assert.match(sent, /toolu_bdrk_agents02/);
  assert.ok(sent.includes(`${SECRET}\\n`), sent.slice(-2000));
});

test(
  'codex: on a GPT model through Converse, a tool turn runs the command and sends its output back',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const calls = await echoTurn(GPT_MODEL, 'call_gpt_agents05');
    assert.deepEqual(
      calls.map((c) => [c.operation, c.modelId]),
      [
        ['ConverseStream', GPT_BEDROCK_MODEL],
        ['ConverseStream', GPT_BEDROCK_MODEL],
      ],
    );
    // Codex's tools reach GPT as Converse tools; the command's output comes back as the toolResult of that call.
    assertConverseOffers(calls[0]!.json, 'exec_command');
    assertConverseToolResult(calls[1]!.json, 'call_gpt_agents05', 'exec_command');
  },
);

test(
  'codex: view_image sends the picture back as an input_image tool output, and it reaches Claude in the tool result',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    const { stack, cwd, modelCalls } = suite;
    // A real 1×1 PNG: Codex reads and checks the file before sending it.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    writeFileSync(join(cwd, 'shot.png'), Buffer.from(png, 'base64'));
    stack.emu.script(
      { type: 'tool_use', calls: [{ id: 'toolu_bdrk_agents04', name: 'view_image', input: { path: 'shot.png' } }] },
      { type: 'text', text: 'A single pixel.' },
    );
    const run = await codex({ baseUrl: stack.proxy, model: MODEL, prompt: 'Look at shot.png and describe it.', cwd });
    const result = outcome(run.stdout);
    assert.equal(run.code, 0, describeRun(run, stack));
    assert.equal(result.completed, true, describeRun(run, stack));
    assert.equal(result.message, 'A single pixel.');
    const calls = modelCalls();
    assert.equal(calls.length, 2, describeRun(run, stack));
    // Claude's body: the tool_result of that call holds the image (Codex may re-encode it, so its type is checked).
    const messages = (calls[1]!.json as { messages: Array<{ content: unknown }> }).messages;
    const results = messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : []));
    const result04 = results.find((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_bdrk_agents04');
    const parts = (result04?.content ?? []) as Array<{ type?: string; source?: { type?: string; media_type?: string } }>;
    assert.ok(
      parts.some((p) => p.type === 'image' && p.source?.type === 'base64' && /^image\//.test(p.source.media_type ?? '')),
      JSON.stringify(result04 ?? results).slice(0, 2000),
    );
  },
);

test('codex: an output guardrail block shows "Violated guardrail policy" without retrying', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { stack, cwd, modelCalls } = suite;
  stack.emu.script({ type: 'text', text: 'Here it is: kumquat-7741.' });
  const run = await codex({ baseUrl: stack.proxy, model: GUARDED_MODEL, prompt: 'Tell me the secret fruit code', cwd });
  const result = outcome(run.stdout);
  assert.equal(run.code, 1, describeRun(run, stack));
  assert.equal(result.completed, false, describeRun(run, stack));
  assert.match(result.failure ?? '', /Violated guardrail policy/, describeRun(run, stack));
  assert.doesNotMatch(run.stdout, /kumquat|Reconnecting/);
  assert.equal(modelCalls().length, 1, describeRun(run, stack));
});

/** A turn whose tool call passes the auto-compact limit: Codex compacts before it goes on (README "Codex"). */
async function compactingTurn(provider: 'named-openai' | 'openai'): Promise<void> {
  const { stack, cwd, modelCalls } = suite;
  const summary = `The user asked to run echo ${SECRET}; it printed ${SECRET}. Next: report it.`;
  stack.emu.script(
    {
      type: 'tool_use',
      calls: [{ id: 'toolu_bdrk_agents05', name: 'exec_command', input: { cmd: `echo ${SECRET}` } }],
      usage: { inputTokens: 90_000, outputTokens: 20 },
    },
    { type: 'text', text: summary },
    { type: 'text', text: `It printed ${SECRET}.` },
  );
  const run = await codex({
    baseUrl: stack.proxy,
    model: MODEL,
    provider,
    autoCompactTokenLimit: 5_000,
    prompt: `Run the shell command \`echo ${SECRET}\` and tell me its output.`,
    cwd,
  });
  const result = outcome(run.stdout);
  assert.equal(run.code, 0, describeRun(run, stack));
  assert.equal(result.completed, true, describeRun(run, stack));
  assert.equal(result.message, `It printed ${SECRET}.`);
  const calls = modelCalls();
  assert.equal(calls.length, 3, describeRun(run, stack));
  // The compaction: the conversation with the command's output, then the sidecar's request for a summary.
  const asked = JSON.stringify(calls[1]!.json);
  assert.ok(asked.includes(`${SECRET}\\n`), asked.slice(-2000));
  assert.match(asked, /replaced by a summary/);
  // The turn goes on from the summary: Codex sent the compaction item back, the replaced call is gone.
  const next = JSON.stringify(calls[2]!.json);
  assert.ok(next.includes(summary), next.slice(-2000));
  assert.doesNotMatch(next, /toolu_bdrk_agents05/);
}

test(
  'codex: with the built-in OpenAI provider, a remote compaction mid-turn summarises through Bedrock and the turn goes on from the summary',
  { timeout: TEST_TIMEOUT_MS },
  () => compactingTurn('openai'),
);

test('codex: with a custom provider named "OpenAI", the remote compaction works the same', { timeout: TEST_TIMEOUT_MS }, () =>
  compactingTurn('named-openai'),
);
