/**
 * Today's Bedrock request rules end to end through the official `openai` SDK (docs/contract.md#request-rules):
 * the sidecar in front of the emulator, which checks every body as Bedrock does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'opus-4-7', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
  { name: 'opus-4-7-converse', model: 'bedrock/converse/global.anthropic.claude-opus-4-7', region: 'us-east-1' },
];

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
}

test('openai SDK: reasoning_effort on an adaptive-only Claude streams its reasoning (adaptive thinking, effort, display)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    for (const model of ['opus-4-7', 'opus-4-7-converse']) {
      h.emu.script({ type: 'text', text: 'Rayleigh scattering.', reasoning: 'Short wavelengths scatter more.' });
      const stream = await sdk.chat.completions.create({
        model, reasoning_effort: 'high', stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      });
      let text = '';
      let reasoning = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
        text += delta?.content ?? '';
        reasoning += delta?.reasoning_content ?? '';
      }
      assert.equal(text, 'Rayleigh scattering.');
      assert.equal(reasoning, 'Short wavelengths scatter more.');
      const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>;
      const fields = (model === 'opus-4-7' ? sent : sent.additionalModelRequestFields) as Record<string, unknown>;
      assert.deepEqual(fields.thinking, { type: 'adaptive', display: 'summarized' });
      assert.deepEqual(fields.output_config, { effort: 'high' });
    }
  } finally {
    await h.close();
  }
});

test('openai SDK: reasoning_effort "none" on an adaptive-only Claude sends no thinking; "xhigh" maps to its effort', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    h.emu.script({ type: 'text', text: 'Blue.' });
    const off = await sdk.chat.completions.create({ model: 'opus-4-7', reasoning_effort: 'none', messages: [{ role: 'user', content: 'Sky?' }] });
    assert.equal(off.choices[0]?.message.content, 'Blue.');
    const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>;
    assert.equal(sent.thinking, undefined);
    h.emu.script({ type: 'text', text: 'Blue.' });
    await sdk.chat.completions.create({ model: 'opus-4-7', reasoning_effort: 'xhigh', messages: [{ role: 'user', content: 'Sky?' }] });
    assert.deepEqual((JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>).output_config, { effort: 'xhigh' });
  } finally {
    await h.close();
  }
});
