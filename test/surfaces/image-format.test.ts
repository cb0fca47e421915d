// An image goes with the format its bytes are (docs/contract.md#request-rules): Claude on Bedrock refuses a PNG
// labelled image/jpeg (the emulator holds the rule: src/emulator/image-bytes.ts), and clients label by file name.
// A screenshot Claude Code's Read tool read from a .jpg that is a PNG reaches Claude as image/png — in Claude's
// own body on invoke and as a Converse image on converse — and so does a Chat Completions data URL; a debug line
// says so. Bytes of no known format go as labelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
];

/** Claude Code's Read tool on `shot.jpg`, whose bytes are a PNG. */
function readScreenshot(data = PNG_BASE64): Record<string, unknown> {
  return {
    max_tokens: 100,
    tools: [{ name: 'Read', input_schema: { type: 'object', properties: {} } }],
    messages: [
      { role: 'user', content: 'what is in shot.jpg?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: 'shot.jpg' } }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_1',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data } }],
          },
        ],
      },
    ],
  };
}

async function send(h: Harness, path: string, body: Record<string, unknown>): Promise<string> {
  h.emu.script({ type: 'text', text: 'a login form' });
  const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.ok(text.includes('a login form'), text);
  return h.emu.requests.at(-1)!.body.toString('utf8');
}

test('image format: a PNG Claude Code read from a .jpg reaches Claude as image/png, on invoke and converse', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const invoke = JSON.parse(await send(h, '/v1/messages', { model: 'claude-invoke', ...readScreenshot() })) as {
      messages: Array<{ content: Array<{ content?: Array<{ source: unknown }> }> }>;
    };
    assert.deepEqual(invoke.messages[2]!.content[0]!.content![0]!.source, { type: 'base64', media_type: 'image/png', data: PNG_BASE64 });
    assert.ok(
      h.logs.some((l) => String(l.msg).includes('an image labelled image/jpeg is png: sent as image/png')),
      'the relabel is logged',
    );
    const converse = await send(h, '/v1/messages', { model: 'claude-converse', ...readScreenshot() });
    assert.ok(converse.includes(JSON.stringify({ image: { format: 'png', source: { bytes: PNG_BASE64 } } })), converse);
  } finally {
    await h.close();
  }
});

test('image format: a Chat Completions data URL is sent as its bytes are; unknown bytes go as labelled', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const chatBody = (url: string): Record<string, unknown> => ({
      model: 'claude-converse',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    const sent = await send(h, '/v1/chat/completions', chatBody(`data:image/webp;base64,${PNG_BASE64}`));
    assert.ok(sent.includes(JSON.stringify({ image: { format: 'png', source: { bytes: PNG_BASE64 } } })), sent);
    const unknown = Buffer.from('not an image at all').toString('base64');
    const asIs = await send(h, '/v1/chat/completions', chatBody(`data:image/gif;base64,${unknown}`));
    assert.ok(asIs.includes(JSON.stringify({ image: { format: 'gif', source: { bytes: unknown } } })), asIs);
  } finally {
    await h.close();
  }
});
