/**
 * Claude's compaction and context management in the invoke stream mapper and the whole-answer parser
 * (src/providers/anthropic.ts): a `compaction` block becomes one `compaction` event at its stop, whether its summary
 * came in the one `compaction_delta` Anthropic sends or already in the start; `usage.iterations` and
 * `context_management` are kept as Claude wrote them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adapterFor } from '../../src/providers/index.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';

const adapter = adapterFor('invoke', 'anthropic')!;
const ITERATIONS = [
  { type: 'compaction', input_tokens: 180000, output_tokens: 3500 },
  { type: 'message', input_tokens: 23000, output_tokens: 1000 },
];
const APPLIED = { applied_edits: [{ type: 'compact_20260112' }] };

function mapped(events: Array<Record<string, unknown>>): StreamEvent[] {
  const mapper = adapter.createStreamMapper();
  return events.flatMap((event) => mapper.push(event));
}

test('stream mapper: a compaction block is one compaction event at its stop, summary and encrypted content whole', () => {
  const out = mapped([
    { type: 'message_start', message: { usage: { input_tokens: 23000, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: null } },
    { type: 'content_block_delta', index: 0, delta: { type: 'compaction_delta', content: 'Summary.', encrypted_content: 'ZW5j' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } },
    { type: 'content_block_stop', index: 1 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 1000, iterations: ITERATIONS },
      context_management: APPLIED,
    },
    { type: 'message_stop' },
  ]);
  assert.deepEqual(out.slice(1, 3), [
    { kind: 'compaction', content: 'Summary.', encryptedContent: 'ZW5j' },
    { kind: 'text', text: 'Hi' },
  ]);
  assert.deepEqual(out[3], { kind: 'context_management', value: APPLIED });
  assert.equal(out[4]!.kind, 'finish');
  const usage = out[5]!;
  assert.ok(usage.kind === 'usage');
  assert.deepEqual(usage.usage.iterations, ITERATIONS);
});

test('stream mapper: a compaction whose start carries the summary (no delta) and a pause stop', () => {
  const out = mapped([
    { type: 'message_start', message: { usage: { input_tokens: 10 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: 'Whole.', encrypted_content: 'eA==' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'compaction' }, usage: { output_tokens: 5 } },
    { type: 'message_stop' },
  ]);
  assert.deepEqual(out[1], { kind: 'compaction', content: 'Whole.', encryptedContent: 'eA==' });
  assert.deepEqual(out[2], { kind: 'finish', reason: 'stop', upstreamReason: 'compaction' });
});

test('whole answer: compaction block, context_management and usage.iterations are read', () => {
  const events = adapter.parseResponse(
    {
      content: [
        { type: 'compaction', content: null, encrypted_content: null },
        { type: 'text', text: 'Hi' },
      ],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2, iterations: ITERATIONS },
      context_management: APPLIED,
    },
    {},
  );
  assert.deepEqual(events.slice(0, 3), [
    { kind: 'compaction', content: null, encryptedContent: null },
    { kind: 'text', text: 'Hi' },
    { kind: 'context_management', value: APPLIED },
  ]);
  const usage = events.find((e) => e.kind === 'usage');
  assert.ok(usage?.kind === 'usage');
  assert.deepEqual(usage.usage.iterations, ITERATIONS);
});
