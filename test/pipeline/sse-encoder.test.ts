import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectJsonGolden, UPDATE_GOLDENS } from '../helpers/golden.ts';
import { eventFromJson, randomBatches, runTransform, seeded, type JsonEvent } from '../helpers/streams.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ERROR_STATUS, SidecarError, type ErrorType } from '../../src/errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../../src/pipeline/events.ts';
import { EncoderStage } from '../../src/pipeline/encoder.ts';
import { ChatRenderer, type ChatRendererOptions } from '../../src/surfaces/openai-chat/renderer.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/sse-encoder');

// ---------------------------------------------------------------------------------------------------------
// Helpers

const OPTIONS: ChatRendererOptions = {
  id: 'chatcmpl-test',
  created: 1700000000,
  model: 'claude-sonnet',
  includeUsage: false,
};
const DONE = 'data: [DONE]\n\n';
const KEEP_ALIVE = ': keep-alive\n\n';

const text = (t: string): StreamEvent => ({ kind: 'text', text: t });
const finish = (reason: FinishReason = 'stop'): StreamEvent => ({ kind: 'finish', reason });
const errorEvent = (type: ErrorType, message: string, guardrail?: string): StreamEvent => ({
  kind: 'error',
  error: new SidecarError(type, message, guardrail === undefined ? {} : { guardrail }),
});

/** Splits SSE text into frames (without their blank line), checking the framing on the way. */
function splitFrames(sse: string): string[] {
  if (sse === '') return [];
  assert.ok(sse.endsWith('\n\n'), 'output ends at a frame boundary');
  const frames = sse.slice(0, -2).split('\n\n');
  for (const frame of frames) {
    assert.ok(!frame.includes('\n') && !frame.includes('\r'), `one line per frame: ${JSON.stringify(frame)}`);
    assert.ok(frame.startsWith('data: ') || frame.startsWith(':'), `a data frame or a comment: ${frame}`);
  }
  return frames;
}

type Frame =
  | { type: 'done' }
  | { type: 'comment'; text: string }
  | { type: 'chunk'; json: ChunkJson }
  | { type: 'usage'; json: ChunkJson }
  | { type: 'error'; json: { error: Record<string, unknown> } };
interface ChunkJson {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: Record<string, unknown>;
}

/** Parses every frame; asserts the stream-level contract of docs/contract.md#streaming-and-errors on the way. */
function parseStream(sse: string, options: ChatRendererOptions = OPTIONS): Frame[] {
  const frames = splitFrames(sse).map((raw): Frame => {
    if (raw.startsWith(':')) return { type: 'comment', text: raw };
    const data = raw.slice('data: '.length);
    if (data === '[DONE]') return { type: 'done' };
    const json = JSON.parse(data) as Record<string, unknown>;
    if ('error' in json) {
      assert.deepEqual(Object.keys(json), ['error']);
      return { type: 'error', json: json as { error: Record<string, unknown> } };
    }
    const chunk = json as unknown as ChunkJson;
    assert.deepEqual(Object.keys(chunk).slice(0, 5), ['id', 'object', 'created', 'model', 'choices']);
    assert.equal(chunk.id, options.id);
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.created, options.created);
    assert.equal(chunk.model, options.model);
    if (chunk.choices.length === 0) {
      assert.ok(chunk.usage, 'a chunk without choices carries usage');
      return { type: 'usage', json: chunk };
    }
    assert.equal(chunk.choices.length, 1);
    assert.equal(chunk.choices[0]!.index, 0);
    return { type: 'chunk', json: chunk };
  });
  const data = frames.filter((f) => f.type !== 'comment');
  assert.equal(data.filter((f) => f.type === 'done').length, 1, 'exactly one [DONE]');
  assert.equal(data.at(-1)?.type, 'done', '[DONE] is the last frame');
  assert.equal(frames.at(-1)?.type, 'done', 'nothing, not even a comment, after [DONE]');
  const first = data[0];
  assert.ok(first?.type === 'chunk', 'the first frame is a chunk');
  assert.deepEqual(first.json.choices[0]!.delta, { role: 'assistant', content: '' });
  const errors = data.filter((f) => f.type === 'error').length;
  const finishes = data.filter((f) => f.type === 'chunk' && f.json.choices[0]!.finish_reason !== null).length;
  assert.ok(errors <= 1, 'at most one error frame');
  if (errors === 1) assert.equal(data.at(-2)?.type, 'error', 'nothing follows an error frame but [DONE]');
  assert.ok(errors + finishes >= 1, 'a stream ends with a finish chunk or an error frame');
  return frames;
}

function render(batches: readonly (readonly StreamEvent[])[], options: ChatRendererOptions = OPTIONS): string {
  const encoder = new ChatRenderer(options);
  let out = encoder.start();
  for (const batch of batches) out += encoder.push(batch);
  out += encoder.end();
  assert.ok(encoder.finished);
  return out;
}

async function renderThroughStage(batches: readonly (readonly StreamEvent[])[], options: ChatRendererOptions = OPTIONS): Promise<string[]> {
  const stage = new EncoderStage({ renderer: new ChatRenderer(options), heartbeatMs: 0 });
  const chunks = await runTransform<readonly StreamEvent[], Buffer>(stage, batches, () => stage.begin());
  return chunks.map((chunk) => chunk.toString('utf8'));
}

function rebatch(events: readonly StreamEvent[], seed: number): StreamEvent[][] {
  return randomBatches(events, seeded(seed), 0.4);
}

// ---------------------------------------------------------------------------------------------------------
// Golden fixtures: `expected` lists the frames, each without its blank line

interface Fixture {
  description: string;
  options: ChatRendererOptions;
  input: JsonEvent[][];
  expected: string[];
}

for (const file of readdirSync(join(FIXTURES, 'positive'))
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const path = join(FIXTURES, 'positive', file);
  const fixture = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const input = fixture.input.map((batch) => batch.map(eventFromJson));
  const flat = input.flat();

  test(`sse-encoder golden ${file}: renders the exact expected SSE text`, () => {
    const actual = render(input, fixture.options);
    // The expected frames live in the fixture itself: the whole file is the golden.
    expectJsonGolden(path, { ...fixture, expected: splitFrames(actual) });
    parseStream(actual, fixture.options);
  });

  test(`sse-encoder golden ${file}: any batching renders the same bytes, one write per batch through the stage`, async () => {
    if (UPDATE_GOLDENS) return;
    const expected = fixture.expected.map((frame) => `${frame}\n\n`).join('');
    assert.equal(render([flat], fixture.options), expected, 'one batch');
    assert.equal(
      render(
        flat.map((e) => [e]),
        fixture.options,
      ),
      expected,
      'one event per batch',
    );
    for (const seed of [1, 2, 3, 42]) assert.equal(render(rebatch(flat, seed), fixture.options), expected, `seed ${seed}`);

    const chunks = await renderThroughStage(input, fixture.options);
    assert.equal(chunks.join(''), expected, 'the stage writes the same bytes');
    const encoder = new ChatRenderer(fixture.options);
    encoder.start();
    const nonEmpty = input.filter((batch) => encoder.push(batch) !== '').length;
    const tail = encoder.end() === '' ? 0 : 1;
    assert.equal(chunks.length, 1 + nonEmpty + tail, 'role frame, one chunk per rendering batch, the end');
  });
}

// ---------------------------------------------------------------------------------------------------------
// The core

test('sse-encoder: renders the guardrail error frame byte for byte, then [DONE]', () => {
  const encoder = new ChatRenderer(OPTIONS);
  encoder.start();
  assert.equal(
    encoder.push([errorEvent('guardrail_violation', 'Violated guardrail policy', 'corp-policy')]),
    'data: {"error":{"message":"Violated guardrail policy","type":"guardrail_violation","code":400,"guardrail":"corp-policy"}}\n\n' +
      'data: [DONE]\n\n',
  );
  assert.ok(encoder.finished);
  assert.equal(encoder.push([text('more')]), '');
  assert.equal(encoder.end(), '');
});

test('sse-encoder: an error frame carries the status as a numeric code and no guardrail key without one', () => {
  const encoder = new ChatRenderer(OPTIONS);
  encoder.start();
  assert.equal(
    encoder.push([errorEvent('upstream_timeout', 'no upstream byte for 30000 ms')]),
    'data: {"error":{"message":"no upstream byte for 30000 ms","type":"upstream_timeout","code":504}}\n\n' + DONE,
  );
});

test('sse-encoder: renders the role frame and chunks with the precomputed prefix', () => {
  const encoder = new ChatRenderer({ id: 'chatcmpl-"x"', created: 1, model: 'm', includeUsage: false });
  assert.equal(
    encoder.start(),
    'data: {"id":"chatcmpl-\\"x\\"","object":"chat.completion.chunk","created":1,"model":"m",' +
      '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
  );
  assert.equal(
    encoder.push([text('hi'), finish('length')]),
    'data: {"id":"chatcmpl-\\"x\\"","object":"chat.completion.chunk","created":1,"model":"m",' +
      '"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n' +
      'data: {"id":"chatcmpl-\\"x\\"","object":"chat.completion.chunk","created":1,"model":"m",' +
      '"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\n',
  );
  assert.equal(encoder.end(), DONE);
});

test('sse-encoder: usage counts cache read and write tokens in prompt_tokens', () => {
  const usage: Usage = { inputTokens: 3, outputTokens: 5, cacheReadTokens: 11, cacheWriteTokens: 13 };
  const encoder = new ChatRenderer({ ...OPTIONS, includeUsage: true });
  const frames = parseStream(encoder.start() + encoder.push([finish(), { kind: 'usage', usage }]) + encoder.end());
  const usageFrame = frames.find((f) => f.type === 'usage');
  assert.ok(usageFrame?.type === 'usage');
  assert.deepEqual(usageFrame.json.choices, []);
  assert.deepEqual(usageFrame.json.usage, {
    prompt_tokens: 27,
    completion_tokens: 5,
    total_tokens: 32,
    prompt_tokens_details: { cached_tokens: 11, cache_write_tokens: 13 },
  });
});

test('sse-encoder: text that looks like SSE syntax stays inside one JSON string', () => {
  const evil = 'a\n\ndata: [DONE]\n\nb\r\n: keep-alive\n\nevent: error\ndata: {"error":1}\n\n"\\\u2028\u2029';
  const frames = parseStream(render([[text(evil), text(evil)], [finish()]]));
  const contents = frames.flatMap((f) =>
    f.type === 'chunk' && typeof f.json.choices[0]!.delta.content === 'string' ? [f.json.choices[0]!.delta.content] : [],
  );
  assert.deepEqual(contents, ['', evil, evil]);
  assert.equal(frames.filter((f) => f.type === 'done').length, 1);
});

test('sse-encoder: end without a finish renders an upstream_protocol_error frame, never an invented finish', () => {
  const out = render([[text('partial')]]);
  const frames = parseStream(out);
  assert.equal(frames.filter((f) => f.type === 'chunk' && f.json.choices[0]!.finish_reason !== null).length, 0, 'no finish_reason');
  assert.ok(
    out.endsWith(
      'data: {"error":{"message":"stream ended without a finish or an error","type":"upstream_protocol_error","code":502}}\n\n' + DONE,
    ),
  );
});

test('sse-encoder: end without any event still opens and closes the stream properly', () => {
  const encoder = new ChatRenderer(OPTIONS);
  const out = encoder.end(); // start was never asked for: end prepends the role frame
  parseStream(out);
  assert.equal(encoder.start(), '');
});

test('sse-encoder: exactly one [DONE] whatever the call order', () => {
  const encoder = new ChatRenderer(OPTIONS);
  let out = encoder.push([text('a')]); // prepends the role frame
  out += encoder.start(); // already started: ''
  out += encoder.push([finish()]);
  assert.equal(encoder.finished, false, 'usage may still follow a finish');
  out += encoder.end();
  assert.ok(encoder.finished);
  out += encoder.end();
  out += encoder.push([text('late'), errorEvent('internal_error', 'late')]);
  out += encoder.start();
  parseStream(out);
  assert.equal(out.split(DONE).length, 2);

  const encoder2 = new ChatRenderer(OPTIONS);
  let out2 = encoder2.start() + encoder2.push([errorEvent('unavailable', 'draining')]);
  out2 += encoder2.end() + encoder2.push([finish()]) + encoder2.end();
  parseStream(out2);
  assert.equal(out2.split(DONE).length, 2);
});

test("sse-encoder: an error after a finish keeps the stream's one ending: the finish, then [DONE]", () => {
  const out = render([[text('a'), finish()], [errorEvent('upstream_protocol_error', 'trailing garbage')], [text('late')]]);
  const frames = parseStream(out);
  assert.deepEqual(
    frames.map((f) => f.type),
    ['chunk', 'chunk', 'chunk', 'done'],
  );
});

test('sse-encoder: refuses a created time that is not an integer', () => {
  assert.throws(() => new ChatRenderer({ ...OPTIONS, created: 1.5 }), RangeError);
  assert.throws(() => new ChatRenderer({ ...OPTIONS, created: Number.NaN }), RangeError);
  assert.throws(() => new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: -1 }), RangeError);
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const errorTypes = Object.keys(ERROR_STATUS) as ErrorType[];
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('\n\ndata: [DONE]\n\n', '"}]}', '\\', ': keep-alive\n\n', '\u2028'),
);
const bodyEvent = fc.oneof(
  anyString.map((t): StreamEvent => ({ kind: 'text', text: t })),
  anyString.map((t): StreamEvent => ({ kind: 'reasoning', text: t })),
  fc.record({ index: fc.nat(3), id: anyString, name: anyString }).map((r): StreamEvent => ({ kind: 'tool_start', ...r })),
  fc.record({ index: fc.nat(3), arguments: anyString }).map((r): StreamEvent => ({ kind: 'tool_delta', ...r })),
);
const usageEvent = fc
  .record({
    inputTokens: fc.nat(1e6),
    outputTokens: fc.nat(1e6),
    cacheReadTokens: fc.nat(1e6),
    cacheWriteTokens: fc.nat(1e6),
  })
  .map((usage): StreamEvent => ({ kind: 'usage', usage }));
const ending = fc.oneof(
  fc
    .tuple(fc.constantFrom<FinishReason>('stop', 'length', 'tool_calls', 'content_filter'), fc.option(usageEvent))
    .map(([reason, usage]): StreamEvent[] => (usage ? [finish(reason), usage] : [finish(reason)])),
  fc
    .tuple(fc.constantFrom(...errorTypes), anyString, fc.option(anyString, { nil: undefined }))
    .map(([type, message, guardrail]): StreamEvent[] => [errorEvent(type, message, guardrail)]),
  fc.constant<StreamEvent[]>([]), // neither: end() must supply the protocol error
);

test('sse-encoder property: random event sequences parse frame by frame and end with exactly one [DONE]', () => {
  fc.assert(
    fc.property(fc.array(bodyEvent, { maxLength: 20 }), ending, fc.boolean(), fc.integer(), (body, end, includeUsage, seed) => {
      const options = { ...OPTIONS, includeUsage };
      const events = [...body, ...end];
      const out = render(rebatch(events, seed), options);
      assert.equal(render([events], options), out, 'batching does not change the bytes');
      const frames = parseStream(out, options);

      const deltas = frames.flatMap((f) => (f.type === 'chunk' ? [f.json.choices[0]!] : []));
      const texts = body.flatMap((e) => (e.kind === 'text' ? [e.text] : []));
      assert.deepEqual(
        deltas.slice(1).flatMap((c) => ('content' in c.delta ? [c.delta.content] : [])),
        texts,
        'every text delta travels intact, in order',
      );
      const finishes = deltas.filter((c) => c.finish_reason !== null);
      const errorFrame = frames.find((f) => f.type === 'error');
      const last = end[0];
      if (last?.kind === 'finish') {
        assert.deepEqual(
          finishes.map((c) => c.finish_reason),
          [last.reason],
        );
        assert.equal(errorFrame, undefined);
        const hasUsage = frames.some((f) => f.type === 'usage');
        assert.equal(hasUsage, includeUsage && end.length === 2);
      } else {
        assert.equal(finishes.length, 0, 'no finish is invented for a failed stream');
        assert.ok(errorFrame?.type === 'error');
        const expectedType = last?.kind === 'error' ? last.error.type : 'upstream_protocol_error';
        assert.equal(errorFrame.json.error.type, expectedType);
        assert.equal(errorFrame.json.error.code, ERROR_STATUS[expectedType]);
        const keys = Object.keys(errorFrame.json.error);
        const guardrail = last?.kind === 'error' ? last.error.guardrail : undefined;
        assert.deepEqual(keys, guardrail === undefined ? ['message', 'type', 'code'] : ['message', 'type', 'code', 'guardrail']);
      }
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------------------------------------
// The stage: one write per batch, and the heartbeat

/** Lets process.nextTick work (stream delivery) run; setImmediate is not mocked. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function collect(stage: EncoderStage): string[] {
  const out: string[] = [];
  stage.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
  return out;
}

test('sse-encoder: the stage writes nothing until begin(), then one buffer per batch and the end', async () => {
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 0 });
  const out = collect(stage);
  await settle();
  assert.deepEqual(out, []);
  stage.begin();
  stage.begin(); // once only
  await settle();
  assert.equal(out.length, 1);
  stage.write([text('a'), text('b')]);
  stage.write([finish()]);
  stage.write([{ kind: 'usage', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 } }]);
  await settle();
  assert.equal(out.length, 3, 'one write per batch; a batch that renders nothing writes nothing');
  stage.end();
  await new Promise((resolve) => stage.on('end', resolve));
  assert.equal(out.at(-1), DONE);
  parseStream(out.join(''));
});

test('sse-encoder: a stage without begin() still starts with the role frame', async () => {
  const chunks: string[] = [];
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 0 });
  stage.on('data', (c: Buffer) => chunks.push(c.toString()));
  stage.end([text('x'), finish()]);
  await new Promise((resolve) => stage.on('end', resolve));
  parseStream(chunks.join(''));
});

test('sse-encoder: a keep-alive comment goes out after heartbeatMs of silence, and again after each period', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 1000 });
  const out = collect(stage);
  stage.begin();
  await settle();
  assert.equal(out.length, 1);
  t.mock.timers.tick(999);
  await settle();
  assert.equal(out.length, 1);
  t.mock.timers.tick(1);
  await settle();
  assert.deepEqual(out.slice(1), [KEEP_ALIVE]);
  t.mock.timers.tick(1000);
  await settle();
  assert.deepEqual(out.slice(1), [KEEP_ALIVE, KEEP_ALIVE]);
  stage.destroy();
});

test('sse-encoder: every frame pushed resets the heartbeat', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 1000 });
  const out = collect(stage);
  stage.begin();
  await settle();
  t.mock.timers.tick(600);
  stage.write([text('a')]);
  await settle();
  t.mock.timers.tick(600);
  await settle();
  assert.equal(out.filter((c) => c === KEEP_ALIVE).length, 0, '600 ms since the last frame');
  stage.write([]); // renders nothing: does not count as a frame
  t.mock.timers.tick(400);
  await settle();
  assert.equal(out.filter((c) => c === KEEP_ALIVE).length, 1);
  stage.destroy();
});

test('sse-encoder: no heartbeat after [DONE], after the end, or after destroy', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  // After an error frame and [DONE]:
  const a = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 100 });
  const outA = collect(a);
  a.begin();
  a.write([errorEvent('upstream_error', 'boom')]);
  await settle();
  t.mock.timers.tick(1000);
  await settle();
  assert.ok(outA.join('').endsWith(DONE));
  assert.ok(!outA.includes(KEEP_ALIVE));

  // After the end of the stream:
  const b = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 100 });
  const outB = collect(b);
  b.begin();
  b.end([finish()]);
  await new Promise((resolve) => b.on('end', resolve));
  t.mock.timers.tick(1000);
  await settle();
  assert.ok(!outB.includes(KEEP_ALIVE));
  parseStream(outB.join(''));

  // After destroy:
  const c = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 100 });
  const outC = collect(c);
  const errors: unknown[] = [];
  c.on('error', (e) => errors.push(e));
  c.begin();
  await settle();
  c.destroy();
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(outC.length, 1);
  assert.deepEqual(errors, []);
});

test('sse-encoder: heartbeatMs 0 disables the heartbeat', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 0 });
  const out = collect(stage);
  stage.begin();
  t.mock.timers.tick(1_000_000);
  await settle();
  assert.equal(out.length, 1);
  stage.destroy();
});

test('sse-encoder: no keep-alive is queued behind output a slow reader has not taken yet', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 100 });
  stage.begin(); // nobody reads: the role frame stays queued
  const queued = stage.readableLength;
  assert.ok(queued > 0);
  t.mock.timers.tick(100);
  await settle();
  assert.equal(stage.readableLength, queued);
  const first = stage.read() as Buffer;
  assert.ok(first.toString().includes('"role":"assistant"'));
  t.mock.timers.tick(100);
  await settle();
  assert.equal((stage.read() as Buffer).toString(), KEEP_ALIVE);
  stage.destroy();
});

test("sse-encoder: a real heartbeat timer fires, unref'd so that it never keeps the process alive", async () => {
  const guard = setTimeout(() => undefined, 10_000); // the heartbeat alone would not hold the event loop
  const stage = new EncoderStage({ renderer: new ChatRenderer(OPTIONS), heartbeatMs: 5 });
  const out = collect(stage);
  stage.begin();
  await new Promise<void>((resolve) => {
    stage.on('data', (c: Buffer) => {
      if (c.toString() === KEEP_ALIVE) resolve();
    });
  });
  clearTimeout(guard);
  stage.destroy();
  assert.equal(out[1], KEEP_ALIVE);
});
