// A Messages `tool_result` with an image and `is_error` (what Claude Code sends when a tool fails or reads
// a screenshot) to converse targets (docs/contract.md#anthropic-messages): Claude and Nova, which Bedrock lets
// read them, get the image as toolResult content and `status: "error"`; another family (Llama) gets no status
// and no image, the result's text (a line saying what it held, when it was the image alone), and a log line
// naming each drop — never a 400, since Claude Code cannot be configured. The emulator records the exact
// Converse body each target was sent (and validates it as Bedrock would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { FAILED_SCREENSHOT_RESULT, failedScreenshot } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
];

function body(model: string, stream: boolean): Record<string, unknown> {
  return { model, max_tokens: 100, stream, ...failedScreenshot() };
}

async function send(h: Harness, model: string, stream = false): Promise<unknown> {
  h.emu.script({ type: 'text', text: 'a login form' });
  const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', body: JSON.stringify(body(model, stream)) });
  const text = await res.text();
  assert.equal(res.status, 200, `${model}: ${text}`);
  assert.ok(text.includes('a login form'), model);
  const upstream = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { messages: Array<{ content: unknown[] }> };
  return upstream.messages[2]!.content;
}

test('messages tool_result: image and is_error reach Claude and Nova on converse as toolResult content and status: error', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    for (const model of ['claude-converse', 'nova']) {
      assert.deepEqual(await send(h, model), [FAILED_SCREENSHOT_RESULT], model);
    }
  } finally {
    await h.close();
  }
});

test('messages tool_result: to Llama on converse the status and image are dropped and logged, the text goes on (no 400)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    for (const stream of [false, true]) {
      const logged = h.logs.length;
      assert.deepEqual(await send(h, 'llama', stream), [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: 'partial capture' }] } }]);
      const lines = h.logs.slice(logged).map((l) => String(l.msg));
      assert.ok(
        lines.some((l) =>
          l.includes('messages[2].content[0].content[1]: meta on the converse route takes no images in a tool result (toolu_1): dropped'),
        ),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((l) =>
          l.includes('messages[2].content[0]: meta on the converse route takes no error status in a tool result (toolu_1): dropped'),
        ),
        lines.join('\n'),
      );
    }
  } finally {
    await h.close();
  }
});

test('messages tool_result: a failure with no content (is_error, content omitted or blank) says `error` on converse — Bedrock refuses an empty error result', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    for (const content of [undefined, '', [], [{ type: 'text', text: ' ' }]]) {
      const messages = failedScreenshot().messages;
      const result = { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, ...(content === undefined ? {} : { content }) };
      messages[2] = { role: 'user', content: [result] };
      h.emu.script({ type: 'text', text: 'the tool failed' });
      const res = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ model: 'claude-converse', max_tokens: 100, tools: failedScreenshot().tools, messages }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `${JSON.stringify(content)}: ${text}`);
      const upstream = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { messages: Array<{ content: unknown[] }> };
      assert.deepEqual(upstream.messages[2]!.content, [
        { toolResult: { toolUseId: 'toolu_1', content: [{ text: 'error' }], status: 'error' } },
      ]);
    }
  } finally {
    await h.close();
  }
});

test('messages tool_result: a result that was an image alone says so to Llama, never a blank result Bedrock refuses', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const conversation = failedScreenshot();
    const turn = conversation.messages[2] as { content: Array<{ is_error?: boolean; content: unknown[] }> };
    turn.content[0]!.is_error = false;
    turn.content[0]!.content = turn.content[0]!.content.filter((part) => (part as { type: string }).type === 'image');
    h.emu.script({ type: 'text', text: 'a login form' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama', max_tokens: 100, ...conversation }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const upstream = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(upstream.messages[2]!.content, [
      { toolResult: { toolUseId: 'toolu_1', content: [{ text: '(the tool returned an image, which this model cannot read)' }] } },
    ]);
  } finally {
    await h.close();
  }
});
