// Which models read an image in a user turn (docs/contract.md#request-rules), as Bedrock's own
// ListFoundationModels lists their input modalities (us-east-1 readback of 2026-09-27): Kimi K2.5 and K3,
// Ministral 3 and Nemotron Nano 12B v2 VL take IMAGE, so a Chat image goes to them as a Converse image block;
// Kimi K2 Thinking and Nemotron Super read text only, and an image to them is still a 400 naming the part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness } from '../helpers/harness.ts';
import { lookAtPng, PNG_BASE64 } from '../helpers/tool-results.ts';

const READS = [
  { name: 'kimi-k3', model: 'bedrock/converse/us.moonshotai.kimi-k3', region: 'us-east-1' },
  { name: 'kimi-k25', model: 'bedrock/converse/moonshotai.kimi-k2.5', region: 'us-east-1' },
  { name: 'ministral', model: 'bedrock/converse/mistral.ministral-3-8b-instruct', region: 'us-east-1' },
  { name: 'nemotron-vl', model: 'bedrock/converse/nvidia.nemotron-nano-12b-v2', region: 'us-east-1' },
];
const TEXT_ONLY = [
  { name: 'kimi-thinking', model: 'bedrock/converse/moonshot.kimi-k2-thinking', region: 'us-east-1' },
  { name: 'nemotron-super', model: 'bedrock/converse/nvidia.nemotron-super-3-120b', region: 'us-east-1' },
];

const look = [lookAtPng()];

test('vision models: Kimi K2.5 / K3, Ministral 3 and Nemotron Nano VL get a user image; Kimi K2 Thinking and Nemotron Super a 400 naming it', async () => {
  const h = await startHarness({ models: [...READS, ...TEXT_ONLY] });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const { name } of READS) {
      h.emu.script({ type: 'text', text: 'Red.' });
      const answer = await client.chat.completions.create({ model: name, messages: look });
      assert.equal(answer.choices[0]!.message.content, 'Red.', name);
      const content = (h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages[0]!
        .content;
      assert.deepEqual(content[1], { image: { format: 'png', source: { bytes: PNG_BASE64 } } }, name);
    }
    const before = h.emu.requests.length;
    for (const { name } of TEXT_ONLY) {
      await assert.rejects(client.chat.completions.create({ model: name, messages: look }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError && err.status === 400, `${name}: ${String(err)}`);
        assert.match(String((err.error as Record<string, unknown>).param), /^messages\[0\]\.content\[1\]/, name);
        return true;
      });
    }
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});
