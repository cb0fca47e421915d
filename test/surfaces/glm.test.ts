// Z.AI GLM on Converse (src/providers/zai.ts; docs/contract.md#models-and-routes): a known family, so an agent's tool
// loop reaches it (Bedrock takes toolConfig for GLM and streams its toolUse: opencode #28168, bifrost #4684), where
// the sidecar refused tools to an unknown family; `stop`, which Bedrock refuses for GLM ("This model doesn't support
// the stopSequences field."), is a 400 naming it, an empty one left out; an image is a 400 naming the part (GLM reads
// text only); and an alias's `reasoning_config` goes in additionalModelRequestFields, as for Qwen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'glm', model: 'bedrock/converse/zai.glm-5', region: 'us-east-1' },
  {
    name: 'glm-thinking',
    model: 'bedrock/converse/zai.glm-4.7',
    region: 'us-east-1',
    additional_model_request_fields: { reasoning_config: 'high' },
  },
];
type Json = Record<string, unknown>;
const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;

test('glm: a tool loop goes to Converse (streamed too); an alias reasoning_config reaches additionalModelRequestFields', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const tools = [
    { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  ];
  try {
    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: { q: 'x' } }] });
    const stream = await client.chat.completions.create({
      model: 'glm',
      stream: true,
      tools,
      messages: [{ role: 'user', content: 'Look it up.' }],
    });
    const names: string[] = [];
    for await (const chunk of stream)
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.name) names.push(call.function.name);
    assert.deepEqual(names, ['lookup']);
    assert.equal(((sent(h).toolConfig as Json).tools as unknown[]).length, 1);

    h.emu.script({ type: 'text', text: 'done' });
    const answer = await client.chat.completions.create({ model: 'glm-thinking', tools, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]!.message.content, 'done');
    assert.deepEqual(sent(h).additionalModelRequestFields, { reasoning_config: 'high' });
  } finally {
    await h.close();
  }
});

test('glm: stop is a 400 naming it (an empty one left out), an image a 400 naming the part, both before any call', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    await client.chat.completions.create({ model: 'glm', stop: [], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((sent(h).inferenceConfig as Json | undefined)?.stopSequences, undefined, 'an empty stop is left out');

    const before = h.emu.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'glm', stop: ['END'], messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && (err.error as Json).param === 'stop',
    );
    await assert.rejects(
      client.chat.completions.create({
        model: 'glm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Colour?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
            ],
          },
        ],
      }),
      (err: unknown) =>
        err instanceof OpenAI.APIError && err.status === 400 && /^messages\[0\]\.content\[1\]/.test(String((err.error as Json).param)),
    );
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});
