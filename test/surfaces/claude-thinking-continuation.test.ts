// With thinking on, Claude refuses tool results that answer a turn not starting with its signed thinking
// (docs/contract.md#request-rules). An OpenAI Chat client keeps no signature, so with reasoning_effort and tools
// its second turn — the tool results — used to be refused by Bedrock on every agent loop. The sidecar now leaves
// thinking off for such a turn (and logs why), and keeps it where the thinking came back signed (Messages) or
// where no tool results are answered. The emulator holds Claude's rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'sonnet-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'opus-invoke', model: 'bedrock/invoke/us.anthropic.claude-opus-4-6-v1', region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;
const thinkingOf = (body: Json): unknown => body.thinking ?? (body.additionalModelRequestFields as Json | undefined)?.thinking;

const tools = [
  {
    type: 'function' as const,
    function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  },
];

test('thinking continuation: a Chat agent loop with reasoning_effort and tools answers its tool results (thinking off for that turn only)', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['sonnet-converse', 'opus-invoke']) {
      // Turn 1: thinking on; the model thinks and calls the tool.
      h.emu.script({
        type: 'tool_use',
        reasoning: 'I should look it up.',
        calls: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }],
      });
      const first = await client.chat.completions.create({
        model,
        reasoning_effort: 'low',
        tools,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      });
      assert.ok(thinkingOf(sent(h)), `${model}: thinking on for the first turn`);
      const call = first.choices[0]!.message.tool_calls![0]!;

      // Turn 2: the client hands back the call (and its reasoning text, unsigned) and the result.
      h.emu.script({ type: 'text', text: 'Sunny in Oslo.' });
      const second = await client.chat.completions.create({
        model,
        reasoning_effort: 'low',
        tools,
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: [call], ...({ reasoning_content: 'I should look it up.' } as object) },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      });
      assert.equal(second.choices[0]!.message.content, 'Sunny in Oslo.', model);
      assert.equal(thinkingOf(sent(h)), undefined, `${model}: thinking left off for the tool-result turn`);
      assert.ok(h.logs.some((line) => String(line.msg).includes('thinking left off for this turn')));

      // Turn 3: a new question after the answer — thinking again.
      h.emu.script({ type: 'text', text: 'Take a coat.' });
      await client.chat.completions.create({
        model,
        reasoning_effort: 'low',
        tools,
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
          { role: 'assistant', content: 'Sunny in Oslo.' },
          { role: 'user', content: 'Do I need a coat?' },
        ],
      });
      assert.ok(thinkingOf(sent(h)), `${model}: thinking on for a new question`);
    }
  } finally {
    await h.close();
  }
});

test('thinking continuation: Messages hands the signed thinking back, so thinking stays on for the tool results', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: 'Sunny.' });
    const response = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'sonnet-converse',
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Look it up.', signature: 'c2lnbmF0dXJl' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
        ],
      }),
    });
    assert.equal(response.status, 200, await response.text());
    assert.ok(thinkingOf(sent(h)));
  } finally {
    await h.close();
  }
});
