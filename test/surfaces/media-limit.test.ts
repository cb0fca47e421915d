// Claude before 4.5 takes at most 20 images and documents in one request on Bedrock (the emulator holds the
// rule: src/emulator/families/anthropic.ts). A Claude Code session that has read its 21st screenshot must go on
// working (docs/contract.md#request-rules): the oldest images are left out, each replaced by a line saying so,
// the latest turn is sent whole — on Claude's own Messages body (invoke) and on the neutral reading (converse,
// Chat Completions); the latest turn alone over the limit is a 400 naming messages; a newer Claude is sent
// every image, unless one of more than 20 is larger than 2000 px (its many-image cap): then the oldest go too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0', region: 'us-east-1' },
  { name: 'claude-46', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-6', region: 'us-east-1' },
  { name: 'claude-5', model: 'bedrock/invoke/global.anthropic.claude-sonnet-5', region: 'us-east-1' },
];
const OMITTED = '[an earlier image was left out: this model takes at most 20 images and documents in one request]';
const IMAGE = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } };

/** A Claude Code session: `turns` screenshots read by a tool, two images each, then one more in the latest result. */
function session(turns: number, latest = 1): { tools: unknown[]; messages: unknown[] } {
  const messages: unknown[] = [{ role: 'user', content: 'check the page' }];
  for (let t = 0; t <= turns; t++) {
    const id = `toolu_${t}`;
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id, name: 'screenshot', input: {} }] });
    const images = t === turns ? latest : 2;
    messages.push({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: `shot ${t}` }, ...Array(images).fill(IMAGE)] }],
    });
  }
  return { tools: [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }], messages };
}

async function messages(h: Harness, model: string, conversation: object): Promise<Response> {
  h.emu.script({ type: 'text', text: 'the page is fine' });
  return fetch(`${h.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model, max_tokens: 100, ...conversation }) });
}

function upstreamBody(h: Harness): string {
  return h.emu.requests.at(-1)!.body.toString('utf8');
}

const count = (text: string, what: string): number => text.split(what).length - 1;

test("media limit: a Claude Code session past 20 screenshots goes on, the oldest left out of Claude 4's own body (invoke)", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const res = await messages(h, 'claude-invoke', session(11));
    assert.equal(res.status, 200, await res.clone().text());
    const sent = JSON.parse(upstreamBody(h)) as { messages: Array<{ content: Array<{ content?: unknown[] }> }> };
    const text = JSON.stringify(sent);
    assert.equal(count(text, PNG_BASE64), 20);
    assert.equal(count(text, OMITTED), 3);
    // The oldest result lost both images, the next one its first; the latest result is whole.
    assert.deepEqual(sent.messages[2]!.content[0]!.content, [
      { type: 'text', text: 'shot 0' },
      { type: 'text', text: OMITTED },
      { type: 'text', text: OMITTED },
    ]);
    assert.deepEqual(sent.messages[4]!.content[0]!.content, [{ type: 'text', text: 'shot 1' }, { type: 'text', text: OMITTED }, IMAGE]);
    assert.deepEqual(sent.messages.at(-1)!.content[0]!.content, [{ type: 'text', text: 'shot 11' }, IMAGE]);
    assert.ok(
      h.logs.some((l) => String(l.msg).includes('3 of the oldest images and documents left out')),
      'the omission is logged',
    );
  } finally {
    await h.close();
  }
});

test('media limit: on converse the neutral reading is held to it too (Claude 3.7), and a newer Claude gets every image', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const res = await messages(h, 'claude-converse', session(11));
    assert.equal(res.status, 200, await res.clone().text());
    const text = upstreamBody(h);
    assert.equal(count(text, PNG_BASE64), 20);
    assert.equal(count(text, OMITTED), 3);
    const newer = await messages(h, 'claude-46', session(11));
    assert.equal(newer.status, 200, await newer.clone().text());
    assert.equal(count(upstreamBody(h), PNG_BASE64), 23);
  } finally {
    await h.close();
  }
});

test('media limit: Chat Completions history images are left out the same way; the latest turn alone over the limit is a 400 naming messages', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const url = `data:image/png;base64,${PNG_BASE64}`;
    const user = (images: number): unknown => ({
      role: 'user',
      content: [{ type: 'text', text: 'look' }, ...Array.from({ length: images }, () => ({ type: 'image_url', image_url: { url } }))],
    });
    const chatBody = (history: number, latest: number): string =>
      JSON.stringify({
        model: 'claude-converse',
        messages: [user(history), { role: 'assistant', content: 'seen' }, user(latest)],
      });
    h.emu.script({ type: 'text', text: 'fine' });
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', body: chatBody(15, 8) });
    assert.equal(res.status, 200, await res.clone().text());
    const text = upstreamBody(h);
    assert.equal(count(text, PNG_BASE64), 20);
    assert.equal(count(text, OMITTED), 3);

    const before = h.emu.requests.length;
    const tooMany = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', body: chatBody(1, 21) });
    assert.equal(tooMany.status, 400);
    const error = ((await tooMany.json()) as { error: { message: string; param: string } }).error;
    assert.equal(error.param, 'messages');
    assert.match(error.message, /the latest turn carries 21 images and documents; .* takes at most 20 images and documents in one request/);
    assert.equal(h.emu.requests.length, before, 'never sent to Bedrock');
  } finally {
    await h.close();
  }
});

/** A PNG's signature and IHDR of the given size: what Bedrock's size check and ours read. */
function png(width: number, height: number): string {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), ihdr]).toString('base64');
}

test('media limit: past 20 images one retina screenshot (2880 px) makes Claude 5 leave out the oldest, on invoke and converse', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const retina = png(2880, 1800);
    const withShots = (data: string): { tools: unknown[]; messages: unknown[] } =>
      JSON.parse(JSON.stringify(session(10, 2)).replaceAll(PNG_BASE64, data)) as { tools: unknown[]; messages: unknown[] };
    const res = await messages(h, 'claude-5', withShots(retina));
    assert.equal(res.status, 200, await res.clone().text());
    const text = upstreamBody(h);
    assert.equal(count(text, retina), 20);
    assert.equal(
      count(text, '[an earlier image was left out: this model takes at most 20 images in one request when one is larger than 2000 px]'),
      2,
    );
    const converse = await messages(h, 'claude-46', withShots(retina));
    assert.equal(converse.status, 200, await converse.clone().text());
    assert.equal(count(upstreamBody(h), retina), 20);
    // All at 2000 px or less: every one goes.
    const small = await messages(h, 'claude-5', withShots(png(2000, 1250)));
    assert.equal(small.status, 200, await small.clone().text());
    assert.equal(count(upstreamBody(h), png(2000, 1250)), 22);
  } finally {
    await h.close();
  }
});
