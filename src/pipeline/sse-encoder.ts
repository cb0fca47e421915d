/**
 * The SSE encoder (docs/contract.md#streaming-and-errors): renders internal events as OpenAI `chat.completion.chunk`
 * server-sent events.
 *
 * Input: batches of `StreamEvent`. Output: one string (adapter: one Buffer) per batch, holding every frame
 * of that batch, so a batch costs one socket write.
 *
 * Invariants:
 * - Frames are `data: <one-line JSON>\n\n`. Model text only ever travels inside JSON strings rendered by
 *   `JSON.stringify`, which escapes newlines and quotes, so it can never inject SSE syntax.
 * - The first frame carries `delta: {"role":"assistant","content":""}`; `choices[0].index` is always 0.
 * - A stream ends exactly once with `data: [DONE]\n\n`, after either a `finish` chunk or an error frame.
 *   If the input ends with neither, `end()` does not invent a finish: it renders an
 *   `upstream_protocol_error` frame, then `[DONE]`. Nothing is rendered after `[DONE]`; an `error` event
 *   is rendered as the error frame immediately followed by `[DONE]`.
 * - No clock and no id generator inside: `id` and `created` are injected, so a fixture renders
 *   byte-identical output.
 *
 * Backpressure: the adapter is a `Transform` (object-mode writable, byte readable); Node holds its write
 * callback while the readable side is full. The keep-alive comment is skipped while output is still
 * queued (it would only wait behind it).
 *
 * Errors: never throws on well-typed input; an error is input data, rendered as a frame.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SidecarError } from '../errors.ts';
import { promptTokens, type StreamEvent, type Usage } from './events.ts';

export interface SseEncoderOptions {
  /** The completion id shared by every chunk of the stream (`chatcmpl-…`). */
  id: string;
  /** Unix time in seconds, shared by every chunk of the stream. */
  created: number;
  /** The model name echoed to the client. */
  model: string;
  /** `stream_options.include_usage`: render the `usage` event as a chunk with `choices: []`. */
  includeUsage: boolean;
}

export const SSE_DONE = 'data: [DONE]\n\n';
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

/** The pure core: one instance per stream. */
export class SseEncoder {
  readonly #includeUsage: boolean;
  /** `data: {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":0,"delta":` */
  readonly #choicePrefix: string;
  /** `data: {"id":…,"object":…,"created":…,"model":…,"choices":[],"usage":` */
  readonly #usagePrefix: string;
  #started = false;
  #sawFinish = false;
  #done = false;

  constructor(options: SseEncoderOptions) {
    if (!Number.isSafeInteger(options.created)) {
      throw new RangeError(`created must be an integer (Unix seconds), got ${options.created}`);
    }
    const head =
      `data: {"id":${JSON.stringify(options.id)},"object":"chat.completion.chunk",` +
      `"created":${options.created},"model":${JSON.stringify(options.model)},`;
    this.#choicePrefix = `${head}"choices":[{"index":0,"delta":`;
    this.#usagePrefix = `${head}"choices":[],"usage":`;
    this.#includeUsage = options.includeUsage;
  }

  /** Whether `[DONE]` has been rendered: every later call returns `''`. */
  get finished(): boolean {
    return this.#done;
  }

  /**
   * The role frame that opens the stream. Returned once; later calls (and calls after `[DONE]`) return
   * `''`. `push` and `end` prepend it themselves if it was never asked for.
   */
  start(): string {
    if (this.#started || this.#done) return '';
    this.#started = true;
    return `${this.#choicePrefix}{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
  }

  /** All frames for one batch, concatenated; `''` when the batch renders nothing. */
  push(events: readonly StreamEvent[]): string {
    if (this.#done) return '';
    let out = this.start();
    for (const event of events) {
      out += this.#render(event);
      if (this.#done) break; // an error frame and [DONE] were rendered: the rest is dropped
    }
    return out;
  }

  /**
   * The end of the stream: `[DONE]` if not sent yet, preceded by a protocol error frame when neither a
   * `finish` nor an `error` was seen.
   */
  end(): string {
    if (this.#done) return '';
    let out = this.start();
    if (!this.#sawFinish) {
      out += this.#error(
        new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'),
      );
    } else {
      out += SSE_DONE;
      this.#done = true;
    }
    return out;
  }

  #render(event: StreamEvent): string {
    switch (event.kind) {
      // Strings are spliced in already JSON-encoded: the same bytes as JSON.stringify of the delta object.
      case 'text':
        return this.#chunk(`{"content":${JSON.stringify(event.text)}}`);
      case 'reasoning':
        return this.#chunk(`{"reasoning_content":${JSON.stringify(event.text)}}`);
      case 'tool_start':
        return this.#chunk(
          JSON.stringify({
            tool_calls: [
              { index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } },
            ],
          }),
        );
      case 'tool_delta':
        return this.#chunk(
          JSON.stringify({ tool_calls: [{ index: event.index, function: { arguments: event.arguments } }] }),
        );
      case 'finish':
        this.#sawFinish = true;
        return `${this.#choicePrefix}{},"finish_reason":${JSON.stringify(event.reason)}}]}\n\n`;
      case 'usage':
        return this.#includeUsage ? `${this.#usagePrefix}${usageJson(event.usage)}}\n\n` : '';
      case 'error':
        // After the model's final event (converse's metadata still to come, a drain deadline) the answer is
        // whole: the stream keeps its one ending, the finish, and closes with [DONE]. The error is still
        // seen by whoever observes the events (the request's log line and status label).
        if (this.#sawFinish) {
          this.#done = true;
          return SSE_DONE;
        }
        return this.#error(event.error);
    }
  }

  #chunk(delta: string): string {
    return `${this.#choicePrefix}${delta},"finish_reason":null}]}\n\n`;
  }

  /** The in-band error frame, then `[DONE]`. Key order is part of the contract: `guardrail` comes last. */
  #error(error: SidecarError): string {
    const body: { message: string; type: string; code: number; guardrail?: string } = {
      message: error.message,
      type: error.type,
      code: error.status,
    };
    if (error.guardrail !== undefined) body.guardrail = error.guardrail;
    this.#done = true;
    return `data: ${JSON.stringify({ error: body })}\n\n${SSE_DONE}`;
  }
}

function usageJson(usage: Usage): string {
  const prompt = promptTokens(usage);
  return JSON.stringify({
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  });
}

export interface SseEncoderStageOptions {
  encoder: SseEncoder;
  /** Silence after which `: keep-alive` is written, in ms; 0 disables the heartbeat. */
  heartbeatMs: number;
}

/**
 * `Transform`: `StreamEvent[]` batches in, SSE bytes out (one Buffer per batch).
 *
 * Nothing is written on construction: call `begin()` when the response is committed (status and headers
 * sent); it writes the role frame and starts the heartbeat. If a batch or the end comes first, the encoder
 * prepends the role frame itself. `end()` of the encoder runs in `_flush`.
 */
export class SseEncoderStage extends Transform {
  readonly encoder: SseEncoder;
  readonly heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Date.now() when the last frame was pushed. */
  #lastFrameAt = 0;

  constructor(options: SseEncoderStageOptions) {
    super({ writableObjectMode: true, readableObjectMode: false });
    if (!Number.isInteger(options.heartbeatMs) || options.heartbeatMs < 0) {
      throw new RangeError(`heartbeatMs must be a non-negative integer, got ${options.heartbeatMs}`);
    }
    this.encoder = options.encoder;
    this.heartbeatMs = options.heartbeatMs;
  }

  /** Writes the role frame (once) and arms the heartbeat. */
  begin(): void {
    if (this.destroyed || this.writableFinished) return;
    this.#emit(this.encoder.start());
    this.#armHeartbeat();
  }

  override _transform(batch: readonly StreamEvent[], _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#emit(this.encoder.push(batch));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#stopHeartbeat();
    const frames = this.encoder.end();
    if (frames.length > 0) this.push(frames);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopHeartbeat();
    callback(error);
  }

  #emit(frames: string): void {
    if (frames.length > 0) {
      this.push(frames);
      // Silence is measured from the last frame pushed. A timestamp per batch, not a timer re-armed per
      // batch: the timer, when it fires early, re-arms itself for the rest of the period.
      this.#lastFrameAt = Date.now();
      if (this.#heartbeat === undefined) this.#armHeartbeat(); // a batch that came before begin()
    }
    if (this.encoder.finished) this.#stopHeartbeat();
  }

  #armHeartbeat(delayMs = this.heartbeatMs): void {
    if (this.heartbeatMs === 0 || this.encoder.finished || this.destroyed) return;
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
    if (this.destroyed || this.encoder.finished || this.writableFinished) return;
    const silentMs = Date.now() - this.#lastFrameAt;
    if (silentMs < this.heartbeatMs) {
      this.#armHeartbeat(this.heartbeatMs - silentMs);
      return;
    }
    // With output still queued for a slow reader the comment would only queue behind it.
    if (this.readableLength === 0) {
      this.push(SSE_KEEP_ALIVE);
      this.#lastFrameAt = Date.now();
    }
    this.#armHeartbeat();
  };
}
