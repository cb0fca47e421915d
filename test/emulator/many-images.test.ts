// The emulator holds Claude's many-image cap from Claude 4.5 on (src/emulator/families/anthropic.ts cites the
// reports): more than 20 images in one request take none larger than 2000 px on a side — on InvokeModel in
// Claude's words with the image's path, on Converse inside the model's errors; 20 images, or 2000 px, are taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageSizeOf } from '../../src/emulator/image-bytes.ts';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

/** A PNG's signature and IHDR: all a size reader needs. */
function png(width: number, height: number): string {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), ihdr]).toString('base64');
}

test('emulator image sizes: PNG, JPEG (past an APP0 segment), GIF and WebP headers', () => {
  assert.deepEqual(imageSizeOf(png(2550, 3301)), { width: 2550, height: 3301 });
  const jpeg = Buffer.from('ffd8ffe000104a46494600010100000100010000ffc0001108' + '0ce4' + '09f6' + '03012200', 'hex');
  assert.deepEqual(imageSizeOf(jpeg.toString('base64')), { width: 0x09f6, height: 0x0ce4 });
  const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0x10, 0x27, 0xd0, 0x07])]);
  assert.deepEqual(imageSizeOf(gif.toString('base64')), { width: 10000, height: 2000 });
  const webp = Buffer.alloc(30);
  webp.write('RIFF', 0, 'latin1');
  webp.write('WEBPVP8X', 8, 'latin1');
  webp.writeUIntLE(2999, 24, 3);
  webp.writeUIntLE(1999, 27, 3);
  assert.deepEqual(imageSizeOf(webp.toString('base64')), { width: 3000, height: 2000 });
  assert.equal(imageSizeOf('AAAA'), undefined);
});

const SONNET5 = encodeURIComponent('global.anthropic.claude-sonnet-5');
const TOO_BIG = 'At least one of the image dimensions exceed max allowed size for many-image requests: 2000 pixels';

function invokeBody(images: string[]): string {
  const content = images.map((data) => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }));
  return JSON.stringify({ ...claudeBody(), messages: [{ role: 'user', content: [...content, { type: 'text', text: 'read' }] }] });
}

function converseBody(images: string[]): string {
  const content = images.map((bytes) => ({ image: { format: 'png', source: { bytes } } }));
  return JSON.stringify({ messages: [{ role: 'user', content: [...content, { text: 'read' }] }] });
}

test('emulator many-image cap: Claude 5 takes 29 images at 2000 px, refuses one at 2001 px, takes it among 20', async () => {
  await withEmulator(async (emu) => {
    const pages = (n: number, side: number): string[] => Array.from({ length: n }, () => png(side - 450, side));
    assert.equal((await post(emu.url, `/model/${SONNET5}/invoke`, invokeBody(pages(29, 2000)))).status, 200);
    const over = await post(emu.url, `/model/${SONNET5}/invoke`, invokeBody([...pages(28, 2000), png(1500, 2001)]));
    assert.equal(over.status, 400);
    assert.deepEqual(JSON.parse(over.body.toString()), { message: `messages.0.content.28.image.source.base64.data: ${TOO_BIG}` });
    assert.equal((await post(emu.url, `/model/${SONNET5}/invoke`, invokeBody(pages(20, 3301)))).status, 200);

    const converse = await post(emu.url, `/model/${SONNET5}/converse`, converseBody([png(2550, 3301), ...pages(20, 2000)]));
    assert.equal(converse.status, 400);
    assert.deepEqual(JSON.parse(converse.body.toString()), {
      message: `The model returned the following errors: messages.0.content.0.image.source.bytes: ${TOO_BIG}`,
    });
  });
});
