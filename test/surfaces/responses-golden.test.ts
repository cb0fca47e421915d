/**
 * Golden event streams for the Responses surface (docs/contract.md#openai-responses): recorded real
 * Bedrock ConverseStream answers through the stages (decoder → normaliser → re-chunker → encoder with the
 * Responses renderer). Fed whole, the bytes must equal the golden file; fed one byte at a time and at seeded
 * random splits, the same stream once consecutive deltas of an item are joined (where a read ends decides
 * where the re-chunker cuts text, by design: it never holds text back for the next read), with every delta
 * within stream_chunk_size. `UPDATE_GOLDENS=1` rewrites the goldens (review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, Readable, Writable } from 'node:stream';
import { EventStreamDecoder } from '../../src/pipeline/event-stream-decoder.ts';
import { EncoderStage } from '../../src/pipeline/encoder.ts';
import { BedrockEventNormalizer, NormalizerStage } from '../../src/pipeline/normalizer.ts';
import { RechunkerStage } from '../../src/pipeline/rechunker.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { Family } from '../../src/models/route.ts';
import { ResponsesRenderer } from '../../src/surfaces/openai-responses/renderer.ts';
import type { ResponsesExtras } from '../../src/surfaces/openai-responses/request.ts';
import { seeded } from '../helpers/streams.ts';

const RECORDINGS = join(import.meta.dirname, '../fixtures/real-traffic');
const GOLDENS = join(import.meta.dirname, '../fixtures/responses');
const UPDATE = process.env.UPDATE_GOLDENS === '1';

const CASES: Array<{ recording: string; family: Family; chunk: number; encrypted: boolean }> = [
  { recording: 'cs-nova-micro-text', family: 'amazon-nova', chunk: 1024, encrypted: false },
  { recording: 'cs-nova-micro-tool-use', family: 'amazon-nova', chunk: 1024, encrypted: false },
  { recording: 'cs-anthropic-claude3-sonnet-text-tool', family: 'anthropic', chunk: 8, encrypted: false },
  { recording: 'cs-anthropic-claude37-redacted-thinking', family: 'anthropic', chunk: 1024, encrypted: true },
  { recording: 'cs-openai-gpt-oss-120b-reasoning', family: 'openai', chunk: 5, encrypted: false },
];

function extras(encrypted: boolean): ResponsesExtras {
  return { store: false, previousResponseId: undefined, instructions: null, echo: {}, tools: new Map(), includeEncrypted: encrypted, messages: [] };
}

function render(bytes: Buffer, splits: number[], family: Family, chunk: number, encrypted: boolean): Promise<string> {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const end of [...splits, bytes.length]) {
    if (end > at) pieces.push(bytes.subarray(at, end));
    at = end;
  }
  let out = '';
  const renderer = new ResponsesRenderer({ id: 'resp_golden', created: 1_700_000_000, model: 'golden' }, extras(encrypted));
  return new Promise((resolve, reject) => pipeline(
    Readable.from(pieces, { objectMode: true }),
    new EventStreamDecoder(),
    new NormalizerStage(new BedrockEventNormalizer('converse', adapterFor('converse', family)!.createStreamMapper())),
    new RechunkerStage({ chunkSizeBytes: chunk }),
    new EncoderStage({ renderer, heartbeatMs: 0 }),
    new Writable({ write(c: Buffer | string, _e, cb) { out += String(c); cb(); } }),
    (error) => (error ? reject(error) : resolve(out)),
  ));
}

for (const c of CASES) {
  test(`responses golden: ${c.recording} whole, byte by byte and at random splits gives the golden stream`, async () => {
    const bytes = readFileSync(join(RECORDINGS, `${c.recording}.eventstream`));
    const golden = join(GOLDENS, `${c.recording}.sse`);
    const whole = await render(bytes, [], c.family, c.chunk, c.encrypted);
    if (UPDATE || !existsSync(golden)) {
      assert.ok(UPDATE, `missing golden ${golden}: run with UPDATE_GOLDENS=1 and review it`);
      writeFileSync(golden, whole);
    }
    const expected = readFileSync(golden, 'utf8');
    assert.equal(whole, expected);
    const joined = joinDeltas(expected, c.chunk);
    const bytewise = await render(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1), c.family, c.chunk, c.encrypted);
    assert.deepEqual(joinDeltas(bytewise, c.chunk), joined, 'one byte at a time');
    const rand = seeded(0x5eed + bytes.length);
    for (let round = 0; round < 3; round++) {
      const splits = Array.from({ length: 12 }, () => Math.floor(rand() * bytes.length)).sort((a, b) => a - b);
      assert.deepEqual(joinDeltas(await render(bytes, splits, c.family, c.chunk, c.encrypted), c.chunk), joined, `random splits ${splits.join(',')}`);
    }
    // Every frame is `event: T\ndata: {"type":T,"sequence_number":n…}` with n counting from 0, one ending.
    const frames = expected.trim().split('\n\n').map((f) => f.split('\n'));
    frames.forEach(([event, data], n) => {
      const json = JSON.parse(data!.slice('data: '.length)) as { type: string; sequence_number: number };
      assert.equal(event, `event: ${json.type}`);
      assert.equal(json.sequence_number, n);
    });
    const endings = frames.filter(([event]) => /^event: response\.(completed|incomplete|failed)$/.test(event!));
    assert.equal(endings.length, 1);
    assert.equal(frames.at(-1)![0], endings[0]![0]);
  });
}

/** The frames with consecutive text deltas of one item joined and sequence numbers dropped; checks each delta's size. */
function joinDeltas(sse: string, chunk: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const frame of sse.trim().split('\n\n')) {
    const json = JSON.parse(frame.split('\n')[1]!.slice('data: '.length)) as Record<string, unknown>;
    delete json.sequence_number;
    const prev = out.at(-1);
    if (typeof json.delta === 'string' && json.type === 'response.output_text.delta') {
      assert.ok(Buffer.byteLength(json.delta) <= Math.max(chunk, 4), `a delta within stream_chunk_size: ${JSON.stringify(json.delta)}`);
    }
    if (prev && typeof json.delta === 'string' && prev.type === json.type && prev.item_id === json.item_id) {
      prev.delta = String(prev.delta) + json.delta;
      continue;
    }
    out.push(json);
  }
  return out;
}
