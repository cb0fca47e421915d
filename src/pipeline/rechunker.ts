/**
 * The re-chunker (docs/contract.md#rechunking): reshapes `text` deltas into chunks of at most `chunkSizeBytes` bytes of
 * UTF-8.
 *
 * Input: batches of `StreamEvent` (one batch per upstream read). Output: batches of `StreamEvent`, at most
 * one per input batch (plus, with `maxHoldMs > 0`, one per hold-timer expiry); never an empty batch.
 *
 * Invariants:
 * - The concatenation of all emitted `text` equals the concatenation of all received `text`.
 * - Every emitted `text` is at most `chunkSizeBytes` bytes, split only between code points (never between
 *   the halves of a surrogate pair); a single code point longer than the limit travels whole, alone.
 * - Pending text is coalesced across deltas; a chunk is emitted by `push` as soon as it is full (exactly
 *   the limit, or less when the next code point would overflow it). The remainder waits for more text,
 *   for a non-text event, or for `release()` / `flush()`.
 * - Every non-text event first flushes all pending text, then passes through unchanged, so order is kept.
 *   That includes `reasoning`: it is never held, coalesced or split (it arrives as whole code points and
 *   the chunk size governs `delta.content` only).
 * - Work is linear in the input: pending deltas are kept as a list of parts and joined once per emitted
 *   chunk; pure-ASCII parts are cut by offset arithmetic, other parts are scanned by `charCodeAt` without
 *   allocating.
 * - A delta that ends in the high half of a surrogate pair (possible when an upstream splits a pair
 *   across two JSON escapes) is completed by the next delta: `push` and `release` keep that half pending;
 *   only `flush` (end of text: a non-text event or the end of the stream) emits it alone.
 *
 * Backpressure: the adapter is an object-mode `Transform` on both sides; its write callback is held by
 * Node while its readable side is full, so a slow consumer slows the upstream read. It holds at most one
 * partial chunk (< limit bytes) of text, plus whatever one input batch brings.
 *
 * Errors: the core never throws on well-typed input (a bad limit throws `RangeError` at construction, a
 * programming error caught before any response is committed). `error` events are data and pass through
 * in order like any other non-text event.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { MAX_STREAM_CHUNK_SIZE, MIN_STREAM_CHUNK_SIZE } from '../config/schema.ts';
import type { StreamEvent } from './events.ts';
import { isHighSurrogate, isLowSurrogate, utf8ByteLength, utf8UnitBytes } from './utf8.ts';

export interface RechunkerOptions {
  /** Most bytes of UTF-8 per emitted `text` event, 1..1048576 (validated by config; asserted here). */
  chunkSizeBytes: number;
}

/** The pure core: `push` a batch, get back the events to emit now; `flush` at the end. */
export class Rechunker {
  readonly chunkSizeBytes: number;
  /** Pending text in arrival order; never holds an empty string, and no pair straddles two parts. */
  readonly #parts: string[] = [];
  /** `#ascii[i]`: `#parts[i]` is pure ASCII (UTF-16 offsets are byte offsets). */
  readonly #ascii: boolean[] = [];
  /** UTF-16 units of `#parts[0]` already emitted. */
  #headOffset = 0;
  #pendingBytes = 0;

  constructor(options: RechunkerOptions) {
    const size = options.chunkSizeBytes;
    if (!Number.isInteger(size) || size < MIN_STREAM_CHUNK_SIZE || size > MAX_STREAM_CHUNK_SIZE) {
      throw new RangeError(`chunkSizeBytes must be an integer from ${MIN_STREAM_CHUNK_SIZE} to ${MAX_STREAM_CHUNK_SIZE}, got ${size}`);
    }
    this.chunkSizeBytes = size;
  }

  /** UTF-8 bytes of text received but not yet emitted. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Takes one batch; returns every full chunk it completes, and every non-text event preceded by all text
   * pending before it. A remainder shorter than a full chunk stays pending.
   */
  push(events: readonly StreamEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    const limit = this.chunkSizeBytes;
    for (const event of events) {
      if (event.kind === 'text') {
        if (event.text.length === 0) continue;
        this.#append(event.text);
        // Fewer pending bytes than the limit can never make a full chunk: no scan at all.
        while (this.#pendingBytes >= limit) {
          const chunk = this.#nextChunk(false, false);
          if (chunk === undefined) break;
          out.push({ kind: 'text', text: chunk });
        }
      } else {
        this.#drain(out, true);
        out.push(event);
      }
    }
    return out;
  }

  /**
   * Emits all pending text that is whole code points, in chunks of at most the limit; keeps only the high
   * half of a surrogate pair whose low half may still arrive. For batch ends and hold-timer expiry.
   */
  release(): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.#drain(out, false);
    return out;
  }

  /** Emits all pending text, in chunks of at most the limit. For the end of the stream. */
  flush(): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.#drain(out, true);
    return out;
  }

  #drain(out: StreamEvent[], final: boolean): void {
    while (this.#pendingBytes > 0) {
      const chunk = this.#nextChunk(true, final);
      if (chunk === undefined) return;
      out.push({ kind: 'text', text: chunk });
    }
  }

  #append(text: string): void {
    const parts = this.#parts;
    let part = text;
    const last = parts.length - 1;
    if (last >= 0 && isLowSurrogate(part.charCodeAt(0))) {
      // Re-unite a pair split across two deltas, so that no pair ever straddles two parts.
      const prev = parts[last]!;
      const end = prev.length - 1;
      if (isHighSurrogate(prev.charCodeAt(end)) && end >= (last === 0 ? this.#headOffset : 0)) {
        part = prev[end] + part;
        this.#pendingBytes -= 3; // counted as a lone surrogate; counted again below as half of a pair
        if (end === (last === 0 ? this.#headOffset : 0)) {
          parts.pop();
          this.#ascii.pop();
          if (last === 0) this.#headOffset = 0;
        } else {
          parts[last] = prev.slice(0, end); // its ASCII flag stays false: correct, only slower
        }
      }
    }
    const bytes = utf8ByteLength(part);
    parts.push(part);
    this.#ascii.push(bytes === part.length);
    this.#pendingBytes += bytes;
  }

  /**
   * Cuts the next chunk off the pending text. Returns it when it is full (exactly the limit, or the next
   * code point would overflow it, or it is one code point bigger than the limit), or, when `partial`, when
   * it is whatever non-empty text is left. `final` lets a trailing high surrogate go alone.
   */
  #nextChunk(partial: boolean, final: boolean): string | undefined {
    const parts = this.#parts;
    const ascii = this.#ascii;
    const limit = this.chunkSizeBytes;
    let pi = 0;
    let off = this.#headOffset;
    let bytes = 0;
    let full = false;
    scan: for (; pi < parts.length; pi++, off = 0) {
      const s = parts[pi]!;
      if (ascii[pi]) {
        const room = limit - bytes;
        if (s.length - off >= room) {
          off += room;
          bytes = limit;
          full = true;
          break;
        }
        bytes += s.length - off;
        continue;
      }
      while (off < s.length) {
        const unit = s.charCodeAt(off);
        let units = 1;
        let size: number;
        if (isHighSurrogate(unit)) {
          if (off + 1 < s.length) {
            if (isLowSurrogate(s.charCodeAt(off + 1))) {
              units = 2;
              size = 4;
            } else {
              size = 3; // lone: encoded as U+FFFD
            }
          } else if (final || pi + 1 < parts.length) {
            size = 3; // lone: the next part cannot start with its low half (#append moves it over)
          } else {
            break scan; // the low half may be in the next delta
          }
        } else {
          size = utf8UnitBytes(unit);
        }
        if (bytes + size > limit) {
          if (bytes === 0) {
            off += units; // one code point longer than the limit travels whole, alone
            bytes = size;
          }
          full = true;
          break scan;
        }
        bytes += size;
        off += units;
        if (bytes === limit) {
          full = true;
          break scan;
        }
      }
    }
    if (!full && !(partial && bytes > 0)) return undefined;

    let chunk: string;
    const head = this.#headOffset;
    if (pi === 0) {
      chunk = parts[0]!.slice(head, off);
    } else {
      const pieces: string[] = [head === 0 ? parts[0]! : parts[0]!.slice(head)];
      for (let i = 1; i < pi; i++) pieces.push(parts[i]!);
      if (pi < parts.length && off > 0) pieces.push(parts[pi]!.slice(0, off));
      chunk = pieces.length === 1 ? pieces[0]! : pieces.join('');
    }
    if (pi < parts.length && off === parts[pi]!.length) {
      pi++;
      off = 0;
    }
    if (pi > 0) {
      parts.splice(0, pi);
      ascii.splice(0, pi);
    }
    this.#headOffset = off;
    this.#pendingBytes -= bytes;
    return chunk;
  }
}

export interface RechunkerStageOptions extends RechunkerOptions {
  /**
   * Longest time pending text may wait for more input, in ms. 0 (the default): text is emitted at the end
   * of the batch that brought it. Full chunks are never held.
   */
  maxHoldMs?: number;
}

/** Object-mode `Transform`: `StreamEvent[]` batches in, `StreamEvent[]` batches out. */
export class RechunkerStage extends Transform {
  readonly rechunker: Rechunker;
  readonly maxHoldMs: number;
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(options: RechunkerStageOptions) {
    super({ objectMode: true, emitClose: false });
    const maxHoldMs = options.maxHoldMs ?? 0;
    if (!Number.isInteger(maxHoldMs) || maxHoldMs < 0) {
      throw new RangeError(`maxHoldMs must be a non-negative integer, got ${maxHoldMs}`);
    }
    this.rechunker = new Rechunker(options);
    this.maxHoldMs = maxHoldMs;
  }

  override _transform(batch: readonly StreamEvent[], _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.rechunker.push(batch);
    if (this.maxHoldMs === 0) {
      for (const event of this.rechunker.release()) out.push(event);
    } else if (this.rechunker.pendingBytes === 0) {
      this.#clearHold();
    } else if (this.#holdTimer === undefined) {
      // Started when text starts waiting and not pushed back by later batches: no text waits longer.
      const timer = setTimeout(this.#onHoldExpired, this.maxHoldMs);
      timer.unref();
      this.#holdTimer = timer;
    }
    if (out.length > 0) this.push(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#clearHold();
    const out = this.rechunker.flush();
    if (out.length > 0) this.push(out);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearHold();
    callback(error);
  }

  readonly #onHoldExpired = (): void => {
    this.#holdTimer = undefined;
    if (this.destroyed) return;
    const out = this.rechunker.release();
    if (out.length > 0) this.push(out);
  };

  #clearHold(): void {
    if (this.#holdTimer !== undefined) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
  }
}
