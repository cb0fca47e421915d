// Reasoning handed back to a model that reads none (docs/contract.md#request-rules): Claude's signed and
// redacted thinking in a conversation that moves to Nova, DeepSeek R1 or Kimi — a client's model switch, or a
// fallback — is left out of the body, since those models refuse any reasoningContent (the emulator holds that:
// src/emulator/reasoning-history.ts). To Claude it still goes, signed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
const OTHERS = [
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', region: 'us-east-1' },
  { name: 'r1', model: 'bedrock/converse/us.deepseek.r1-v1:0', region: 'us-east-1' },
  { name: 'kimi', model: 'bedrock/converse/moonshot.kimi-k2-thinking', region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;
const blocksOf = (body: Json): Json[] => (body.messages as Array<{ content: Json[] }>).flatMap((m) => m.content);

// A Claude Code conversation: Claude thought (signed, and once redacted) and answered; the next question follows.
const messages: Anthropic.MessageParam[] = [
  { role: 'user', content: 'What is 2+2?' },
  {
    role: 'assistant',
    content: [
      { type: 'thinking', thinking: 'Add them.', signature: 'c2lnbmVkLWJ5LWNsYXVkZQ==' },
      { type: 'redacted_thinking', data: 'ZW5jcnlwdGVk' },
      { type: 'text', text: '4.' },
    ],
  },
  { role: 'user', content: 'Times ten?' },
];

test('reasoning history: Claude thinking in a conversation moved to Nova, DeepSeek R1 or Kimi is left out, and they answer', async () => {
  const h = await startHarness({ models: [CLAUDE, ...OTHERS] });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const { name } of OTHERS) {
      h.emu.script({ type: 'text', text: '40.' });
      const answer = await client.messages.create({ model: name, max_tokens: 100, messages });
      assert.deepEqual(answer.content, [{ type: 'text', text: '40.' }], name);
      const blocks = blocksOf(sent(h));
      assert.ok(!blocks.some((b) => 'reasoningContent' in b), `${name}: no reasoning sent`);
      assert.ok(
        blocks.some((b) => b.text === '4.'),
        `${name}: the answer itself is kept`,
      );
      assert.ok(
        h.logs.some((l) => l.model === name && String(l.msg).includes('reasoning handed back left out')),
        name,
      );
    }
    // Claude gets its thinking back, signed and redacted, as before.
    h.emu.script({ type: 'text', text: '40.' });
    await client.messages.create({ model: 'claude', max_tokens: 100, messages });
    const reasoning = blocksOf(sent(h)).filter((b) => 'reasoningContent' in b);
    assert.deepEqual(reasoning, [
      { reasoningContent: { reasoningText: { text: 'Add them.', signature: 'c2lnbmVkLWJ5LWNsYXVkZQ==' } } },
      { reasoningContent: { redactedContent: Buffer.from('ZW5jcnlwdGVk').toString('base64') } },
    ]);
  } finally {
    await h.close();
  }
});

test('reasoning history: a throttled Claude falls back to Nova with the thinking left out, and Nova answers', async () => {
  const h = await startHarness({
    upstream: { max_attempts: 1 },
    models: [{ ...CLAUDE, fallbacks: ['nova'] }, OTHERS[0]],
  });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({
      type: 'error',
      status: 429,
      errorType: 'ThrottlingException',
      message: 'Too many requests, please wait before trying again.',
    });
    h.emu.script({ type: 'text', text: '40.' });
    const { data: answer, response } = await client.messages.create({ model: 'claude', max_tokens: 100, messages }).withResponse();
    assert.equal(response.headers.get('x-sidecar-served-by'), 'nova');
    assert.deepEqual(answer.content, [{ type: 'text', text: '40.' }]);
    const [first, second] = h.emu.requests.slice(-2).map((r) => JSON.parse(r.body.toString('utf8')) as Json);
    assert.ok(
      blocksOf(first!).some((b) => 'reasoningContent' in b),
      'Claude was sent its thinking',
    );
    assert.ok(!blocksOf(second!).some((b) => 'reasoningContent' in b), 'Nova was not');
  } finally {
    await h.close();
  }
});
