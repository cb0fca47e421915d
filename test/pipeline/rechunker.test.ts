import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectJsonGolden, UPDATE_GOLDENS } from '../helpers/golden.ts';
import { eventFromJson, eventToJson, randomBatches, runTransform, seeded, type JsonEvent } from '../helpers/streams.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SidecarError } from '../../src/errors.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { Rechunker, RechunkerStage } from '../../src/pipeline/rechunker.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/rechunker');

// ---------------------------------------------------------------------------------------------------------
// Helpers

const text = (t: string): StreamEvent => ({ kind: 'text', text: t });
const reasoning = (t: string): StreamEvent => ({ kind: 'reasoning', text: t });
const finish: StreamEvent = { kind: 'finish', reason: 'stop' };

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The specification, written the slow and obvious way: greedy chunks of whole code points per text run. */
function referenceChunks(events: readonly StreamEvent[], limit: number): StreamEvent[] {
  const out: StreamEvent[] = [];
  let run = '';
  const flushRun = (): void => {
    let cur = '';
    let curBytes = 0;
    for (const cp of Array.from(run)) {
      const size = bytes(cp);
      if (curBytes > 0 && curBytes + size > limit) {
        out.push(text(cur));
        cur = '';
        curBytes = 0;
      }
      cur += cp;
      curBytes += size;
      if (curBytes >= limit) {
        out.push(text(cur));
        cur = '';
        curBytes = 0;
      }
    }
    if (cur) out.push(text(cur));
    run = '';
  };
  for (const e of events) {
    if (e.kind === 'text') run += e.text;
    else {
      flushRun();
      out.push(e);
    }
  }
  flushRun();
  return out;
}

/** Adjacent text events merged, empty ones dropped: what must survive any re-chunking unchanged. */
function normalize(events: readonly StreamEvent[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.kind !== 'text') out.push(e);
    else if (e.text === '') continue;
    else if (last?.kind === 'text') out[out.length - 1] = text(last.text + e.text);
    else out.push(e);
  }
  return out;
}

/** Every emitted text chunk is non-empty, at most the limit unless it is one code point, and whole. */
function assertChunksValid(events: readonly StreamEvent[], limit: number): void {
  for (const e of events) {
    if (e.kind !== 'text') continue;
    assert.ok(e.text.length > 0, 'no empty text chunk');
    const size = bytes(e.text);
    if (size > limit) assert.equal(Array.from(e.text).length, 1, `chunk over the limit is one code point: ${e.text}`);
    assert.ok(!isLow(e.text.charCodeAt(0)), `chunk starts with a low surrogate: ${JSON.stringify(e.text)}`);
    assert.ok(!isHigh(e.text.charCodeAt(e.text.length - 1)), `chunk ends with a high surrogate: ${JSON.stringify(e.text)}`);
  }
}
const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

function textOf(events: readonly StreamEvent[]): string {
  return events.map((e) => (e.kind === 'text' ? e.text : '')).join('');
}

/** What the stage emits with maxHoldMs 0, computed on the core alone. */
function runCore(batches: readonly (readonly StreamEvent[])[], limit: number): StreamEvent[][] {
  const core = new Rechunker({ chunkSizeBytes: limit });
  const out: StreamEvent[][] = [];
  for (const batch of batches) {
    const o = [...core.push(batch), ...core.release()];
    if (o.length > 0) out.push(o);
  }
  const rest = core.flush();
  if (rest.length > 0) out.push(rest);
  return out;
}

function runStage(
  batches: readonly (readonly StreamEvent[])[],
  options: { chunkSizeBytes: number; maxHoldMs?: number },
): Promise<StreamEvent[][]> {
  return runTransform<readonly StreamEvent[], StreamEvent[]>(new RechunkerStage(options), batches);
}

/** Re-splits every text event at random code-point boundaries, then re-batches at random boundaries. */
function reshuffle(events: readonly StreamEvent[], seed: number): StreamEvent[][] {
  const rand = seeded(seed);
  const split: StreamEvent[] = [];
  for (const e of events) {
    if (e.kind !== 'text') {
      split.push(e);
      continue;
    }
    const cps = Array.from(e.text);
    let i = 0;
    while (i < cps.length) {
      const n = 1 + Math.floor(rand() * Math.min(cps.length - i, 8));
      split.push(text(cps.slice(i, i + n).join('')));
      i += n;
    }
  }
  return randomBatches(split, rand, 0.3);
}

const SAMPLES: Record<string, string> = {
  ascii: 'The quick brown fox jumps over the lazy dog.',
  'two-byte': 'éèêëàâäôöûüçñ',
  'three-byte': '—中文—日本語—',
  'four-byte': '😀🎉🚀𝄞😀',
  mixed: 'aé—😀中b ü😀 x—y 𝄞 z',
};
const LIMITS = [1, 2, 3, 4, 5, 1024];

// ---------------------------------------------------------------------------------------------------------
// The core

for (const limit of LIMITS) {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    test(`rechunker: cuts ${name} text at limit ${limit} into whole code points that concatenate to the input`, () => {
      const core = new Rechunker({ chunkSizeBytes: limit });
      const out = [...core.push([text(sample)]), ...core.flush()];
      assert.equal(textOf(out), sample);
      assertChunksValid(out, limit);
      assert.deepEqual(out, referenceChunks([text(sample)], limit));
      assert.equal(core.pendingBytes, 0);
    });
  }
}

test('rechunker: splits a 4-byte emoji only between code points', () => {
  const chunksOf = (limit: number, s: string): string[] => {
    const core = new Rechunker({ chunkSizeBytes: limit });
    return [...core.push([text(s)]), ...core.flush()].map((e) => (e.kind === 'text' ? e.text : `<${e.kind}>`));
  };
  assert.deepEqual(chunksOf(1, 'a😀b'), ['a', '😀', 'b']);
  assert.deepEqual(chunksOf(3, 'ab😀c'), ['ab', '😀', 'c']);
  assert.deepEqual(chunksOf(4, 'a😀'), ['a', '😀']);
  assert.deepEqual(chunksOf(5, '😀😀a'), ['😀', '😀a']);
  assert.deepEqual(chunksOf(8, '😀😀😀'), ['😀😀', '😀']);
  assert.deepEqual(chunksOf(2, 'éé—'), ['é', 'é', '—']);
  assert.deepEqual(chunksOf(5, '中中中'), ['中', '中', '中']);
  assert.deepEqual(chunksOf(6, '中中中'), ['中中', '中']);
});

test('rechunker: push emits only full chunks and keeps the remainder pending', () => {
  const core = new Rechunker({ chunkSizeBytes: 4 });
  assert.deepEqual(core.push([text('abcdef')]), [text('abcd')]);
  assert.equal(core.pendingBytes, 2);
  assert.deepEqual(core.push([text('g')]), []);
  assert.equal(core.pendingBytes, 3);
  assert.deepEqual(core.push([text('h')]), [text('efgh')]);
  assert.equal(core.pendingBytes, 0);
  // A chunk is also full when the next code point would overflow it.
  assert.deepEqual(core.push([text('abc😀')]), [text('abc'), text('😀')]);
  assert.deepEqual(core.push([text('a'), text('é')]), []);
  assert.deepEqual(core.push([text('é')]), [text('aé')]);
  assert.equal(core.pendingBytes, 2);
  assert.deepEqual(core.flush(), [text('é')]);
  assert.deepEqual(core.flush(), []);
});

test('rechunker: coalesces many small deltas up to the limit', () => {
  const core = new Rechunker({ chunkSizeBytes: 16 });
  const deltas = Array.from({ length: 100 }, (_, i) => text(i % 2 === 0 ? 'ab' : 'é'));
  const out = [...core.push(deltas), ...core.flush()];
  const input = deltas.map((d) => (d.kind === 'text' ? d.text : '')).join('');
  assert.equal(textOf(out), input);
  // 50 × 'ab' + 50 × 'é' = 200 bytes; each 'abé' unit is 4 bytes, so every chunk is exactly 16 bytes.
  assert.deepEqual(
    out.map((e) => (e.kind === 'text' ? bytes(e.text) : -1)),
    [...Array(12).fill(16), 8],
  );
});

test('rechunker: handles 200k one-byte deltas and a 1 MiB delta in linear work', () => {
  const core = new Rechunker({ chunkSizeBytes: 1024 });
  const deltas = Array.from({ length: 200_000 }, (_, i) => text(String.fromCharCode(97 + (i % 26))));
  const out = [...core.push(deltas), ...core.flush()];
  assert.equal(out.length, Math.ceil(200_000 / 1024));
  assert.equal(textOf(out).length, 200_000);

  const big = 'é'.repeat(512 * 1024); // 1 MiB of 2-byte code points
  const core2 = new Rechunker({ chunkSizeBytes: 3 });
  const out2 = [...core2.push([text(big)]), ...core2.flush()];
  assert.equal(out2.length, 512 * 1024);
  assert.equal(textOf(out2), big);
});

test('rechunker: non-text events flush pending text first and keep their order', () => {
  const core = new Rechunker({ chunkSizeBytes: 4 });
  const tool: StreamEvent = { kind: 'tool_start', index: 0, id: 't1', name: 'f' };
  const args: StreamEvent = { kind: 'tool_delta', index: 0, arguments: '{"a":1}' };
  const usage: StreamEvent = {
    kind: 'usage',
    usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 },
  };
  const out = core.push([text('hel'), text('lo w'), reasoning('hmm'), text('or'), tool, args, text('ld'), finish, usage]);
  assert.deepEqual(out, [text('hell'), text('o w'), reasoning('hmm'), text('or'), tool, args, text('ld'), finish, usage]);
  assert.equal(out[4], tool, 'non-text events pass through as the same objects');
  assert.deepEqual(core.flush(), []);
});

test('rechunker: reasoning passes unchanged even when larger than the limit', () => {
  const core = new Rechunker({ chunkSizeBytes: 2 });
  const r = reasoning('a long thought — with 😀');
  assert.deepEqual(core.push([r, reasoning('x')]), [r, reasoning('x')]);
});

test('rechunker: an error event flushes pending text and passes through', () => {
  const core = new Rechunker({ chunkSizeBytes: 8 });
  const error: StreamEvent = { kind: 'error', error: new SidecarError('upstream_error', 'boom') };
  assert.deepEqual(core.push([text('abc')]), []);
  assert.deepEqual(core.push([text('de'), error]), [text('abcde'), error]);
});

test('rechunker: drops empty text deltas', () => {
  const core = new Rechunker({ chunkSizeBytes: 4 });
  assert.deepEqual([...core.push([text(''), text('')]), ...core.flush()], []);
  assert.deepEqual([...core.push([text(''), finish])], [finish]);
});

test('rechunker: re-unites a surrogate pair split across two deltas', () => {
  const core = new Rechunker({ chunkSizeBytes: 6 });
  // 'abc' + lone high surrogate would be 6 bytes, but the pair is 4: 'abc' alone is the full chunk.
  assert.deepEqual(core.push([text('abc\ud83d')]), []);
  assert.deepEqual(core.release(), [text('abc')], 'release keeps the high half back');
  assert.equal(core.pendingBytes, 3);
  assert.deepEqual(core.push([text('\ude00de')]), [text('😀de')]);
  assert.deepEqual(core.flush(), []);

  const core2 = new Rechunker({ chunkSizeBytes: 4 });
  assert.deepEqual(core2.push([text('a\ud83d'), text('\ude00b')]), [text('a'), text('😀')]);
  assert.deepEqual(core2.flush(), [text('b')]);

  // Only the end of the text lets a dangling high half go alone.
  const core3 = new Rechunker({ chunkSizeBytes: 4 });
  assert.deepEqual(core3.push([text('x\ud83d')]), []);
  assert.deepEqual(core3.release(), [text('x')]);
  assert.deepEqual(core3.flush(), [text('\ud83d')]);
  assert.equal(core3.pendingBytes, 0);
});

test('rechunker: counts pending bytes in UTF-8', () => {
  const core = new Rechunker({ chunkSizeBytes: 1024 });
  core.push([text('a'), text('é'), text('—'), text('😀')]);
  assert.equal(core.pendingBytes, 1 + 2 + 3 + 4);
  core.flush();
  assert.equal(core.pendingBytes, 0);
});

// ---------------------------------------------------------------------------------------------------------
// Golden fixtures

interface Fixture {
  description: string;
  chunkSizeBytes: number;
  input: JsonEvent[][];
  expected: JsonEvent[][];
}

for (const file of readdirSync(join(FIXTURES, 'positive'))
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const path = join(FIXTURES, 'positive', file);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const limit = fixture.chunkSizeBytes;
  const input = fixture.input.map((batch) => batch.map(eventFromJson));
  const flat = input.flat();

  test(`rechunker golden ${file}: fed as given, the stage emits the expected batches`, async () => {
    const out = await runStage(input, { chunkSizeBytes: limit });
    const actual = out.map((batch) => batch.map(eventToJson));
    // The expected batches live in the fixture itself: the whole file is the golden.
    expectJsonGolden(path, { ...fixture, expected: actual });
    if (UPDATE_GOLDENS) return;
    assert.deepEqual(
      runCore(input, limit).map((b) => b.map(eventToJson)),
      fixture.expected,
      'core and stage agree',
    );
    assert.ok(
      out.every((batch) => batch.length > 0),
      'no empty batch',
    );
    assert.ok(out.length <= input.length + 1, 'at most one batch per input batch, plus the end');
  });

  test(`rechunker golden ${file}: fed one event per batch and at seeded random splits, the invariants hold`, async () => {
    const feeds: [string, StreamEvent[][]][] = [
      ['one event per batch', flat.map((e) => [e])],
      ['everything in one batch', [flat]],
      ...[1, 2, 3, 42, 1234].map((seed): [string, StreamEvent[][]] => [`seed ${seed}`, reshuffle(flat, seed)]),
    ];
    for (const [name, batches] of feeds) {
      const out = (await runStage(batches, { chunkSizeBytes: limit })).flat();
      assert.deepEqual(normalize(out), normalize(flat), `${name}: same text, same events, same order`);
      assertChunksValid(out, limit);
    }
    // Without batch-end releases the chunking does not depend on the batching at all.
    for (const seed of [7, 8, 9]) {
      const core = new Rechunker({ chunkSizeBytes: limit });
      const out = [...reshuffle(flat, seed).flatMap((b) => core.push(b)), ...core.flush()];
      assert.deepEqual(out, referenceChunks(flat, limit), `seed ${seed}: greedy chunking`);
    }
  });
}

for (const file of readdirSync(join(FIXTURES, 'negative'))
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const fixture = JSON.parse(readFileSync(join(FIXTURES, 'negative', file), 'utf8')) as {
    chunkSizeBytes: number;
    error: string;
  };
  test(`rechunker negative ${file}: the limit is refused at construction`, () => {
    assert.throws(() => new Rechunker({ chunkSizeBytes: fixture.chunkSizeBytes }), {
      name: 'RangeError',
      message: new RegExp(fixture.error),
    });
    assert.throws(() => new RechunkerStage({ chunkSizeBytes: fixture.chunkSizeBytes }), RangeError);
  });
}

test('rechunker: the stage refuses a negative or fractional maxHoldMs', () => {
  assert.throws(() => new RechunkerStage({ chunkSizeBytes: 4, maxHoldMs: -1 }), RangeError);
  assert.throws(() => new RechunkerStage({ chunkSizeBytes: 4, maxHoldMs: 1.5 }), RangeError);
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom('a', 'é', '—', '中', '😀', '𝄞', ' '), { maxLength: 40 }).map((a) => a.join('')),
);
const anyLimit = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 64 }), fc.constant(1024));

/** A string cut into deltas at random code-point boundaries. */
const deltas = anyText.chain((s) => {
  const cps = Array.from(s);
  return fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, cps.length - 1) }), { maxLength: cps.length }).map((cuts) => {
    const points = [0, ...cuts.filter((c) => c < cps.length).sort((x, y) => x - y), cps.length];
    const parts: string[] = [];
    for (let i = 0; i + 1 < points.length; i++) parts.push(cps.slice(points[i], points[i + 1]).join(''));
    return { s, parts };
  });
});

test('rechunker property: random strings in random deltas concatenate to the input and never split a code point', () => {
  fc.assert(
    fc.property(deltas, anyLimit, fc.array(fc.boolean(), { maxLength: 50 }), ({ s, parts }, limit, ends) => {
      const events = parts.map(text);
      // Core alone, one batch: exactly the greedy chunking.
      const core = new Rechunker({ chunkSizeBytes: limit });
      const whole = [...core.push(events), ...core.flush()];
      assert.equal(textOf(whole), s);
      assert.deepEqual(whole, referenceChunks(events, limit));
      // As the stage runs it with max_hold_ms 0: a release at random batch ends.
      const core2 = new Rechunker({ chunkSizeBytes: limit });
      const out: StreamEvent[] = [];
      events.forEach((e, i) => {
        out.push(...core2.push([e]));
        if (ends[i]) out.push(...core2.release());
      });
      out.push(...core2.flush());
      assert.equal(textOf(out), s);
      assertChunksValid(out, limit);
    }),
    { numRuns: 500 },
  );
});

test('rechunker property: deltas cut at any UTF-16 offset, even inside a surrogate pair, never split a code point', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), anyLimit, (s, rawCuts, limit) => {
      const cuts = [...new Set(rawCuts.map((c) => c % (s.length + 1)))].sort((x, y) => x - y);
      const points = [0, ...cuts, s.length];
      const events = points.slice(1).map((p, i) => text(s.slice(points[i], p)));
      const core = new Rechunker({ chunkSizeBytes: limit });
      const out: StreamEvent[] = [];
      for (const e of events) out.push(...core.push([e]), ...core.release());
      out.push(...core.flush());
      assert.equal(textOf(out), s);
      assertChunksValid(out, limit);
      assert.equal(core.pendingBytes, 0);
    }),
    { numRuns: 500 },
  );
});

const nonText = fc.constantFrom<StreamEvent>(
  reasoning('r'),
  reasoning('😀 thought'),
  { kind: 'tool_start', index: 0, id: 'id', name: 'f' },
  { kind: 'tool_delta', index: 0, arguments: '{}' },
);

test('rechunker property: interleaved non-text events keep their order and the text between them', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(anyText.map(text), nonText), { maxLength: 20 }),
      anyLimit,
      fc.integer(),
      async (events, limit, seed) => {
        const input = [...events, finish];
        const out = (await runStage(reshuffle(input, seed), { chunkSizeBytes: limit })).flat();
        assert.deepEqual(normalize(out), normalize(input));
        assertChunksValid(out, limit);
      },
    ),
    { numRuns: 200 },
  );
});

// ---------------------------------------------------------------------------------------------------------
// The stage: batches and the hold timer

/** Lets process.nextTick work (stream delivery) run; setImmediate is not mocked. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function collect(stage: RechunkerStage): StreamEvent[][] {
  const out: StreamEvent[][] = [];
  stage.on('data', (batch: StreamEvent[]) => out.push(batch));
  return out;
}

test('rechunker: with maxHoldMs 0 every batch comes out whole, without waiting for more input', async () => {
  const stage = new RechunkerStage({ chunkSizeBytes: 4 });
  const out = collect(stage);
  stage.write([text('ab')]);
  await settle();
  assert.deepEqual(out, [[text('ab')]]);
  stage.write([text('cdefg'), text('h'), text('i')]);
  await settle();
  assert.deepEqual(out, [[text('ab')], [text('cdef'), text('ghi')]]);
  stage.write([text('')]);
  await settle();
  assert.equal(out.length, 2, 'an empty result is not pushed as an empty batch');
  stage.end();
  await settle();
  assert.equal(out.length, 2);
});

test('rechunker: with maxHoldMs the remainder waits at most that long, then goes out', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stage = new RechunkerStage({ chunkSizeBytes: 4, maxHoldMs: 50 });
  const out = collect(stage);

  stage.write([text('ab')]);
  await settle();
  assert.deepEqual(out, []);
  t.mock.timers.tick(20);
  stage.write([text('c')]); // does not push the deadline back
  await settle();
  assert.deepEqual(out, []);
  t.mock.timers.tick(29);
  await settle();
  assert.deepEqual(out, []);
  t.mock.timers.tick(1);
  await settle();
  assert.deepEqual(out, [[text('abc')]]);

  // Full chunks are never held; only the remainder waits.
  stage.write([text('defgh')]);
  await settle();
  assert.deepEqual(out.at(-1), [text('defg')]);
  t.mock.timers.tick(50);
  await settle();
  assert.deepEqual(out.at(-1), [text('h')]);

  // A non-text event flushes the pending text and cancels the hold.
  stage.write([text('ij')]);
  stage.write([text('k'), finish]);
  await settle();
  assert.deepEqual(out.at(-1), [text('ijk'), finish]);
  const count = out.length;
  t.mock.timers.tick(100);
  await settle();
  assert.equal(out.length, count, 'no empty batch from a cancelled hold');
  stage.destroy();
});

test('rechunker: with maxHoldMs the end of the stream emits what is pending and clears the timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stage = new RechunkerStage({ chunkSizeBytes: 8, maxHoldMs: 1000 });
  const out = collect(stage);
  const ended = new Promise((resolve) => stage.on('end', resolve));
  stage.write([text('abc')]);
  stage.end([text('de')]);
  await ended;
  assert.deepEqual(out, [[text('abcde')]]);
  t.mock.timers.tick(2000); // a timer that outlived the stream would push after EOF and throw
  await settle();
  assert.deepEqual(out, [[text('abcde')]]);
});

test('rechunker: destroying the stage clears the hold timer', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stage = new RechunkerStage({ chunkSizeBytes: 8, maxHoldMs: 10 });
  const out = collect(stage);
  const errors: unknown[] = [];
  stage.on('error', (e) => errors.push(e));
  stage.write([text('abc')]);
  await settle();
  stage.destroy();
  t.mock.timers.tick(100);
  await settle();
  assert.deepEqual(out, []);
  assert.deepEqual(errors, []);
});

test("rechunker: a real hold timer fires, unref'd so that it never keeps the process alive", async () => {
  // The hold timer is unref'd: without this ref'd guard the event loop would have nothing left to wait for.
  const guard = setTimeout(() => undefined, 10_000);
  const stage = new RechunkerStage({ chunkSizeBytes: 8, maxHoldMs: 5 });
  const out = collect(stage);
  stage.write([text('abc')]);
  const batch = await new Promise<StreamEvent[]>((resolve) => stage.once('data', resolve));
  clearTimeout(guard);
  assert.deepEqual(batch, [text('abc')]);
  assert.deepEqual(out, [[text('abc')]]);
  stage.end();
});
