// Images to OpenAI's models on Converse (docs/contract.md#request-rules): GPT-5.6 and GPT-6 read an image in a
// user turn (probed on Bedrock, 2026-09: opencode #49443 and #48069, agent-framework #8682), so a Chat image goes to
// them as a Converse image block; gpt-oss reads none, and an image to it is still a 400 naming the part. Images in
// a tool result stay text-only for every GPT (Bedrock refuses them there), as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness } from '../helpers/harness.ts';
import { lookAtPng, PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'gpt-6', model: 'bedrock/converse/us.openai.gpt-6-sol', region: 'us-east-1' },
  { name: 'gpt-56', model: 'bedrock/converse/us.openai.gpt-5.6-luna', region: 'us-east-1' },
  { name: 'gpt-oss', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', region: 'us-west-2' },
];

const look = [lookAtPng()];

test('gpt images: GPT-5.6 and GPT-6 get a user turn image as a Converse image block; gpt-oss a 400 naming the part', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['gpt-6', 'gpt-56']) {
      h.emu.script({ type: 'text', text: 'Red.' });
      const answer = await client.chat.completions.create({ model, messages: look });
      assert.equal(answer.choices[0]!.message.content, 'Red.', model);
      const content = (h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages[0]!
        .content;
      assert.deepEqual(content[1], { image: { format: 'png', source: { bytes: PNG_BASE64 } } }, model);
    }
    const before = h.emu.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'gpt-oss', messages: look }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError && err.status === 400, String(err));
      assert.match(String((err.error as Record<string, unknown>).param), /^messages\[0\]\.content\[1\]/);
      return true;
    });
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});
