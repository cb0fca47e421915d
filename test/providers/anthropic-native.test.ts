/** Claude's own Messages body as Bedrock's InvokeModel is sent it (src/providers/anthropic-native.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeMessagesBody } from '../../src/providers/anthropic-native.ts';
import { targetFor } from './helpers.ts';

test('anthropic-native: neighbouring messages of one role merge in linear time (60,000 one-line turns, system reminders among them)', () => {
  // Claude takes alternating roles, so neighbours merge; each merge copied the list so far (quadratic): 20,000
  // such turns, a 0.6 MB body, held the event loop for 10 s, and 60,000 for minutes.
  const n = 60_000;
  const messages = Array.from({ length: n }, (_, i) =>
    i % 3 === 1 ? { role: 'system', content: `s${i}` } : { role: 'user', content: `u${i}` },
  );
  const target = targetFor({ route: 'invoke', modelId: 'anthropic.claude-opus-4-6-v1' });
  const started = performance.now();
  const body = nativeMessagesBody(
    { body: { max_tokens: 16, messages }, betas: [], messages: [] },
    {
      model: 'opus',
      stream: false,
      messages: [],
      params: { max_tokens: 16 },
      sidecar: { streamChunkSize: undefined, guardrails: [], includeUsage: false },
    },
    { target, note: () => undefined },
  );
  const ms = performance.now() - started;
  const sent = body.messages as Array<{ role: string; content: Array<{ text: string }> }>;
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.content.length, n);
  assert.deepEqual(
    sent[0]!.content.slice(0, 3).map((b) => b.text),
    ['u0', '<system-reminder>\ns1\n</system-reminder>', 'u2'],
  );
  assert.equal(sent[0]!.content.at(-1)!.text, `u${n - 1}`);
  // Linear: tens of milliseconds here; the quadratic copy took minutes. The bound leaves room for a loaded machine.
  assert.ok(ms < 5000, `${Math.round(ms)} ms`);
});
