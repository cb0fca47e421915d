/**
 * Stage 5: the encoder. Renders batches of internal events as the client's bytes through the request's
 * surface `Renderer` (the OpenAI chat chunks, Anthropic's events, …); this stage owns only the stream
 * mechanics every surface shares: one write per batch, the opening frames when the response commits, the
 * keep-alive after a silence, the ending at the end of input. It knows no surface's format.
 *
 * Backpressure: a `Transform` (object-mode writable, byte readable); Node holds its write callback while
 * the readable side is full. The keep-alive is skipped while output is still queued (it would only wait
 * behind it).
 *
 * Errors: an error is input data (an `error` event), rendered by the renderer as the surface's in-band
 * error and ending; the stage never throws on well-typed input.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { StreamEvent } from './events.ts';

/** What a renderer returns: SSE text, or binary frames (Bedrock's event stream, the native surface). */
export type Frames = string | Uint8Array;

/**
 * One stream's rendering, implemented once per surface (src/surfaces/<name>/). Pure: no clock and no id
 * generator inside (both are injected where the renderer is built), so a fixture renders byte-identical
 * output. Every method returns the frames to write (text or bytes), empty for none.
 *
 * Invariants every renderer keeps: exactly one ending (the surface's terminal frames after a `finish`, or
 * its in-band error after an `error` event, never both, never neither); nothing after the ending
 * (`finished` is then true and every call returns `''`); model text only inside JSON strings.
 */
export interface Renderer {
  /** Whether the ending has been rendered. */
  readonly finished: boolean;
  /** Data frames rendered so far (for `sidecar_stream_chunks_total`: what the client receives). */
  readonly frames: number;
  /** The frames that open the stream, once; `push` and `end` prepend them if never asked for. */
  start(): Frames;
  /** The frames of one batch. */
  push(events: readonly StreamEvent[]): Frames;
  /** End of input: the ending if not rendered yet (a protocol error when neither finish nor error came). */
  end(): Frames;
  /** The keep-alive for an idle stream (an SSE comment, or the surface's own ping event); empty for none. */
  heartbeat(): Frames;
}

export interface EncoderStageOptions {
  renderer: Renderer;
  /** Silence after which the renderer's heartbeat is written, in ms; 0 disables the heartbeat. */
  heartbeatMs: number;
}

/**
 * `Transform`: `StreamEvent[]` batches in, bytes out (one string or byte array per batch).
 *
 * Nothing is written on construction: call `begin()` when the response is committed (status and headers
 * sent); it writes the opening frames and starts the heartbeat. If a batch or the end comes first, the
 * renderer prepends the opening itself. The renderer's `end()` runs in `_flush`.
 */
export class EncoderStage extends Transform {
  readonly renderer: Renderer;
  readonly heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Date.now() when the last frame was pushed. */
  #lastFrameAt = 0;

  constructor(options: EncoderStageOptions) {
    super({ writableObjectMode: true, readableObjectMode: false, emitClose: false });
    if (!Number.isInteger(options.heartbeatMs) || options.heartbeatMs < 0) {
      throw new RangeError(`heartbeatMs must be a non-negative integer, got ${options.heartbeatMs}`);
    }
    this.renderer = options.renderer;
    this.heartbeatMs = options.heartbeatMs;
  }

  /** Writes the opening frames (once) and arms the heartbeat. */
  begin(): void {
    if (this.destroyed || this.writableFinished) return;
    this.#emit(this.renderer.start());
    this.#armHeartbeat();
  }

  override _transform(batch: readonly StreamEvent[], _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#emit(this.renderer.push(batch));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#stopHeartbeat();
    const frames = this.renderer.end();
    if (frames.length > 0) this.push(frames);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopHeartbeat();
    callback(error);
  }

  #emit(frames: Frames): void {
    if (frames.length > 0) {
      this.push(frames);
      // Silence is measured from the last frame pushed. A timestamp per batch, not a timer re-armed per
      // batch: the timer, when it fires early, re-arms itself for the rest of the period.
      this.#lastFrameAt = Date.now();
      if (this.#heartbeat === undefined) this.#armHeartbeat(); // a batch that came before begin()
    }
    if (this.renderer.finished) this.#stopHeartbeat();
  }

  #armHeartbeat(delayMs = this.heartbeatMs): void {
    if (this.heartbeatMs === 0 || this.renderer.finished || this.destroyed) return;
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    const timer = setTimeout(this.#onSilence, delayMs);
    timer.unref();
    this.#heartbeat = timer;
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) {
      clearTimeout(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  readonly #onSilence = (): void => {
    this.#heartbeat = undefined;
    if (this.destroyed || this.renderer.finished || this.writableFinished) return;
    const silentMs = Date.now() - this.#lastFrameAt;
    if (silentMs < this.heartbeatMs) {
      this.#armHeartbeat(this.heartbeatMs - silentMs);
      return;
    }
    // With output still queued for a slow reader the keep-alive would only queue behind it.
    const keepAlive = this.readableLength === 0 ? this.renderer.heartbeat() : '';
    if (keepAlive.length > 0) {
      this.push(keepAlive);
      this.#lastFrameAt = Date.now();
    }
    this.#armHeartbeat();
  };
}
