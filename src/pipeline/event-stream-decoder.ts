/**
 * Stage 1 of the response pipeline: the bytes of an `application/vnd.amazon.eventstream` body in, decoded
 * event-stream messages out (docs/bedrock-wire.md#event-stream-framing).
 *
 * Input: byte chunks cut at arbitrary boundaries (a message may span many chunks; a chunk may hold many
 * messages). Output: `Message`s (`@smithy/core/event-streams`), in wire order, each emitted as soon as its
 * last byte arrives.
 *
 * Invariants: nothing is trusted before it is checked. As soon as the 12-byte prelude is present its CRC is
 * verified and `total_length` / `headers_length` are bounded (`maxMessageBytes`, 128 KiB of headers), so a
 * corrupt length fails at once instead of waiting for gigabytes; the message CRC is checked before the
 * headers are read, and every header is proved to lie inside the header section as it is read (the codec's
 * own `decode`, which would check both CRCs a second time in JavaScript, is not used). Pending bytes are
 * kept as a list of chunks (with an offset into the first) and joined once per message (each byte is copied
 * at most once; a message inside one chunk is not copied at all, so its `body` is a view on that chunk).
 * Memory held is at most one message (≤ `maxMessageBytes`) plus one chunk.
 *
 * Errors: any framing fault is a `SidecarError('upstream_protocol_error')` naming what was wrong. The pure
 * core (`EventStreamSplitter`) throws it and stays poisoned; the stream adapter (`EventStreamDecoder`) turns
 * it into data — the last item of the last batch — and never emits `'error'` for upstream bytes, because
 * after the commit point errors travel down the pipeline as items (STYLE §4).
 *
 * Backpressure: the adapter is an object-mode `Transform` with small high-water marks on both sides (one
 * batch per input chunk), so a slow consumer stalls the upstream read.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { Int64, type Message, type MessageHeaders, type MessageHeaderValue } from '@smithy/core/event-streams';
import { SidecarError, isSidecarError, toSidecarError } from '../errors.ts';

/** total_length + headers_length + prelude_crc. */
const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC: the size of a message with no headers and no payload. */
const MIN_MESSAGE_BYTES = 16;
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** The Smithy spec's bound on the encoded headers of one message (docs/bedrock-wire.md#size-limits). */
export const MAX_HEADERS_BYTES = 128 * 1024;

export type { Message };
export type DecodedItem = Message | SidecarError;
export type DecodedBatch = DecodedItem[];

export interface EventStreamSplitterOptions {
  /** Largest accepted message, prelude and CRCs included. Default 8 MiB; at least 16. */
  maxMessageBytes?: number;
}

function protocolError(message: string, cause?: unknown): SidecarError {
  return new SidecarError('upstream_protocol_error', message, cause === undefined ? {} : { cause });
}

/** Value sizes of header types 0–9 (docs/bedrock-wire.md#header-encoding); -1 marks the uint16-length-prefixed types. */
const HEADER_VALUE_BYTES = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16] as const;

/**
 * Header names and most string values repeat in every message (`:event-type`, `:content-type`,
 * `application/json`, `contentBlockDelta`, `event`, ...), and `Buffer#toString` for each is a native call
 * and a fresh string, six per message. This table remembers short strings by their bytes, so a repeated
 * one costs a hash and a compare in JavaScript and returns the string decoded the first time.
 *
 * Exactness: a hit needs the same length and the very same bytes, and decoding is a pure function of the
 * bytes, so a hit returns exactly what `toString('utf8')` returned for them — whatever they are (non-ASCII
 * and invalid UTF-8 included: the stored string is `toString`'s own output, replacement characters and all).
 * Longer strings go to `toString` every time.
 *
 * Bound: a fixed, direct-mapped table (each slot holds the last string that hashed to it), so it never
 * grows, and input that churns it only costs misses. It is shared by every splitter: the common strings are
 * the same on every stream.
 */
const STRING_CACHE_SLOTS = 256; // a power of two
const STRING_CACHE_MAX_BYTES = 32;
const cachedBytes = new Uint8Array(STRING_CACHE_SLOTS * STRING_CACHE_MAX_BYTES);
/** Byte length of each slot's string; 0 marks an empty slot (the empty string is never stored). */
const cachedLengths = new Uint8Array(STRING_CACHE_SLOTS);
const cachedStrings: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('');

/** `bytes.toString('utf8', start, end)`, from the table above when the same bytes were decoded before. */
function utf8String(bytes: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > STRING_CACHE_MAX_BYTES) return bytes.toString('utf8', start, end);
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  const slot = (hash ^ (hash >>> 16)) & (STRING_CACHE_SLOTS - 1);
  const base = slot * STRING_CACHE_MAX_BYTES;
  if (cachedLengths[slot] === length) {
    let i = 0;
    while (i < length && cachedBytes[base + i] === bytes[start + i]) i++;
    if (i === length) return cachedStrings[slot]!;
  }
  const value = bytes.toString('utf8', start, end);
  for (let i = 0; i < length; i++) cachedBytes[base + i] = bytes[start + i]!;
  cachedLengths[slot] = length;
  cachedStrings[slot] = value;
  return value;
}

/**
 * Reads the header section `[start, end)` of a message whose CRCs were verified, proving as it goes that
 * every name and value lies inside the section. The values are exactly what the codec's `HeaderMarshaller`
 * gives (`Int64` for longs, `Date` for timestamps, lower-case dashed UUIDs, views for binary values,
 * later duplicates replacing earlier ones); it is one walk instead of a check and a parse, and strings are
 * decoded straight from the message bytes (`utf8String`).
 */
function readHeaders(message: Uint8Array, start: number, end: number): MessageHeaders {
  const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const out: MessageHeaders = {};
  let position = start;
  let index = 0;
  while (position < end) {
    const nameLength = bytes[position]!;
    if (nameLength === 0) throw protocolError(`event-stream header ${index} has an empty name`);
    const nameStart = position + 1;
    position = nameStart + nameLength;
    if (position >= end) throw protocolError(`event-stream header ${index} overruns the headers section`);
    const type = bytes[position]!;
    position += 1;
    const fixed = HEADER_VALUE_BYTES[type];
    if (fixed === undefined) throw protocolError(`event-stream header ${index} has unknown type ${type}`);
    const valueStart = fixed === -1 ? position + 2 : position;
    if (fixed === -1) {
      if (valueStart > end) throw protocolError(`event-stream header ${index} overruns the headers section`);
      position = valueStart + ((bytes[position]! << 8) | bytes[position + 1]!);
    } else {
      position += fixed;
    }
    if (position > end) throw protocolError(`event-stream header ${index} overruns the headers section`);
    out[utf8String(bytes, nameStart, nameStart + nameLength)] = headerValue(bytes, type, valueStart, position);
    index += 1;
  }
  return out;
}

function headerValue(bytes: Buffer, type: number, start: number, end: number): MessageHeaderValue {
  switch (type) {
    case 7:
      return { type: 'string', value: utf8String(bytes, start, end) };
    case 0:
      return { type: 'boolean', value: true };
    case 1:
      return { type: 'boolean', value: false };
    case 2:
      return { type: 'byte', value: bytes.readInt8(start) };
    case 3:
      return { type: 'short', value: bytes.readInt16BE(start) };
    case 4:
      return { type: 'integer', value: bytes.readInt32BE(start) };
    case 5:
      return { type: 'long', value: new Int64(new Uint8Array(bytes.buffer, bytes.byteOffset + start, 8)) };
    case 6:
      return { type: 'binary', value: new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start) };
    case 8:
      return { type: 'timestamp', value: new Date(new Int64(new Uint8Array(bytes.buffer, bytes.byteOffset + start, 8)).valueOf()) };
    default: {
      const hex = bytes.toString('hex', start, end);
      return { type: 'uuid', value: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` };
    }
  }
}

/** The CRC-32 table (zlib's reflected polynomial 0xEDB88320), for `crc32Update`. */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

/**
 * `zlib.crc32(bytes.subarray(start, end), crc)` in JavaScript, without the view: for a handful of bytes
 * (the 8 the prelude CRC covers, the 4 of a stored CRC) the native call and the view cost far more than
 * the table walk.
 */
function crc32Update(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/**
 * The pure core: `push(chunk)` returns every message the chunk completed; `end()` checks that the stream did
 * not stop inside a message. Throws `upstream_protocol_error` on the first framing fault and rethrows that
 * same error on every later call.
 */
export class EventStreamSplitter {
  readonly #maxMessageBytes: number;
  /**
   * Unconsumed bytes: the pushed chunks, in order, of which the first `#offset` bytes of the first are
   * already consumed (an index instead of a fresh view per message taken from a chunk).
   */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #bufferedBytes = 0;
  /** total_length of the message in progress once its prelude has been verified, else -1. */
  #messageBytes = -1;
  #failure: SidecarError | undefined;

  constructor(options: EventStreamSplitterOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < MIN_MESSAGE_BYTES || max > 0xffffffff) {
      throw new RangeError(`maxMessageBytes must be an integer between ${MIN_MESSAGE_BYTES} and 2^32-1, got ${max}`);
    }
    this.#maxMessageBytes = max;
  }

  push(chunk: Uint8Array): Message[] {
    const out: Message[] = [];
    this.pushInto(chunk, out);
    return out;
  }

  /**
   * `push` that appends to `out`: when a framing fault throws, the messages the same chunk completed
   * before the fault are already in `out` (the stream adapter forwards them ahead of the error).
   */
  pushInto(chunk: Uint8Array, out: Message[]): void {
    if (this.#failure) throw this.#failure;
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#bufferedBytes += chunk.byteLength;
    try {
      for (;;) {
        if (this.#messageBytes < 0) {
          if (this.#bufferedBytes < PRELUDE_BYTES) return;
          const first = this.#chunks[0]!;
          this.#messageBytes =
            first.byteLength - this.#offset >= PRELUDE_BYTES
              ? this.#checkPrelude(first, this.#offset)
              : this.#checkPrelude(this.#copyPrelude(), 0);
        }
        if (this.#bufferedBytes < this.#messageBytes) return;
        const message = this.#take(this.#messageBytes);
        this.#messageBytes = -1;
        out.push(this.#decode(message));
      }
    } catch (error) {
      this.#failure = isSidecarError(error) ? error : protocolError(`event-stream decoding failed: ${String(error)}`, error);
      this.#chunks = [];
      this.#offset = 0;
      this.#bufferedBytes = 0;
      throw this.#failure;
    }
  }

  /** Call when the upstream body has ended; throws if it ended inside a message. */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.#bufferedBytes === 0) return;
    const expected = this.#messageBytes >= 0 ? `${this.#messageBytes}` : `at least ${PRELUDE_BYTES}`;
    this.#failure = protocolError(`upstream ended inside an event-stream message (${this.#bufferedBytes} of ${expected} bytes)`);
    this.#chunks = [];
    this.#offset = 0;
    this.#bufferedBytes = 0;
    throw this.#failure;
  }

  /** Copies the first 12 pending bytes when they span several chunks. */
  #copyPrelude(): Uint8Array {
    const prelude = new Uint8Array(PRELUDE_BYTES);
    let filled = 0;
    let from = this.#offset;
    for (const chunk of this.#chunks) {
      const n = Math.min(chunk.byteLength - from, PRELUDE_BYTES - filled);
      prelude.set(chunk.subarray(from, from + n), filled);
      filled += n;
      from = 0;
      if (filled === PRELUDE_BYTES) break;
    }
    return prelude;
  }

  /** Verifies the prelude at `bytes[at, at + 12)` and returns the message's total length. */
  #checkPrelude(bytes: Uint8Array, at: number): number {
    const expectedCrc = readUint32(bytes, at + 8);
    const actualCrc = crc32Update(0, bytes, at, at + 8);
    if (expectedCrc !== actualCrc) {
      throw protocolError(`event-stream prelude checksum mismatch (message says ${expectedCrc}, bytes give ${actualCrc})`);
    }
    const total = readUint32(bytes, at);
    const headers = readUint32(bytes, at + 4);
    if (total < MIN_MESSAGE_BYTES) {
      throw protocolError(`event-stream message length ${total} is below the minimum ${MIN_MESSAGE_BYTES}`);
    }
    if (total > this.#maxMessageBytes) {
      throw protocolError(`event-stream message length ${total} exceeds the limit ${this.#maxMessageBytes}`);
    }
    if (headers > total - MIN_MESSAGE_BYTES) {
      throw protocolError(`event-stream headers length ${headers} does not fit in a message of length ${total}`);
    }
    if (headers > MAX_HEADERS_BYTES) {
      throw protocolError(`event-stream headers length ${headers} exceeds the limit ${MAX_HEADERS_BYTES}`);
    }
    return total;
  }

  /**
   * Removes the first `n` pending bytes: the chunk itself when it is exactly those bytes, a view when they
   * lie in one chunk, else one copy.
   */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    const offset = this.#offset;
    const left = first.byteLength - offset;
    this.#bufferedBytes -= n;
    if (left >= n) {
      if (left === n) {
        this.#chunks.shift();
        this.#offset = 0;
        if (offset === 0) return first;
      } else {
        this.#offset = offset + n;
      }
      return first.subarray(offset, offset + n);
    }
    const joined = new Uint8Array(n);
    joined.set(offset === 0 ? first : first.subarray(offset), 0);
    let filled = left;
    let used = 1;
    this.#offset = 0;
    while (filled < n) {
      const chunk = this.#chunks[used]!;
      const wanted = n - filled;
      if (chunk.byteLength <= wanted) {
        joined.set(chunk, filled);
        filled += chunk.byteLength;
        used += 1;
      } else {
        joined.set(chunk.subarray(0, wanted), filled);
        this.#offset = wanted;
        filled = n;
      }
    }
    // One splice per message keeps the list walk linear even when bytes arrive one at a time.
    this.#chunks.splice(0, used);
    return joined;
  }

  #decode(message: Uint8Array): Message {
    const total = message.byteLength;
    const expectedCrc = readUint32(message, total - 4);
    // The message CRC covers every byte but its own four. Rather than make a view of those bytes for
    // `crc32`, checksum the whole message and compare with the stored CRC continued over its own four bytes:
    // continuing a CRC over fixed bytes is a bijection, so the two agree exactly when the CRC of the covered
    // bytes equals the stored one.
    if (crc32(message) !== crc32Update(expectedCrc, message, total - 4, total)) {
      const actualCrc = crc32(message.subarray(0, total - 4));
      throw protocolError(`event-stream message checksum mismatch (message says ${expectedCrc}, bytes give ${actualCrc})`);
    }
    const headersEnd = PRELUDE_BYTES + readUint32(message, 4);
    // Both CRCs and every length are verified above, so the codec's own `decode` (which checks both CRCs
    // again, in JavaScript, then parses the headers) is not needed: the body is a view on the message.
    const headers = readHeaders(message, PRELUDE_BYTES, headersEnd);
    return { headers, body: new Uint8Array(message.buffer, message.byteOffset + headersEnd, total - 4 - headersEnd) };
  }
}

export type EventStreamDecoderInput = Uint8Array | SidecarError;

export interface EventStreamDecoderOptions extends EventStreamSplitterOptions {
  /** Batches buffered on the readable side (and chunks on the writable side) before backpressure. Default 4. */
  highWaterMark?: number;
}

/**
 * Stream adapter around `EventStreamSplitter`. Writable side: `Uint8Array` chunks, or a `SidecarError`
 * standing for an upstream failure (socket error, timeout). Readable side: one `DecodedBatch` per input
 * chunk that completed at least one message. The first error — framing fault, input error, or a partial
 * message at end of input — is pushed as the last item of a batch; all later input is ignored.
 */
export class EventStreamDecoder extends Transform {
  readonly #splitter: EventStreamSplitter;
  #stopped = false;

  constructor(options: EventStreamDecoderOptions = {}) {
    const highWaterMark = options.highWaterMark ?? 4;
    super({
      emitClose: false,
      writableObjectMode: true,
      readableObjectMode: true,
      writableHighWaterMark: highWaterMark,
      readableHighWaterMark: highWaterMark,
    });
    this.#splitter = new EventStreamSplitter(options);
  }

  override _transform(item: EventStreamDecoderInput, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#stopped) {
      callback();
      return;
    }
    if (!(item instanceof Uint8Array)) {
      this.#stopped = true;
      const error = isSidecarError(item)
        ? item
        : new SidecarError('internal_error', `event-stream decoder received a ${typeof item}, not bytes`);
      this.push([error]);
      callback();
      return;
    }
    const messages: Message[] = [];
    const batch: DecodedBatch = messages;
    try {
      this.#splitter.pushInto(item, messages);
    } catch (error) {
      this.#stopped = true;
      batch.push(toSidecarError(error));
    }
    if (batch.length > 0) this.push(batch);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#stopped) {
      this.#stopped = true;
      try {
        this.#splitter.end();
      } catch (error) {
        this.push([toSidecarError(error)]);
      }
    }
    callback();
  }
}
