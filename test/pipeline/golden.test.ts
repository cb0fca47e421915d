/**
 * The whole pipeline, golden: recorded Bedrock bytes through the five stages that `createPipeline` builds
 * (decoder, normaliser, [guardrail], re-chunker, encoder) must give byte-identical SSE, compared with
 * test/fixtures/pipeline/{positive,negative}/<case>.sse (UPDATE_GOLDENS=1 rewrites them; review the diff).
 *
 * Every input is fed whole, one byte at a time, and at seeded random split points, and each way must give
 * the same bytes: how the network cuts a stream never shows in what the client reads once held text waits
 * for a full chunk (a `maxHoldMs` longer than any run; with 0 each read's text would go out at the end of
 * that read, by design). The completion id and `created` are injected, so nothing else varies.
 *
 * Positive inputs: every `.eventstream` recording in test/fixtures/real-traffic/ (real Bedrock answers; see
 * the attribution table there), on the route and model its meta names. Negative inputs
 * (test/fixtures/pipeline/negative/, made from those recordings by make-negative.ts there): a corrupt
 * message CRC, prelude CRC and payload bit, a stream cut mid-frame and one cut at a frame boundary before
 * the terminal event, and in-stream exceptions. Each must end with exactly one in-band error and `[DONE]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Route } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/load.ts';
import { GuardrailRecorder } from '../../src/guardrails/recorder.ts';
import { createRegexGuardrail } from '../../src/guardrails/regex.ts';
import { StreamGuard } from '../../src/guardrails/stream.ts';
import { inspectModelId, parseRoute } from '../../src/models/route.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';
import { createPipeline } from '../../src/pipeline/index.ts';
import type { OutputGuard } from '../../src/pipeline/guardrail.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { ChatRenderer } from '../../src/surfaces/openai-chat/renderer.ts';
import { expectGolden } from '../helpers/golden.ts';
import { sseData } from '../helpers/harness.ts';
import { seeded } from '../helpers/streams.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const REAL = join(FIXTURES, 'real-traffic');
const GOLDEN = join(FIXTURES, 'pipeline');
/** Small enough that real answers are re-chunked, large enough that a chunk holds whole words. */
const CHUNK_SIZE_BYTES = 24;
const SEEDS = [1, 2, 3];
/** The largest max_hold_ms the config allows: the timer never fires within a test, and flush clears it. */
const HOLD_LONGER_THAN_ANY_RUN_MS = 60_000;

interface Case {
  name: string;
  input: Buffer;
  route: Route;
  modelId: string;
  golden: string;
  /** A regex output guardrail in stream_mode sync (stage 3 is left out without one). */
  guard?: { action: 'block' | 'mask'; pattern: string };
}

function positiveCases(): Case[] {
  return readdirSync(REAL)
    .filter((f) => f.endsWith('.eventstream'))
    .sort()
    .map((file) => {
      const id = file.slice(0, -'.eventstream'.length);
      const meta = JSON.parse(readFileSync(join(REAL, `${id}.meta.json`), 'utf8')) as { route: string };
      const { route, modelId } = parseRoute(meta.route);
      return { name: id, input: readFileSync(join(REAL, file)), route, modelId, golden: join(GOLDEN, 'positive', `${id}.sse`) };
    });
}

function negativeCases(): Case[] {
  const dir = join(GOLDEN, 'negative');
  const list = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Array<{ name: string; route: Route; modelId: string }>;
  return list.map((c) => ({ ...c, input: readFileSync(join(dir, `${c.name}.eventstream`)), golden: join(dir, `${c.name}.sse`) }));
}

/** Guarded cases: a real answer through a sync regex guardrail that masks, and one that blocks. */
function guardedCases(): Case[] {
  const base = positives.find((c) => c.name === 'cs-nova-micro-text');
  assert.ok(base, 'the guarded cases read cs-nova-micro-text');
  return [
    { ...base, name: 'guard-mask', guard: { action: 'mask', pattern: 'Paris' }, golden: join(GOLDEN, 'positive', 'guard-mask.sse') },
    { ...base, name: 'guard-block', guard: { action: 'block', pattern: 'Eiffel' }, golden: join(GOLDEN, 'negative', 'guard-block.sse') },
  ];
}

function outputGuard(spec: NonNullable<Case['guard']>): OutputGuard {
  const config = validateConfig({
    guardrails: [
      { name: 'golden-regex', type: 'regex', patterns: [spec.pattern], action: spec.action, stream_mode: 'sync', interval_chars: 40 },
    ],
  }).guardrails[0]!;
  const recorder = new GuardrailRecorder(new Metrics({ processMetrics: false }), createLogger('silent'), false, 'chat');
  return new StreamGuard({ sync: [createRegexGuardrail(config)], async: [], native: undefined, recorder });
}

/** Runs `chunks` through a fresh pipeline for the case's route and family; resolves with the SSE bytes. */
async function render(c: Case, chunks: Uint8Array[]): Promise<string> {
  const adapter = adapterFor(c.route, inspectModelId(c.modelId).family);
  assert.ok(adapter, `${c.name}: no ${c.route} adapter for ${c.modelId}`);
  const { stages } = createPipeline({
    route: c.route,
    mapper: adapter.createStreamMapper(),
    guard: c.guard ? outputGuard(c.guard) : undefined,
    chunkSizeBytes: CHUNK_SIZE_BYTES,
    maxHoldMs: HOLD_LONGER_THAN_ANY_RUN_MS,
    renderer: new ChatRenderer({ id: 'chatcmpl-golden', created: 1_767_225_600, model: 'golden', includeUsage: true }),
    heartbeatMs: 0,
  });
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(chunks, { objectMode: true }), ...stages, sink]);
  return Buffer.concat(out).toString('utf8');
}

function bytewise(bytes: Buffer): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

/** Cuts at seeded random points: pieces of 1 to 64 bytes, so frames and their preludes are split too. */
function randomSplits(bytes: Buffer, seed: number): Uint8Array[] {
  const random = seeded(seed);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(random() * 64);
    parts.push(bytes.subarray(at, at + size));
    at += size;
  }
  return parts;
}

async function checkCase(c: Case): Promise<string> {
  const whole = await render(c, [c.input]);
  expectGolden(c.golden, whole);
  assert.equal(await render(c, bytewise(c.input)), whole, `${c.name}: one byte at a time differs from whole`);
  for (const seed of SEEDS) {
    assert.equal(await render(c, randomSplits(c.input, seed)), whole, `${c.name}: random splits (seed ${seed}) differ from whole`);
  }
  return whole;
}

const positives = positiveCases();
const negatives = negativeCases();
const [masked, blocked] = guardedCases();

test('pipeline golden: the recordings and the negative cases are all there', () => {
  assert.ok(positives.length >= 20, `only ${positives.length} recordings found in ${REAL}`);
  assert.equal(negatives.length, 7);
});

for (const c of positives) {
  test(`pipeline golden: ${c.name} (${c.route}) renders the same SSE whole, byte by byte and at random splits`, async () => {
    const data = sseData(await checkCase(c));
    assert.equal(data.at(-1), '[DONE]');
    assert.equal(data.filter((d) => d === '[DONE]').length, 1);
    assert.ok(
      data.some((d) => /"finish_reason":"[a-z_]+"/.test(d)),
      `${c.name}: a real answer ends with a finish_reason`,
    );
    assert.ok(!data.some((d) => d.startsWith('{"error"')), `${c.name}: no error frame in a real answer`);
  });
}

for (const c of negatives) {
  test(`pipeline golden: ${c.name} ends in one in-band error, the same whole, byte by byte and at random splits`, async () => {
    const data = sseData(await checkCase(c));
    assert.deepEqual(data.slice(-1), ['[DONE]']);
    const errors = data.filter((d) => d.startsWith('{"error"'));
    assert.equal(errors.length, 1, `${c.name}: exactly one error frame`);
    assert.equal(data.at(-2), errors[0], `${c.name}: the error frame comes just before [DONE]`);
    assert.ok(!data.some((d) => /"finish_reason":"/.test(d)), `${c.name}: no finish after a broken stream`);
  });
}

test('pipeline golden: a sync regex guardrail masks the same text however the bytes are cut', async () => {
  const data = sseData(await checkCase(masked!));
  const text = data
    .map(
      (d) =>
        (JSON.parse(d === '[DONE]' ? '{}' : d) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? '',
    )
    .join('');
  assert.ok(!text.includes('Paris') && text.includes('capital of France'), 'the masked answer keeps its text but not the term');
});

test('pipeline golden: a sync regex guardrail blocks with one guardrail error however the bytes are cut', async () => {
  const data = sseData(await checkCase(blocked!));
  assert.equal(data.at(-1), '[DONE]');
  assert.match(
    data.at(-2) ?? '',
    /^\{"error":\{"message":"Violated guardrail policy","type":"guardrail_violation".*"guardrail":"golden-regex"\}\}$/,
  );
  assert.ok(!data.some((d) => d.includes('Eiffel')), 'the blocked term never reaches the client');
});
