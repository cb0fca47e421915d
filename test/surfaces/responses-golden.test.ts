/**
 * Golden event streams for the Responses surface (docs/contract.md#openai-responses): recorded real
 * Bedrock ConverseStream answers through the five stages `createPipeline` builds, with the Responses
 * renderer. Fed whole, one byte at a time and at seeded random splits, each way must give the bytes of the
 * golden file (held text waits for a full chunk, as in test/pipeline/golden.test.ts, so where the network
 * cuts never shows). `UPDATE_GOLDENS=1` rewrites the goldens (review the diff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPipeline } from '../../src/pipeline/index.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { Family } from '../../src/models/route.ts';
import { ResponsesRenderer } from '../../src/surfaces/openai-responses/renderer.ts';
import type { ResponsesExtras } from '../../src/surfaces/openai-responses/request.ts';
import { expectGolden } from '../helpers/golden.ts';
import { seeded } from '../helpers/streams.ts';

const RECORDINGS = join(import.meta.dirname, '../fixtures/real-traffic');
const GOLDENS = join(import.meta.dirname, '../fixtures/responses');

const CASES: Array<{ recording: string; family: Family; chunk: number; encrypted: boolean }> = [
  { recording: 'cs-nova-micro-text', family: 'amazon-nova', chunk: 1024, encrypted: false },
  { recording: 'cs-nova-micro-tool-use', family: 'amazon-nova', chunk: 1024, encrypted: false },
  { recording: 'cs-anthropic-claude3-sonnet-text-tool', family: 'anthropic', chunk: 8, encrypted: false },
  { recording: 'cs-anthropic-claude37-redacted-thinking', family: 'anthropic', chunk: 1024, encrypted: true },
  { recording: 'cs-openai-gpt-oss-120b-reasoning', family: 'openai', chunk: 5, encrypted: false },
];

function extras(encrypted: boolean): ResponsesExtras {
  return {
    store: false,
    previousResponseId: undefined,
    instructions: null,
    echo: {},
    tools: new Map(),
    includeEncrypted: encrypted,
    messages: [],
    compaction: false,
  };
}

async function render(bytes: Buffer, splits: number[], family: Family, chunk: number, encrypted: boolean): Promise<string> {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const end of [...splits, bytes.length]) {
    if (end > at) pieces.push(bytes.subarray(at, end));
    at = end;
  }
  let out = '';
  const { stages } = createPipeline({
    route: 'converse',
    mapper: adapterFor('converse', family)!.createStreamMapper(),
    guard: undefined,
    chunkSizeBytes: chunk,
    maxHoldMs: 3_600_000,
    renderer: new ResponsesRenderer({ id: 'resp_golden', created: 1_700_000_000, model: 'golden' }, extras(encrypted)),
    heartbeatMs: 0,
  });
  await pipeline([
    Readable.from(pieces, { objectMode: true }),
    ...stages,
    new Writable({
      write(c: Buffer | string, _e, cb) {
        out += String(c);
        cb();
      },
    }),
  ]);
  return out;
}

for (const c of CASES) {
  test(`responses golden: ${c.recording} whole, byte by byte and at random splits gives the golden stream`, async () => {
    const bytes = readFileSync(join(RECORDINGS, `${c.recording}.eventstream`));
    const whole = await render(bytes, [], c.family, c.chunk, c.encrypted);
    expectGolden(join(GOLDENS, `${c.recording}.sse`), whole);
    const bytewise = await render(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      c.family,
      c.chunk,
      c.encrypted,
    );
    assert.equal(bytewise, whole, 'one byte at a time');
    const rand = seeded(0x5eed + bytes.length);
    for (let round = 0; round < 3; round++) {
      const splits = Array.from({ length: 12 }, () => Math.floor(rand() * bytes.length)).sort((a, b) => a - b);
      assert.equal(await render(bytes, splits, c.family, c.chunk, c.encrypted), whole, `random splits ${splits.join(',')}`);
    }
    // Every frame is `event: T\ndata: {"type":T,"sequence_number":n…}` with n counting from 0; one ending, last;
    // every text delta within stream_chunk_size.
    const frames = whole
      .trim()
      .split('\n\n')
      .map((f) => f.split('\n'));
    frames.forEach(([event, data], n) => {
      const json = JSON.parse(data!.slice('data: '.length)) as { type: string; sequence_number: number; delta?: string };
      assert.equal(event, `event: ${json.type}`);
      assert.equal(json.sequence_number, n);
      if (json.type === 'response.output_text.delta') assert.ok(Buffer.byteLength(json.delta!) <= c.chunk);
    });
    const endings = frames.filter(([event]) => /^event: response\.(completed|incomplete|failed)$/.test(event!));
    assert.equal(endings.length, 1);
    assert.equal(frames.at(-1)![0], endings[0]![0]);
  });
}
