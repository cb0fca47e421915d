// A history as clients hand it back: a model's whitespace before its tool call (Claude streams "\n\n" ahead
// of a tool_use) returns as the assistant turn's text. Bedrock's Converse refuses a blank text block ("The
// text field in the ContentBlock object … is blank"), Claude on invoke a whitespace-only one ("text content
// blocks must contain non-whitespace text"), and every later turn of the conversation would fail; the
// emulator holds both rules. The sidecar leaves whitespace-only assistant text out on both routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
];

const TOOLS = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];

test('history: whitespace-only assistant text before a tool call is left out on converse and invoke (Bedrock and Claude refuse it)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    for (const model of ['claude-converse', 'claude-invoke']) {
      h.emu.script({ type: 'text', text: 'done' });
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({
          model,
          tools: TOOLS,
          messages: [
            { role: 'user', content: 'look it up' },
            {
              role: 'assistant',
              content: '\n\n',
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'call_1', content: 'found' },
          ],
        }),
      });
      assert.equal(res.status, 200, `${model}: ${await res.clone().text()}`);
      const sent = h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> };
      const assistant = sent.messages[1]!.content;
      assert.ok(
        assistant.every((block) => !('text' in block)),
        `${model}: ${JSON.stringify(assistant)}`,
      );
    }
  } finally {
    await h.close();
  }
});

test('history: an assistant turn of reasoning alone is left out — Claude 5 refuses it anywhere in a Converse conversation', async () => {
  const h = await startHarness({
    models: [{ name: 'sonnet5', model: 'bedrock/converse/global.anthropic.claude-sonnet-5', region: 'us-east-1' }],
  });
  try {
    h.emu.script({ type: 'text', text: 'here it is' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'sonnet5',
        max_tokens: 200,
        messages: [
          { role: 'user', content: 'think about it' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'Let me see…', signature: 'c2lnbmF0dXJl' }] },
          { role: 'user', content: 'and now answer' },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = h.emu.requests.at(-1)!.json as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ['user'],
    );
    assert.deepEqual(sent.messages[0]!.content, [{ text: 'think about it' }, { text: 'and now answer' }]);
  } finally {
    await h.close();
  }
});
