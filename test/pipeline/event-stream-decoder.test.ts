import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seeded } from '../helpers/streams.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { EventStreamCodec, Int64, type Message, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { SidecarError, isSidecarError } from '../../src/errors.ts';
import {
  EventStreamDecoder,
  EventStreamSplitter,
  type DecodedBatch,
  type EventStreamDecoderInput,
} from '../../src/pipeline/event-stream-decoder.ts';

const VECTORS = new URL('../fixtures/vectors/eventstream/', import.meta.url);
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** docs/bedrock-wire.md#worked-frame-a-chunk-event: an InvokeModelWithResponseStream `chunk` event. */
const CHUNK_FRAME = Buffer.from(
  'AAAAhwAAAEuH6ivzCzpldmVudC10eXBlBwAFY2h1bmsNOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcABWV2ZW50eyJieXRlcyI6ImV5SjBlWEJsSWpvaWJXVnpjMkZuWlY5emRHOXdJbjA9In26SKsi',
  'base64',
);
/** docs/bedrock-wire.md#worked-frame-an-exception: a modeled `throttlingException` frame. */
const EXCEPTION_FRAME = Buffer.from(
  'AAAAsgAAAGE1kNXTDzpleGNlcHRpb24tdHlwZQcAE3Rocm90dGxpbmdFeGNlcHRpb24NOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcACWV4Y2VwdGlvbnsibWVzc2FnZSI6IlRvbyBtYW55IHJlcXVlc3RzLCBwbGVhc2Ugd2FpdCBiZWZvcmUgdHJ5aW5nIGFnYWluLiJ96P+yag==',
  'base64',
);

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.byteLength))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

function randomSplits(bytes: Uint8Array, seed: number): Uint8Array[] {
  const random = seeded(seed);
  const count = 1 + Math.floor(random() * Math.min(bytes.byteLength, 12));
  return splitAt(
    bytes,
    Array.from({ length: count }, () => Math.floor(random() * bytes.byteLength)),
  );
}

function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** The ways every fixture is fed: whole, byte by byte, and at seeded random split points. */
function feedings(bytes: Uint8Array): Array<[string, Uint8Array[]]> {
  return [
    ['whole', [bytes]],
    ['one byte at a time', oneByteAtATime(bytes)],
    ...[1, 2, 3, 4, 5].map((seed): [string, Uint8Array[]] => [`random splits (seed ${seed})`, randomSplits(bytes, seed)]),
  ];
}

/** Runs the pure core to completion; returns the messages and the error that stopped it, if any. */
function split(chunks: Uint8Array[], options = {}): { messages: Message[]; error?: SidecarError } {
  const splitter = new EventStreamSplitter(options);
  const messages: Message[] = [];
  try {
    for (const chunk of chunks) messages.push(...splitter.push(chunk));
    splitter.end();
    return { messages };
  } catch (error) {
    assert.ok(isSidecarError(error), `expected a SidecarError, got ${String(error)}`);
    return { messages, error };
  }
}

/** Plain-data view of a message, comparable with deepEqual across views on different buffers. */
function plain(message: Message): unknown {
  const headers: Record<string, unknown> = {};
  for (const [name, header] of Object.entries(message.headers)) {
    const value = header.value;
    headers[name] = {
      type: header.type,
      value:
        value instanceof Uint8Array
          ? Buffer.from(value).toString('hex')
          : value instanceof Int64
            ? Buffer.from(value.bytes).toString('hex')
            : value instanceof Date
              ? value.getTime()
              : value,
    };
  }
  return { headers, body: Buffer.from(message.body).toString('hex') };
}

async function runDecoder(items: EventStreamDecoderInput[], options = {}): Promise<DecodedBatch[]> {
  const decoder = new EventStreamDecoder(options);
  let emittedError: unknown;
  decoder.on('error', (error) => {
    emittedError = error;
  });
  const batches: DecodedBatch[] = [];
  const done = Readable.from(items, { objectMode: true }).pipe(decoder);
  for await (const batch of done) batches.push(batch as DecodedBatch);
  assert.equal(emittedError, undefined, 'the decoder must not emit error');
  return batches;
}

function eventMessage(headers: Record<string, string>, body: string): Uint8Array {
  const tagged: MessageHeaders = {};
  for (const [name, value] of Object.entries(headers)) tagged[name] = { type: 'string', value };
  return codec.encode({ headers: tagged, body: fromUtf8(body) });
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A prelude announcing `total` bytes with `headers` bytes of headers, with a correct prelude CRC. */
function prelude(total: number, headers: number): Uint8Array {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(total, 0);
  bytes.writeUInt32BE(headers, 4);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 8)), 8);
  return new Uint8Array(bytes);
}

// --- the official vectors ------------------------------------------------------------------------------

interface VectorHeader {
  name: string;
  type: number;
  value: unknown;
}
interface PositiveVector {
  total_length: number;
  headers_length: number;
  prelude_crc: number;
  headers: VectorHeader[];
  payload: string;
  message_crc: number;
}

/** A decoded message in the vectors' own notation (type tags 0–9, byte strings base64). */
function asVector(message: Message): { headers: VectorHeader[]; payload: string } {
  const headers = Object.entries(message.headers).map(([name, header]): VectorHeader => {
    switch (header.type) {
      case 'boolean':
        return { name, type: header.value ? 0 : 1, value: header.value };
      case 'byte':
        return { name, type: 2, value: header.value };
      case 'short':
        return { name, type: 3, value: header.value };
      case 'integer':
        return { name, type: 4, value: header.value };
      case 'long':
        return { name, type: 5, value: header.value.valueOf() };
      case 'binary':
        return { name, type: 6, value: Buffer.from(header.value).toString('base64') };
      case 'string':
        return { name, type: 7, value: Buffer.from(header.value, 'utf8').toString('base64') };
      case 'timestamp':
        return { name, type: 8, value: header.value.getTime() };
      case 'uuid':
        return { name, type: 9, value: Buffer.from(header.value.replace(/-/g, ''), 'hex').toString('base64') };
    }
  });
  return { headers, payload: Buffer.from(message.body).toString('base64') };
}

test('event-stream decoder: every official vector decodes to its description or is rejected, however it is split', () => {
  let positives = 0;
  let negatives = 0;
  for (const set of ['positive', 'negative'] as const) {
    for (const name of readdirSync(new URL(`encoded/${set}/`, VECTORS)).sort()) {
      const bytes = new Uint8Array(readFileSync(new URL(`encoded/${set}/${name}`, VECTORS)));
      const decoded = readFileSync(new URL(`decoded/${set}/${name}`, VECTORS), 'utf8');
      let first: unknown;
      for (const [how, chunks] of feedings(bytes)) {
        const label = `${set}/${name} fed ${how}`;
        const result = split(chunks);
        if (set === 'positive') {
          const expected = JSON.parse(decoded) as PositiveVector;
          assert.equal(result.error, undefined, `${label}: ${result.error?.message}`);
          assert.equal(result.messages.length, 1, label);
          assert.deepEqual(asVector(result.messages[0]!), { headers: expected.headers, payload: expected.payload }, label);
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          assert.equal(view.getUint32(0), expected.total_length, label);
          assert.equal(view.getUint32(4), expected.headers_length, label);
          assert.equal(view.getInt32(8), expected.prelude_crc, label);
          assert.equal(view.getInt32(bytes.byteLength - 4), expected.message_crc, label);
          const plainMessage = plain(result.messages[0]!);
          if (first === undefined) first = plainMessage;
          assert.deepEqual(plainMessage, first, `${label}: identical to the whole-fed result`);
        } else {
          assert.equal(result.messages.length, 0, label);
          assert.equal(result.error?.type, 'upstream_protocol_error', label);
          // The vectors name the fault ("Prelude checksum mismatch"); our wording says the same thing.
          assert.ok(result.error.message.toLowerCase().includes(decoded.trim().toLowerCase()), `${label}: ${result.error.message}`);
        }
      }
      if (set === 'positive') positives += 1;
      else negatives += 1;
    }
  }
  assert.equal(positives, 5);
  assert.equal(negatives, 4);
});

// --- the worked frames of docs/bedrock-wire.md (a chunk event, an exception) -------------------------------

test('event-stream decoder: the worked chunk frame (docs/bedrock-wire.md#worked-frame-a-chunk-event) decodes however it is split', () => {
  for (const [how, chunks] of feedings(CHUNK_FRAME)) {
    const { messages, error } = split(chunks);
    assert.equal(error, undefined, how);
    assert.equal(messages.length, 1, how);
    const [message] = messages as [Message];
    assert.deepEqual(message.headers, {
      ':event-type': { type: 'string', value: 'chunk' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    });
    const payload = JSON.parse(toUtf8(message.body)) as { bytes: string };
    assert.deepEqual(JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')), { type: 'message_stop' });
  }
});

test('event-stream decoder: the worked exception frame (docs/bedrock-wire.md#worked-frame-an-exception) decodes however it is split', () => {
  assert.equal(EXCEPTION_FRAME.byteLength, 178);
  for (const [how, chunks] of feedings(EXCEPTION_FRAME)) {
    const { messages, error } = split(chunks);
    assert.equal(error, undefined, how);
    assert.deepEqual(messages[0]!.headers, {
      ':exception-type': { type: 'string', value: 'throttlingException' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    });
    assert.deepEqual(JSON.parse(toUtf8(messages[0]!.body)), {
      message: 'Too many requests, please wait before trying again.',
    });
  }
});

// --- framing behaviour ---------------------------------------------------------------------------------

test('event-stream decoder: many messages in one chunk come out in order from one push', () => {
  const frames = Array.from({ length: 50 }, (_, i) =>
    eventMessage({ ':event-type': 'chunk', ':message-type': 'event' }, JSON.stringify({ i })),
  );
  const splitter = new EventStreamSplitter();
  const messages = splitter.push(concat([...frames, CHUNK_FRAME, EXCEPTION_FRAME]));
  splitter.end();
  assert.equal(messages.length, 52);
  assert.deepEqual(
    messages.slice(0, 50).map((m) => JSON.parse(toUtf8(m.body))),
    Array.from({ length: 50 }, (_, i) => ({ i })),
  );
  assert.equal(messages[51]!.headers[':message-type']!.value, 'exception');
});

test('event-stream decoder: a message completes on the push that delivers its last byte, not before', () => {
  const splitter = new EventStreamSplitter();
  assert.deepEqual(splitter.push(CHUNK_FRAME.subarray(0, 134)), []);
  const messages = splitter.push(concat([CHUNK_FRAME.subarray(134), EXCEPTION_FRAME.subarray(0, 5)]));
  assert.equal(messages.length, 1);
  assert.equal(splitter.push(EXCEPTION_FRAME.subarray(5)).length, 1);
  splitter.end();
});

test('event-stream decoder: a truncated last message is an error at the end, not a clean end', () => {
  const truncated = concat([CHUNK_FRAME, EXCEPTION_FRAME.subarray(0, 100)]);
  for (const [how, chunks] of feedings(truncated)) {
    const { messages, error } = split(chunks);
    assert.equal(messages.length, 1, how);
    assert.equal(error?.type, 'upstream_protocol_error', how);
    assert.equal(error.message, 'upstream ended inside an event-stream message (100 of 178 bytes)', how);
  }
  const { error } = split([CHUNK_FRAME.subarray(0, 7)]);
  assert.match(error?.message ?? '', /upstream ended inside an event-stream message \(7 of at least 12 bytes\)/);
});

test('event-stream decoder: an over-limit length fails as soon as the prelude arrives', () => {
  const splitter = new EventStreamSplitter();
  assert.throws(
    () => splitter.push(prelude(0x7fff_ffff, 0)),
    (error: unknown) =>
      isSidecarError(error) &&
      error.type === 'upstream_protocol_error' &&
      error.message === `event-stream message length ${0x7fff_ffff} exceeds the limit ${8 * 1024 * 1024}`,
  );
  // The limit is an option.
  const small = new EventStreamSplitter({ maxMessageBytes: 100 });
  assert.throws(() => small.push(CHUNK_FRAME.subarray(0, 12)), /message length 135 exceeds the limit 100/);
  assert.throws(() => new EventStreamSplitter({ maxMessageBytes: 8 }), RangeError);
});

test('event-stream decoder: impossible lengths in a checksummed prelude are rejected at once', () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [prelude(15, 0), /message length 15 is below the minimum 16/],
    [prelude(100, 85), /headers length 85 does not fit in a message of length 100/],
    [prelude(300_000, 200_000), /headers length 200000 exceeds the limit 131072/],
  ];
  for (const [bytes, expected] of cases) {
    assert.throws(() => new EventStreamSplitter().push(bytes), expected);
  }
});

test('event-stream decoder: a prelude checksum is checked before waiting for the message', () => {
  const corrupt = Buffer.from(CHUNK_FRAME.subarray(0, 12));
  corrupt[3]! ^= 0x40; // total length 135 → 199; the prelude CRC no longer matches
  const splitter = new EventStreamSplitter();
  assert.throws(() => splitter.push(corrupt), /event-stream prelude checksum mismatch/);
});

test('event-stream decoder: headers that overrun their section are a protocol error, even with good CRCs', () => {
  // One string header whose declared value length (200) runs past the 20-byte header section.
  const headers = Buffer.from([4, ...Buffer.from('name'), 7, 0, 200, ...Buffer.alloc(12)]);
  const total = 12 + headers.byteLength + 4;
  const message = Buffer.concat([prelude(total, headers.byteLength), headers, Buffer.alloc(4)]);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  assert.throws(() => new EventStreamSplitter().push(message), /event-stream header 0 overruns the headers section/);
  const unknownType = Buffer.from(message);
  unknownType[17] = 12;
  unknownType.writeUInt32BE(crc32(unknownType.subarray(0, total - 4)), total - 4);
  assert.throws(() => new EventStreamSplitter().push(unknownType), /event-stream header 0 has unknown type 12/);
});

/** A frame with string headers given as raw bytes (any bytes, valid UTF-8 or not), with correct CRCs. */
function rawStringFrame(headers: Array<[name: Uint8Array, value: Uint8Array]>, body = new Uint8Array(0)): Uint8Array {
  const section = Buffer.concat(
    headers.map(([name, value]) => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(value.byteLength);
      return Buffer.concat([Buffer.from([name.byteLength]), name, Buffer.from([7]), length, value]);
    }),
  );
  const total = 12 + section.byteLength + body.byteLength + 4;
  const message = Buffer.concat([prelude(total, section.byteLength), section, body, Buffer.alloc(4)]);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return new Uint8Array(message);
}

/** Decodes `frame` with the splitter and checks its headers against the codec and `Buffer#toString`. */
function assertStringsDecodeAsToString(headers: Array<[Uint8Array, Uint8Array]>, label: string): void {
  const frame = rawStringFrame(headers);
  const { messages, error } = split([frame]);
  assert.equal(error, undefined, label);
  const expected: Record<string, unknown> = {};
  for (const [name, value] of headers) {
    expected[Buffer.from(name).toString('utf8')] = { type: 'string', value: Buffer.from(value).toString('utf8') };
  }
  assert.deepEqual(messages[0]!.headers, expected, label);
  assert.deepEqual(messages[0]!.headers, codec.decode(frame).headers, `${label} (codec)`);
}

test('event-stream decoder: header strings decode exactly as Buffer#toString, cached or not', () => {
  const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
  const common: Array<[Uint8Array, Uint8Array]> = [
    [bytes(':event-type'), bytes('contentBlockDelta')],
    [bytes(':content-type'), bytes('application/json')],
    [bytes(':message-type'), bytes('event')],
  ];
  // Decoded twice: the second time the ASCII strings come from the cache.
  assertStringsDecodeAsToString(common, 'common headers, first time');
  assertStringsDecodeAsToString(common, 'common headers, cached');
  // Same lengths as cached strings, one byte different (last, first, and a high bit set).
  assertStringsDecodeAsToString([[bytes(':event-typf'), bytes('contentBlockDeltb')]], 'near misses (last byte)');
  assertStringsDecodeAsToString([[bytes(';event-type'), bytes('dontentBlockDelta')]], 'near misses (first byte)');
  assertStringsDecodeAsToString(
    [[bytes(':event-type'), new Uint8Array([...bytes('contentBlockDelt'), 0xe1])]],
    'a cached prefix then a high byte',
  );
  // Non-ASCII, invalid UTF-8 (lone continuation, truncated sequences, overlong, encoded surrogate, 0xff),
  // control bytes, the empty value, and the 32/33-byte cache boundary; each twice.
  const odd: Array<[string, Uint8Array]> = [
    ['é', bytes('é')],
    ['CJK', bytes('日本語テキスト')],
    ['emoji', bytes('a🙂b')],
    ['lone continuation', new Uint8Array([0x61, 0x80, 0x62])],
    ['truncated 2-byte', new Uint8Array([0x61, 0xc3])],
    ['truncated 3-byte', new Uint8Array([0xe2, 0x82])],
    ['overlong', new Uint8Array([0xc0, 0xaf])],
    ['encoded surrogate', new Uint8Array([0xed, 0xa0, 0x80])],
    ['0xff', new Uint8Array([0xff, 0xfe, 0x41])],
    ['NUL and controls', new Uint8Array([0x00, 0x41, 0x1f, 0x7f])],
    ['empty', new Uint8Array(0)],
    ['32 bytes', bytes('a'.repeat(32))],
    ['33 bytes', bytes('a'.repeat(33))],
  ];
  for (const [label, value] of odd) {
    for (const round of ['first', 'second']) {
      assertStringsDecodeAsToString([[value.byteLength > 0 ? value : bytes('x'), value]], `${label} (${round})`);
    }
  }
  // Far more distinct ASCII strings than the cache has slots, interleaved and repeated: slots collide and
  // are replaced, and a string must never come back as another one that shares its slot.
  const many = Array.from({ length: 3000 }, (_, i) => bytes(`k${(i * 7919).toString(36)}`));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < many.length; i += 6) {
      assertStringsDecodeAsToString(
        many.slice(i, i + 6).map((b, j) => [bytes(`h${j}`), b]),
        `many strings, round ${round}`,
      );
    }
  }
});

test('event-stream decoder: random header bytes decode as Buffer#toString, twice in a row', () => {
  // ASCII from a tiny alphabet (so strings repeat and collide in the cache) or arbitrary bytes.
  const text = fc.oneof(
    fc.array(fc.constantFrom(0x3a, 0x61, 0x62, 0x2d), { maxLength: 34 }).map((a) => new Uint8Array(a)),
    fc.uint8Array({ maxLength: 40 }),
  );
  const name = text.filter((b) => b.byteLength > 0);
  fc.assert(
    fc.property(fc.array(fc.tuple(name, text), { maxLength: 6 }), (headers) => {
      assertStringsDecodeAsToString(headers, 'first');
      assertStringsDecodeAsToString(headers, 'second');
    }),
    { numRuns: 300 },
  );
});

test('event-stream decoder: after an error the splitter is poisoned and rethrows the same error', () => {
  const splitter = new EventStreamSplitter();
  const corrupt = Buffer.from(CHUNK_FRAME);
  corrupt[60]! ^= 1;
  let first: unknown;
  try {
    splitter.push(corrupt);
  } catch (error) {
    first = error;
  }
  assert.ok(isSidecarError(first));
  assert.match(first.message, /event-stream message checksum mismatch/);
  assert.throws(
    () => splitter.push(CHUNK_FRAME),
    (error) => error === first,
  );
  assert.throws(
    () => splitter.end(),
    (error) => error === first,
  );
});

test('event-stream decoder: a byte-at-a-time 1 MiB message is joined in linear time', () => {
  const body = new Uint8Array(1024 * 1024).fill(0x61);
  const frame = codec.encode({ headers: {}, body });
  const splitter = new EventStreamSplitter();
  const started = performance.now();
  let messages: Message[] = [];
  for (let i = 0; i < frame.byteLength; i += 1) {
    const out = splitter.push(frame.subarray(i, i + 1));
    if (out.length > 0) messages = out;
  }
  splitter.end();
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.body.byteLength, body.byteLength);
  // A quadratic join would copy ~5·10^11 bytes here (minutes); the linear one takes well under a second.
  assert.ok(performance.now() - started < 10_000);
});

// --- the stream adapter --------------------------------------------------------------------------------

test('event-stream decoder: the Transform emits one batch per chunk that completed messages', async () => {
  const batches = await runDecoder([
    concat([CHUNK_FRAME, EXCEPTION_FRAME.subarray(0, 10)]),
    EXCEPTION_FRAME.subarray(10, 20),
    new Uint8Array(0),
    concat([EXCEPTION_FRAME.subarray(20), CHUNK_FRAME, CHUNK_FRAME]),
  ]);
  assert.deepEqual(
    batches.map((batch) => batch.map((item) => (isSidecarError(item) ? 'error' : item.headers[':message-type']!.value))),
    [['event'], ['exception', 'event', 'event']],
  );
});

test('event-stream decoder: the Transform turns a framing error into the last item and ignores the rest', async () => {
  const corrupt = Buffer.from(EXCEPTION_FRAME);
  corrupt[150]! ^= 0xff;
  const batches = await runDecoder([concat([CHUNK_FRAME, corrupt]), CHUNK_FRAME, CHUNK_FRAME]);
  assert.equal(batches.length, 1);
  const [batch] = batches as [DecodedBatch];
  assert.equal(batch.length, 2);
  assert.ok(!isSidecarError(batch[0]));
  const last = batch[1];
  assert.ok(isSidecarError(last));
  assert.equal(last.type, 'upstream_protocol_error');
  assert.match(last.message, /message checksum mismatch/);
});

test('event-stream decoder: an upstream error item travels through as data and ends the output', async () => {
  const timeout = new SidecarError('upstream_timeout', 'upstream idle for 30000 ms');
  const batches = await runDecoder([CHUNK_FRAME, EXCEPTION_FRAME.subarray(0, 50), timeout, CHUNK_FRAME]);
  assert.equal(batches.length, 2);
  assert.equal(batches[1]!.length, 1);
  assert.equal(batches[1]![0], timeout);
});

test('event-stream decoder: the Transform turns a truncated body into a final error batch at flush', async () => {
  const batches = await runDecoder([CHUNK_FRAME, EXCEPTION_FRAME.subarray(0, 100)]);
  assert.equal(batches.length, 2);
  const [error] = batches[1] as [SidecarError];
  assert.ok(isSidecarError(error));
  assert.equal(error.message, 'upstream ended inside an event-stream message (100 of 178 bytes)');
});

test('event-stream decoder: the Transform applies backpressure with a small readable buffer', async () => {
  const decoder = new EventStreamDecoder();
  let accepted = 0;
  while (decoder.write(CHUNK_FRAME)) accepted += 1;
  // Four batches fill the readable side, four chunks the writable side; then write() says stop.
  assert.ok(accepted <= 8, `accepted ${accepted} writes before backpressure`);
  decoder.end();
  let batches = 0;
  for await (const _ of decoder) batches += 1;
  assert.equal(batches, accepted + 1);
});

// --- properties ----------------------------------------------------------------------------------------

const headerName = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => Buffer.byteLength(s) <= 255);
const headerValue: fc.Arbitrary<MessageHeaders[string]> = fc.oneof(
  fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
  fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'byte' as const, value })),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 'short' as const, value })),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'integer' as const, value })),
  fc.maxSafeInteger().map((value) => ({ type: 'long' as const, value: Int64.fromNumber(value) })),
  fc.uint8Array({ maxLength: 64 }).map((value) => ({ type: 'binary' as const, value })),
  fc.string({ maxLength: 64 }).map((value) => ({ type: 'string' as const, value })),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => ({ type: 'timestamp' as const, value: new Date(ms) })),
  fc.uuid().map((value) => ({ type: 'uuid' as const, value: value.toLowerCase() })),
);
const message: fc.Arbitrary<Message> = fc.record({
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
  body: fc.uint8Array({ maxLength: 300 }),
});

test('event-stream decoder: random valid message sequences split at random points decode identically', () => {
  fc.assert(
    fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (messages, cuts) => {
      const frames = messages.map((m) => codec.encode(m));
      const stream = concat(frames);
      const expected = frames.map((frame) => plain(codec.decode(frame)));
      const whole = split([stream]);
      const pieces = split(
        splitAt(
          stream,
          cuts.map((c) => c % (stream.byteLength + 1)),
        ),
      );
      const bytewise = split(oneByteAtATime(stream));
      for (const result of [whole, pieces, bytewise]) {
        assert.equal(result.error, undefined);
        assert.deepEqual(result.messages.map(plain), expected);
      }
    }),
    { numRuns: 150 },
  );
});

test('event-stream decoder: any single flipped bit in a valid stream ends in a protocol-error item', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(message, { minLength: 1, maxLength: 4 }),
      fc.nat(),
      fc.nat({ max: 7 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      async (messages, at, bit, cuts) => {
        const frames = messages.map((m) => codec.encode(m));
        const stream = Buffer.from(concat(frames));
        const index = at % stream.byteLength;
        stream[index]! ^= 1 << bit;
        const batches = await runDecoder(
          splitAt(
            new Uint8Array(stream),
            cuts.map((c) => c % stream.byteLength),
          ),
        );
        const items = batches.flat();
        const last = items.at(-1);
        assert.ok(isSidecarError(last) && last.type === 'upstream_protocol_error');
        // Messages before the damaged one come out intact; nothing after it.
        let damaged = 0;
        for (let end = 0; damaged < frames.length; damaged += 1) {
          end += frames[damaged]!.byteLength;
          if (end > index) break;
        }
        const intact = items.slice(0, -1) as Message[];
        assert.deepEqual(
          intact.map(plain),
          frames.slice(0, damaged).map((f) => plain(codec.decode(f))),
        );
      },
    ),
    { numRuns: 150 },
  );
});

test('event-stream decoder: random bytes never throw out of the Transform, only messages or a protocol-error item', async () => {
  const prefix = fc.array(message, { maxLength: 3 }).map((ms) => concat(ms.map((m) => codec.encode(m))));
  await fc.assert(
    fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 10 }), async (valid, garbage, cuts) => {
      const stream = concat([valid, garbage]);
      const batches = await runDecoder(
        splitAt(
          stream,
          cuts.map((c) => c % (stream.byteLength + 1)),
        ),
      );
      const items = batches.flat();
      for (const batch of batches) assert.ok(batch.length > 0);
      items.forEach((item, i) => {
        if (isSidecarError(item)) {
          assert.equal(item.type, 'upstream_protocol_error');
          assert.equal(i, items.length - 1, 'an error is always the last item');
        } else {
          assert.ok(item.body instanceof Uint8Array);
        }
      });
    }),
    { numRuns: 200 },
  );
});
