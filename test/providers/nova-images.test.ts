/**
 * Nova Micro reads no images (ListFoundationModels: text only); Lite, Pro and Nova 2 Lite do. An image for Micro is
 * the sidecar's 400 naming the part on both routes, before any call, as for every text-only model; the others get it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, withHarness } from '../helpers/harness.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const MODELS = [
  { name: 'micro-invoke', model: 'bedrock/invoke/us.amazon.nova-micro-v1:0', region: 'us-east-1' },
  { name: 'micro-converse', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1' },
  { name: 'lite-invoke', model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', region: 'us-east-1' },
  { name: 'lite-converse', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' },
];

/** A question with a picture in it, to `model`. */
function ask(url: string, model: string): Promise<Response> {
  const content = [
    { type: 'text', text: 'What is in this picture?' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
  ];
  return chat(url, { model, messages: [{ role: 'user', content }] });
}

test('nova images: Micro is refused the image on invoke and converse, naming the part, before any call', () =>
  withHarness({ models: MODELS }, async (h) => {
    for (const model of ['micro-invoke', 'micro-converse']) {
      const res = await ask(h.url, model);
      const body = (await res.json()) as { error: { message: string; param: string } };
      assert.equal(res.status, 400, model);
      assert.match(body.error.message, /^messages\[0\]\.content\[1\]: .*takes no images/, model);
      assert.equal(body.error.param, 'messages[0].content[1]', model);
    }
    assert.equal(h.emu.requests.length, 0, 'Bedrock was not called');
  }));

test('nova images: Lite is sent the image on invoke and converse', () =>
  withHarness({ models: MODELS }, async (h) => {
    for (const model of ['lite-invoke', 'lite-converse']) {
      h.emu.script({ type: 'text', text: 'a pixel' });
      const res = await ask(h.url, model);
      assert.equal(res.status, 200, `${model}: ${await res.clone().text()}`);
      assert.match(h.emu.requests.at(-1)!.body.toString(), /"image":\{"format":"png","source":\{"bytes":"/, model);
    }
  }));
