/**
 * The AI SDK's other providers an app points at the sidecar, each on the surface it speaks
 * (docs/contract.md#anthropic-messages, docs/contract.md#bedrock-native): `@ai-sdk/anthropic` on
 * `/v1/messages`, `@ai-sdk/amazon-bedrock`'s `bedrock(modelId)` on Converse / ConverseStream and its
 * `createBedrockAnthropic` on InvokeModel / InvokeModelWithResponseStream with Claude's body, the last two
 * with a bearer token instead of AWS credentials. Each: a plain answer, a streamed tool round trip, and a
 * guardrail block that reaches the app as an error carrying "Violated guardrail policy", streamed and not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createBedrockAnthropic } from '@ai-sdk/amazon-bedrock/anthropic';
import { assertGuardrailBlocks } from '../helpers/ai-sdk.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

// The SDK warns on stderr when it caps max tokens for a model name it does not know (an alias): not a failure.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const CLAUDE_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const NOVA_ID = 'us.amazon.nova-micro-v1:0';
/** An answer the alias's output guardrail blocks. */
const BLOCKED = 'the codename is nightingale';
const GUARD = { name: 'no-secrets', type: 'regex', patterns: ['nightingale'], stages: ['output'] };
const CONFIG = {
  models: [
    { name: 'claude-sonnet-4-5', model: `bedrock/invoke/${CLAUDE_ID}`, region: 'us-east-1', guardrails: [GUARD.name] },
    { name: 'claude-converse', model: `bedrock/converse/${CLAUDE_ID}`, region: 'us-east-1', guardrails: [GUARD.name] },
    { name: 'nova', model: `bedrock/converse/${NOVA_ID}`, region: 'us-east-1', guardrails: [GUARD.name] },
  ],
  guardrails: [GUARD],
};

async function withRig(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(CONFIG);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const weather = tool({
  description: 'Weather for a city',
  inputSchema: jsonSchema<{ city: string }>({
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  }),
  execute: async ({ city }) => ({ city, sky: 'snow' }),
});

/** A plain answer, then a streamed tool round trip; returns the emulator's operations for the two. */
async function plainAndTool(h: Harness, model: LanguageModel): Promise<string[]> {
  const from = h.emu.requests.length;
  h.emu.script({ type: 'text', text: 'Hello from Bedrock' });
  const plain = await generateText({ model, prompt: 'Say hello', maxRetries: 0 });
  assert.equal(plain.text, 'Hello from Bedrock');

  h.emu.script(
    { type: 'tool_use', calls: [{ id: 'toolu_bdrk_weather1', name: 'weather', input: { city: 'Oslo' } }] },
    { type: 'text', text: 'Oslo: snow.' },
  );
  const result = streamText({ model, prompt: 'Weather in Oslo?', maxRetries: 0, stopWhen: stepCountIs(2), tools: { weather } });
  assert.equal(await result.text, 'Oslo: snow.');
  const steps = await result.steps;
  assert.deepEqual(
    steps[0]!.toolResults.map((r) => r.output),
    [{ city: 'Oslo', sky: 'snow' }],
  );
  // The second call carried the tool's result back, in the shape of the operation it went to.
  const second = JSON.stringify(h.emu.requests.at(-1)!.json);
  assert.match(second, /"toolu_bdrk_weather1"/);
  assert.match(second, /snow/);
  return h.emu.requests.slice(from).map((r) => r.operation);
}

test('@ai-sdk/anthropic on /v1/messages: Claude on invoke and Nova through Converse answer, run a tool, raise a guardrail block', () =>
  withRig(async (h) => {
    const anthropic = createAnthropic({ baseURL: `${h.url}/v1`, apiKey: 'sk-ant-unused' });
    assert.deepEqual(await plainAndTool(h, anthropic('claude-sonnet-4-5')), [
      'InvokeModel',
      'InvokeModelWithResponseStream',
      'InvokeModelWithResponseStream',
    ]);
    assert.deepEqual(await plainAndTool(h, anthropic('nova')), ['Converse', 'ConverseStream', 'ConverseStream']);
    await assertGuardrailBlocks(h, anthropic('claude-sonnet-4-5'), BLOCKED, 'nightingale');
  }));

test("@ai-sdk/amazon-bedrock's bedrock(modelId) on the native Converse routes with a bearer token: answers, a tool, a guardrail block", () =>
  withRig(async (h) => {
    // Bedrock model ids in the path, as an app written for Bedrock names them: the sidecar serves each with
    // the alias configured for it.
    const bedrock = createAmazonBedrock({ baseURL: h.url, region: 'us-east-1', apiKey: 'bedrock-api-key-unused' });
    assert.deepEqual(await plainAndTool(h, bedrock(NOVA_ID)), ['Converse', 'ConverseStream', 'ConverseStream']);
    assert.deepEqual(await plainAndTool(h, bedrock('claude-converse')), ['Converse', 'ConverseStream', 'ConverseStream']);
    await assertGuardrailBlocks(h, bedrock(NOVA_ID), BLOCKED, 'nightingale');
    // The app's own token never reaches Bedrock: every call the emulator saw was signed by the sidecar.
    assert.ok(h.emu.requests.every((r) => r.signature === 'valid'));
  }));

test("@ai-sdk/amazon-bedrock's createBedrockAnthropic on the native InvokeModel routes with Claude's body: answers, a tool, a guardrail block", () =>
  withRig(async (h) => {
    const claude = createBedrockAnthropic({ baseURL: h.url, region: 'us-east-1', apiKey: 'bedrock-api-key-unused' });
    assert.deepEqual(await plainAndTool(h, claude(CLAUDE_ID)), [
      'InvokeModel',
      'InvokeModelWithResponseStream',
      'InvokeModelWithResponseStream',
    ]);
    await assertGuardrailBlocks(h, claude(CLAUDE_ID), BLOCKED, 'nightingale');
    assert.ok(h.emu.requests.every((r) => r.signature === 'valid'));
  }));
