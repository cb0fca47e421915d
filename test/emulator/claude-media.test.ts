// The emulator holds Claude's limit of 20 images and documents in one request before Claude 4.5, as Bedrock
// refuses more (src/emulator/families/anthropic.ts cites the reports): on InvokeModel in Claude's words, on
// Converse inside "The model returned the following errors", tool results' images counted too; Claude 4.5
// and later take more, and so does any other family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');

function invokeBody(images: number, inToolResult = 0): Record<string, unknown> {
  const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } };
  const body = claudeBody('look');
  const messages: unknown[] = [];
  if (inToolResult > 0) {
    messages.push({ role: 'user', content: [{ type: 'text', text: 'shoot' }] });
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }] });
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't1', content: Array.from({ length: inToolResult }, () => image) }],
    });
    messages.push({ role: 'assistant', content: [{ type: 'text', text: 'seen' }] });
  }
  messages.push({ role: 'user', content: [...Array.from({ length: images }, () => image), { type: 'text', text: 'look' }] });
  return { ...body, messages, tools: [{ name: 'shot', input_schema: { type: 'object' } }] };
}

function converseBody(images: number, documents: number): Record<string, unknown> {
  const content: unknown[] = Array.from({ length: images }, () => ({ image: { format: 'png', source: { bytes: PNG } } }));
  for (let i = 0; i < documents; i++) content.push({ document: { format: 'txt', name: `doc ${i}`, source: { bytes: PNG } } });
  content.push({ text: 'look' });
  return { messages: [{ role: 'user', content }] };
}

test('emulator Claude media limit: InvokeModel refuses a 21st image before Claude 4.5, tool results counted', async () => {
  await withEmulator(async (emu) => {
    const sonnet4 = encodeURIComponent('us.anthropic.claude-sonnet-4-20250514-v1:0');
    const ok = await post(emu.url, `/model/${sonnet4}/invoke`, JSON.stringify(invokeBody(20)));
    assert.equal(ok.status, 200, ok.body.toString());
    const tooMany = await post(emu.url, `/model/${sonnet4}/invoke`, JSON.stringify(invokeBody(21)));
    assert.equal(tooMany.status, 400);
    assert.deepEqual(JSON.parse(tooMany.body.toString()), { message: 'too many images and documents: 21 + 0 > 20' });
    const withResults = await post(emu.url, `/model/${sonnet4}/invoke`, JSON.stringify(invokeBody(15, 6)));
    assert.equal(withResults.status, 400);
    assert.deepEqual(JSON.parse(withResults.body.toString()), { message: 'too many images and documents: 21 + 0 > 20' });
    const sonnet5 = encodeURIComponent('global.anthropic.claude-sonnet-5');
    const newer = await post(emu.url, `/model/${sonnet5}/invoke`, JSON.stringify(invokeBody(29)));
    assert.equal(newer.status, 200, newer.body.toString());
  });
});

test('emulator Claude media limit: Converse counts images and documents together, in the model errors', async () => {
  await withEmulator(async (emu) => {
    const claude37 = encodeURIComponent('us.anthropic.claude-3-7-sonnet-20250219-v1:0');
    const ok = await post(emu.url, `/model/${claude37}/converse`, JSON.stringify(converseBody(16, 4)));
    assert.equal(ok.status, 200, ok.body.toString());
    const tooMany = await post(emu.url, `/model/${claude37}/converse`, JSON.stringify(converseBody(19, 5)));
    assert.equal(tooMany.status, 400);
    assert.deepEqual(JSON.parse(tooMany.body.toString()), {
      message: 'The model returned the following errors: too many images and documents: 19 + 5 > 20',
    });
    const opus46 = encodeURIComponent('us.anthropic.claude-opus-4-6-v1');
    assert.equal((await post(emu.url, `/model/${opus46}/converse`, JSON.stringify(converseBody(25, 0)))).status, 200);
    const nova = encodeURIComponent('us.amazon.nova-pro-v1:0');
    assert.equal((await post(emu.url, `/model/${nova}/converse`, JSON.stringify(converseBody(21, 0)))).status, 200);
  });
});
