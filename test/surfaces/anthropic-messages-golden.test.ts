/**
 * Golden SSE of the Anthropic Messages surface: recordings of real Claude streams on invoke
 * (test/fixtures/real-traffic/) through the decoder, the normaliser with Claude's mapper, the re-chunker and
 * the encoder with the Messages renderer — fed whole, one byte at a time and at seeded random splits — must
 * render the same bytes as the golden file (test/fixtures/anthropic-messages/). Update with UPDATE_GOLDENS=1.
 * Plus the renderer alone on the events only Messages shows (signed and redacted thinking, tools, errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { SidecarError } from '../../src/errors.ts';
import { EncoderStage } from '../../src/pipeline/encoder.ts';
import { EventStreamDecoder } from '../../src/pipeline/event-stream-decoder.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { BedrockEventNormalizer, NormalizerStage } from '../../src/pipeline/normalizer.ts';
import { RechunkerStage } from '../../src/pipeline/rechunker.ts';
import { anthropicInvoke } from '../../src/providers/anthropic.ts';
import { MessagesRenderer } from '../../src/surfaces/anthropic-messages/renderer.ts';
import { expectGolden } from '../helpers/golden.ts';
import { seeded } from '../helpers/streams.ts';

const GOLDEN = new URL('../fixtures/anthropic-messages/', import.meta.url).pathname;
const REAL = new URL('../fixtures/real-traffic/', import.meta.url).pathname;
const META = { id: 'msg_golden', created: 1_700_000_000, model: 'claude' };

function golden(name: string, actual: string): void {
  expectGolden(join(GOLDEN, name), actual);
}

async function render(bytes: Buffer, pieces: Buffer[]): Promise<string> {
  assert.equal(Buffer.concat(pieces).length, bytes.length);
  let out = '';
  const encoder = new EncoderStage({ renderer: new MessagesRenderer(META), heartbeatMs: 0 });
  await pipeline(
    Readable.from(pieces, { objectMode: true }),
    new EventStreamDecoder(),
    new NormalizerStage(new BedrockEventNormalizer('invoke', anthropicInvoke.createStreamMapper())),
    new RechunkerStage({ chunkSizeBytes: 16, maxHoldMs: 60_000 }),
    encoder,
    new Writable({
      write(chunk, _e, cb) {
        out += String(chunk);
        cb();
      },
    }),
  );
  return out;
}

function splits(bytes: Buffer, random: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(random() * 64);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

for (const id of ['is-anthropic-claude35-sonnet-text', 'is-anthropic-claude35-sonnet-after-tool']) {
  test(`messages golden ${id}: whole, byte by byte and random splits render the golden SSE`, async () => {
    const bytes = readFileSync(join(REAL, `${id}.eventstream`));
    const whole = await render(bytes, [bytes]);
    golden(`${id}.sse`, whole);
    assert.equal(
      await render(
        bytes,
        [...bytes].map((b) => Buffer.from([b])),
      ),
      whole,
      'byte by byte',
    );
    const random = seeded(0x5eed);
    for (let i = 0; i < 5; i++) assert.equal(await render(bytes, splits(bytes, random)), whole, `random splits #${i}`);
  });
}

function renderEvents(batches: ReadonlyArray<readonly StreamEvent[]>): string {
  const renderer = new MessagesRenderer(META);
  let out = renderer.start();
  for (const batch of batches) out += renderer.push(batch);
  out += renderer.end();
  assert.ok(renderer.finished);
  return out;
}

test('messages golden: signed thinking, redacted thinking, text and a tool call, in any batching', () => {
  const events: StreamEvent[] = [
    { kind: 'reasoning', text: 'Let me think' },
    { kind: 'reasoning', text: ' about it.' },
    { kind: 'reasoning_signature', signature: 'c2lnLTE=' },
    { kind: 'reasoning_redacted', data: 'RU5DUllQVEVE' },
    { kind: 'reasoning_signature', signature: 'c2lnLTI=' },
    { kind: 'text', text: 'I will look "it" up.\n' },
    { kind: 'tool_start', index: 0, id: 'toolu_1', name: 'lookup' },
    { kind: 'tool_delta', index: 0, arguments: '{"q":' },
    { kind: 'tool_delta', index: 0, arguments: '"x"}' },
    { kind: 'finish', reason: 'tool_calls', upstreamReason: 'tool_use' },
    { kind: 'usage', usage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 3, cacheWriteTokens: 4 } },
  ];
  const whole = renderEvents([events]);
  golden('thinking-redacted-tool.sse', whole);
  assert.equal(renderEvents(events.map((e) => [e])), whole, 'one event per batch');
});

test('messages golden: an error before the finish is one error event and the end; after the finish the answer stays whole', () => {
  const blocked = renderEvents([
    [{ kind: 'text', text: 'Hello' }],
    [{ kind: 'error', error: new SidecarError('guardrail_violation', 'Violated guardrail policy', { guardrail: 'g1' }) }],
  ]);
  golden('guardrail-block.sse', blocked);
  assert.ok(
    blocked.endsWith(
      'event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"Violated guardrail policy","guardrail":"g1"}}\n\n',
    ),
  );
  assert.ok(!blocked.includes('message_stop'));
  const late = renderEvents([
    [
      { kind: 'text', text: 'Hi' },
      { kind: 'finish', reason: 'stop', upstreamReason: 'end_turn' },
    ],
    [{ kind: 'error', error: new SidecarError('unavailable', 'draining') }],
  ]);
  assert.ok(late.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n') && !late.includes('event: error'));
  const cut = renderEvents([[{ kind: 'text', text: 'Hi' }]]);
  assert.match(
    cut,
    /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"stream ended without a finish or an error"\}\}\n\n$/,
  );
});
