/**
 * The Responses surface through the clients that default to it (docs/contract.md#openai-responses): the
 * Vercel AI SDK's `openai(model)` and the OpenAI Agents SDK with a string model — text, a tool round trip,
 * and a guardrail block that each raises with "Violated guardrail policy".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, jsonSchema, stepCountIs, streamText, tool as aiTool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { assertGuardrailBlocks } from '../helpers/ai-sdk.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

setTracingDisabled(true);

const CLAUDE = {
  name: 'claude',
  model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0',
  region: 'us-east-1',
  guardrails: ['no-secrets'],
};
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1', guardrails: ['no-secrets'] };
const CONFIG = {
  models: [CLAUDE, NOVA],
  guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['nightingale'], stages: ['output'] }],
};

async function withRig(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(CONFIG);
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const weatherSchema = {
  type: 'object' as const,
  properties: { city: { type: 'string' as const } },
  required: ['city'],
  additionalProperties: false as const,
};

test('AI SDK: generateText and streamText with a tool through openai(model), the default Responses provider', () =>
  withRig(async (h) => {
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused' });
    h.emu.script({ type: 'text', text: 'Hello from Bedrock' });
    const plain = await generateText({ model: openai('nova'), prompt: 'Say hello', maxRetries: 0 });
    assert.equal(plain.text, 'Hello from Bedrock');
    assert.ok(h.emu.requests.at(-1)!.rawPath.includes('converse'));

    h.emu.script(
      { type: 'tool_use', calls: [{ id: 'toolu_w', name: 'weather', input: { city: 'Oslo' } }] },
      { type: 'text', text: 'Oslo: snow.' },
    );
    const seen: string[] = [];
    const result = streamText({
      model: openai('claude'),
      prompt: 'Weather in Oslo?',
      maxRetries: 0,
      stopWhen: stepCountIs(2),
      tools: {
        weather: aiTool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<{ city: string }>(weatherSchema),
          execute: async ({ city }) => {
            seen.push(city);
            return { city, sky: 'snow' };
          },
        }),
      },
    });
    assert.equal(await result.text, 'Oslo: snow.');
    assert.deepEqual(seen, ['Oslo']);
    const second = h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<{ type: string }> }> };
    assert.ok(second.messages.some((m) => m.content.some((b) => b.type === 'tool_result')));
  }));

test("AI SDK: a tool step after text and signed thinking: the SDK's item_references to the stored answer become the turn Bedrock gets", () =>
  withRig(async (h) => {
    // The AI SDK stores by default, and then sends its earlier answer's text and reasoning as item_reference
    // items (ids of this sidecar's output items): a model that speaks (and thinks) before its tool call is
    // Claude's usual turn.
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused' });
    const sent: unknown[] = [];
    const traced = createOpenAI({
      baseURL: `${h.url}/v1`,
      apiKey: 'unused',
      fetch: (url, init) => {
        sent.push(JSON.parse(init?.body as string));
        return fetch(url, init);
      },
    });
    h.emu.script(
      {
        type: 'tool_use',
        reasoning: 'The weather tool knows.',
        text: 'Let me check.',
        calls: [{ id: 'toolu_r', name: 'weather', input: { city: 'Tromsø' } }],
      },
      { type: 'text', text: 'Tromsø: aurora.' },
    );
    const result = await generateText({
      model: traced('claude'),
      prompt: 'Weather in Tromsø?',
      maxRetries: 0,
      stopWhen: stepCountIs(2),
      providerOptions: { openai: { reasoningEffort: 'low' } },
      tools: {
        weather: aiTool({
          inputSchema: jsonSchema<{ city: string }>(weatherSchema),
          execute: async ({ city }) => ({ city, sky: 'aurora' }),
        }),
      },
    });
    assert.equal(result.text, 'Tromsø: aurora.');
    const input = (sent[1] as { input: Array<{ type?: string }> }).input;
    assert.ok(input.filter((i) => i.type === 'item_reference').length >= 1, JSON.stringify(input));
    const second = h.emu.requests.at(-1)!.json as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    assert.deepEqual(
      second.messages[1]!.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.equal(second.messages[1]!.content[0]!.thinking, 'The weather tool knows.');
    assert.equal(typeof second.messages[1]!.content[0]!.signature, 'string');
    assert.equal(second.messages[1]!.content[1]!.text, 'Let me check.');

    // A reference this sidecar does not hold is a 404 naming it, before any call.
    const before = h.emu.requests.length;
    await assert.rejects(
      generateText({
        model: openai('claude'),
        maxRetries: 0,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'text', text: 'hello', providerOptions: { openai: { itemId: 'msg_gone_1' } } }] },
          { role: 'user', content: 'again' },
        ],
      }),
      (error: unknown) => (error as { statusCode?: number }).statusCode === 404 && /msg_gone_1/.test((error as Error).message),
    );
    assert.equal(h.emu.requests.length, before);
  }));

test('AI SDK: a guardrail block mid-stream reaches streamText as an error with the message', () =>
  withRig(async (h) => {
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused' });
    await assertGuardrailBlocks(h, openai('claude'), 'the codename is nightingale', 'nightingale');
  }));

test('Agents SDK: a string model runs text and a tool through /v1/responses; a guardrail block raises', () =>
  withRig(async (h) => {
    const runner = new Runner({ modelProvider: new OpenAIProvider({ apiKey: 'unused', baseURL: `${h.url}/v1`, useResponses: true }) });
    h.emu.script({ type: 'text', text: 'Hi there.' });
    const plain = await runner.run(new Agent({ name: 'greeter', instructions: 'Greet.', model: 'nova' }), 'Hello');
    assert.equal(plain.finalOutput, 'Hi there.');

    const cities: string[] = [];
    const weather = agentTool({
      name: 'weather',
      description: 'Weather for a city',
      parameters: weatherSchema,
      strict: true,
      execute: async (input) => {
        const { city } = input as { city: string };
        cities.push(city);
        return `${city}: rain`;
      },
    });
    h.emu.script(
      { type: 'tool_use', reasoning: 'Look it up.', calls: [{ id: 'toolu_a', name: 'weather', input: { city: 'Bergen' } }] },
      { type: 'text', text: 'Bergen: rain.' },
    );
    const withTool = await runner.run(
      new Agent({ name: 'forecaster', instructions: 'Use tools.', model: 'claude', tools: [weather] }),
      'Weather in Bergen?',
    );
    assert.equal(withTool.finalOutput, 'Bergen: rain.');
    assert.deepEqual(cities, ['Bergen']);
    // The second call carried the signed thinking back (the SDK re-sends reasoning by id; the store has it).
    const second = h.emu.requests.at(-1)!.json as { messages: Array<{ role: string; content: Array<{ type: string }> }> };
    assert.ok(second.messages.some((m) => m.role === 'user' && m.content.some((b) => b.type === 'tool_result')));

    h.emu.script({ type: 'text', text: 'nightingale it is' });
    const streamed = await runner.run(new Agent({ name: 'leaky', instructions: 'x', model: 'claude' }), 'codename?', { stream: true });
    await assert.rejects(async () => {
      for await (const event of streamed) void event;
      await streamed.completed;
      if (streamed.error) throw streamed.error as Error;
    }, /Violated guardrail policy/);
  }));
