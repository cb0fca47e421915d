// Kimi K3 on Converse (src/providers/moonshot.ts; docs/contract.md#models-and-routes): Bedrock takes
// `reasoning: {effort}` none … max (none turns its reasoning off) and json_schema structured outputs for it
// (stdapi-ai/stdapi.ai's probe of us.moonshotai.kimi-k3, 2026-09-22). A Codex session, which always sends
// `reasoning.effort`, failed on its first turn with a 400 from the sidecar; now the effort goes as Bedrock takes it.
// Kimi K2 Thinking and K2.5 have no reasoning setting and no structured outputs: a 400 naming each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'kimi-k3', model: 'bedrock/converse/us.moonshotai.kimi-k3', region: 'us-east-1' },
  { name: 'kimi-k25', model: 'bedrock/converse/moonshotai.kimi-k2.5', region: 'us-east-1' },
  { name: 'kimi-thinking', model: 'bedrock/converse/moonshot.kimi-k2-thinking', region: 'us-east-1' },
];
type Json = Record<string, unknown>;
const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;
const hi = [{ role: 'user' as const, content: 'hi' }];
const schema = {
  type: 'json_schema' as const,
  json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } },
};

test('kimi k3: reasoning_effort goes as reasoning.effort (none included, minimal as low), json_schema as outputConfig', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const [asked, effort] of [
      ['high', 'high'],
      ['none', 'none'],
      ['minimal', 'low'],
      ['max', 'max'],
    ] as const) {
      h.emu.script({ type: 'text', text: 'ok' });
      await client.chat.completions.create({ model: 'kimi-k3', reasoning_effort: asked, messages: hi });
      assert.deepEqual(sent(h).additionalModelRequestFields, { reasoning: { effort } }, asked);
    }
    h.emu.script({ type: 'text', text: '{"a":"x"}' });
    await client.chat.completions.create({ model: 'kimi-k3', response_format: schema, messages: hi });
    assert.equal(((sent(h).outputConfig as Json).textFormat as Json).type, 'json_schema');

    h.emu.script({ type: 'text', text: 'ok' });
    const answer = await client.responses.create({ model: 'kimi-k3', reasoning: { effort: 'medium' }, input: 'hi' });
    assert.equal(answer.output_text, 'ok');
    assert.deepEqual(sent(h).additionalModelRequestFields, { reasoning: { effort: 'medium' } });
  } finally {
    await h.close();
  }
});

test('kimi k2: reasoning_effort and json_schema are a 400 naming each, before any call', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const before = h.emu.requests.length;
    for (const model of ['kimi-k25', 'kimi-thinking']) {
      await assert.rejects(
        client.chat.completions.create({ model, reasoning_effort: 'high', messages: hi }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'reasoning_effort',
        model,
      );
      await assert.rejects(
        client.chat.completions.create({ model, response_format: schema, messages: hi }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'response_format',
        model,
      );
    }
    assert.equal(h.emu.requests.length, before);
  } finally {
    await h.close();
  }
});
