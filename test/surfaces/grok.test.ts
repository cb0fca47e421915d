// xAI Grok on Converse (src/providers/xai.ts; docs/contract.md#models-and-routes): a known family now, so a tool loop
// and a user-turn image reach it (Bedrock takes both: probed 2026-09), and `temperature` / `top_p`, which Bedrock
// refuses for Grok ("This model doesn't support the temperature field."), are a 400 naming them, or left out at the
// default 1. A bare profile id (`us.xai.grok-4.7`) is a route string like any known family's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [{ name: 'grok', model: 'bedrock/converse/us.xai.grok-4.7', region: 'us-east-1' }];
type Json = Record<string, unknown>;
const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;

test('grok: tools, a forced tool and a user-turn image go to Converse; temperature is refused, its default left out', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: { q: 'x' } }] });
    const called = await client.chat.completions.create({
      model: 'grok',
      tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      messages: [{ role: 'user', content: 'Look it up.' }],
    });
    const call = called.choices[0]!.message.tool_calls?.[0];
    assert.equal(call?.type === 'function' ? call.function.name : undefined, 'lookup');
    assert.deepEqual((sent(h).toolConfig as Json).toolChoice, { any: {} });

    h.emu.script({ type: 'text', text: 'Red.' });
    await client.chat.completions.create({
      model: 'us.xai.grok-4.7',
      temperature: 1,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Colour?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
          ],
        },
      ],
    });
    const content = (sent(h).messages as Array<{ content: Json[] }>)[0]!.content;
    assert.deepEqual(content[1], { image: { format: 'png', source: { bytes: PNG_BASE64 } } });
    assert.equal((sent(h).inferenceConfig as Json | undefined)?.temperature, undefined, 'the default 1 is left out');

    const before = h.emu.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'grok', temperature: 0.3, messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && (err.error as Json).param === 'temperature',
    );
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});
