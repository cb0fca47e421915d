// The emulator holds Claude's check of an image's bytes against its declared format (src/emulator/image-bytes.ts
// cites the reports): a PNG labelled image/jpeg is refused in Claude's words on InvokeModel, inside the model's
// errors on Converse, in a tool result too; bytes of no known format are left alone; other families are not held
// to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageFormatOf } from '../../src/emulator/image-bytes.ts';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');
const JPEG = Buffer.from('ffd8ffe000104a464946', 'hex').toString('base64');
const GIF = Buffer.from('GIF89a\x01\x00', 'latin1').toString('base64');
const WEBP = Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1').toString('base64');
const CLAUDE = encodeURIComponent('us.anthropic.claude-sonnet-4-5-20250929-v1:0');

test('emulator image bytes: the four formats are told from their first bytes, anything else is unknown', () => {
  assert.equal(imageFormatOf(PNG), 'png');
  assert.equal(imageFormatOf(JPEG), 'jpeg');
  assert.equal(imageFormatOf(GIF), 'gif');
  assert.equal(imageFormatOf(WEBP), 'webp');
  assert.equal(imageFormatOf(Buffer.from('00000100', 'hex').toString('base64')), undefined); // ICO
  assert.equal(imageFormatOf('AAAA'), undefined);
});

test('emulator image label: Claude on InvokeModel refuses a PNG labelled image/jpeg, in a tool result too', async () => {
  await withEmulator(async (emu) => {
    const image = (mediaType: string, data: string): unknown => ({
      type: 'image',
      source: { type: 'base64', media_type: mediaType, data },
    });
    const send = (content: unknown[]): Promise<{ status: number; body: Buffer }> =>
      post(emu.url, `/model/${CLAUDE}/invoke`, JSON.stringify({ ...claudeBody(), messages: [{ role: 'user', content }] }));
    const wrong = await send([{ type: 'text', text: 'look' }, image('image/jpeg', PNG)]);
    assert.equal(wrong.status, 400);
    assert.deepEqual(JSON.parse(wrong.body.toString()), {
      message:
        'messages.0.content.1.image.source.base64: The image was specified using the image/jpeg media type, but the image appears to be a image/png image',
    });
    const inResult = await post(
      emu.url,
      `/model/${CLAUDE}/invoke`,
      JSON.stringify({
        ...claudeBody(),
        messages: [
          { role: 'user', content: 'shoot' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [image('image/webp', JPEG)] }] },
        ],
        tools: [{ name: 'shot', input_schema: { type: 'object' } }],
      }),
    );
    assert.equal(inResult.status, 400);
    assert.match(JSON.parse(inResult.body.toString()).message, /image\/webp media type, but the image appears to be a image\/jpeg image$/);
    for (const [label, data] of [
      ['image/png', PNG],
      ['image/gif', GIF],
      ['image/png', 'AAAA'],
    ] as const) {
      const ok = await send([{ type: 'text', text: 'look' }, image(label, data)]);
      assert.equal(ok.status, 200, `${label}: ${ok.body.toString()}`);
    }
  });
});

test('emulator image label: Converse says it inside the model errors for Claude; Nova is not held to it', async () => {
  await withEmulator(async (emu) => {
    const body = (format: string, bytes: string): string =>
      JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'look' }, { image: { format, source: { bytes } } }] }] });
    const wrong = await post(emu.url, `/model/${CLAUDE}/converse`, body('png', WEBP));
    assert.equal(wrong.status, 400);
    assert.deepEqual(JSON.parse(wrong.body.toString()), {
      message:
        'The model returned the following errors: messages.0.content.1.image.source.base64: The image was specified using the image/png media type, but the image appears to be a image/webp image',
    });
    assert.equal((await post(emu.url, `/model/${CLAUDE}/converse`, body('webp', WEBP))).status, 200);
    const nova = encodeURIComponent('us.amazon.nova-pro-v1:0');
    assert.equal((await post(emu.url, `/model/${nova}/converse`, body('png', WEBP))).status, 200);
  });
});
