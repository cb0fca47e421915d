/**
 * Commits an SSE response and runs the five-stage pipeline from Bedrock's body to the client socket:
 *
 *   upstream source ─▶ event-stream decoder ─▶ normaliser ─▶ guardrail ─▶ re-chunker ─▶ SSE encoder ─▶ res
 *
 * joined with `stream.pipeline`, so backpressure runs end to end (a slow client pauses the upstream
 * read). Upstream failures enter as data at the source; stages turn every failure into one `error` event
 * that only the encoder renders (error frame, then `[DONE]`). When the stream has ended early — an error
 * or guardrail block — the upstream request is aborted. `stop(error)` ends a live stream from outside
 * (drain deadline, slow reader) through the same path.
 */
import type { ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { SidecarError } from '../errors.ts';
import { EventStreamDecoder } from '../pipeline/event-stream-decoder.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import { GuardrailStage, type OutputGuard } from '../pipeline/guardrail.ts';
import { BedrockEventNormalizer, NormalizerStage } from '../pipeline/normalizer.ts';
import { RechunkerStage } from '../pipeline/rechunker.ts';
import { SseEncoder, SseEncoderStage, type SseEncoderStageOptions } from '../pipeline/sse-encoder.ts';
import type { TransformCallback } from 'node:stream';
import type { StreamMapper } from '../providers/types.ts';
import type { Route } from '../config/schema.ts';
import { classifyStreamError } from '../upstream/bedrock-errors.ts';

export interface StreamOptions {
  res: ServerResponse;
  upstreamBody: Readable;
  /** Aborts the upstream request (and with it the body). */
  abortUpstream: () => void;
  route: Route;
  mapper: StreamMapper;
  guard: OutputGuard | undefined;
  chunkSizeBytes: number;
  maxHoldMs: number;
  heartbeatMs: number;
  /** A client that reads nothing for this long while output waits is cut (0 = never). */
  writeTimeoutMs: number;
  encoder: { id: string; created: number; model: string; includeUsage: boolean };
  headers: Record<string, string>;
  /** Called with every batch the encoder renders (for metrics and logs). */
  onEvents?: (events: readonly StreamEvent[]) => void;
}

export interface StreamOutcome {
  /** The error the stream ended with, if it did not finish normally. */
  error: SidecarError | undefined;
  /** The client went away before the end. */
  clientClosed: boolean;
}

export interface LiveStream {
  readonly done: Promise<StreamOutcome>;
  /** Ends the stream with this error frame and `[DONE]`, aborting upstream. */
  stop(error: SidecarError): void;
}

export function startStream(options: StreamOptions): LiveStream {
  const { res } = options;
  let stopping: SidecarError | undefined;
  let streamError: SidecarError | undefined;
  let wake: (() => void) | undefined;

  // The source: upstream bytes, with a read failure or an external stop turned into a final error item.
  async function* source(): AsyncGenerator<Uint8Array | SidecarError> {
    const iterator = options.upstreamBody[Symbol.asyncIterator]();
    const stopped = new Promise<'stopped'>((resolve) => { wake = () => resolve('stopped'); });
    try {
      while (true) {
        if (stopping) break;
        const next = await Promise.race([iterator.next(), stopped]);
        if (next === 'stopped') break;
        if (next.done) return;
        yield next.value as Uint8Array;
      }
    } catch (error) {
      if (stopping || streamError) return;
      yield classifyStreamError(error);
      return;
    } finally {
      options.abortUpstream();
    }
    if (stopping) yield stopping;
  }

  const normalizer = new NormalizerStage(new BedrockEventNormalizer(options.route, options.mapper));
  const guard = new GuardrailStage(options.guard);
  const rechunker = new RechunkerStage({ chunkSizeBytes: options.chunkSizeBytes, maxHoldMs: options.maxHoldMs });
  // Observe what the encoder renders: the first error ends the upstream side at once.
  const observe = (batch: readonly StreamEvent[]): void => {
    options.onEvents?.(batch);
    for (const event of batch) {
      if (event.kind === 'error' && !streamError) {
        streamError = event.error;
        options.abortUpstream();
        wake?.();
      }
    }
  };
  const encoder = new ObservedEncoderStage({ encoder: new SseEncoder(options.encoder), heartbeatMs: options.heartbeatMs }, observe);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    ...options.headers,
  });
  res.flushHeaders();
  encoder.begin();

  // A reader that stopped reading entirely: while the socket stays full for writeTimeoutMs, cut it.
  // Its buffers are bounded by backpressure meanwhile; no frame can reach it, so the socket is destroyed.
  let stalledSince: number | undefined;
  const watchdog = options.writeTimeoutMs > 0
    ? setInterval(() => {
      if (!res.writableNeedDrain) {
        stalledSince = undefined;
        return;
      }
      const now = Date.now();
      stalledSince ??= now;
      if (now - stalledSince >= options.writeTimeoutMs) {
        streamError ??= new SidecarError('client_timeout', `the client read nothing for ${options.writeTimeoutMs} ms (server.write_timeout_ms)`);
        options.abortUpstream();
        wake?.();
        res.destroy();
      }
    }, Math.max(10, Math.min(1000, Math.floor(options.writeTimeoutMs / 4))))
    : undefined;
  watchdog?.unref();

  const done = new Promise<StreamOutcome>((resolve) => {
    pipeline(Readable.from(source(), { objectMode: true, highWaterMark: 1 }), new EventStreamDecoder(), normalizer, guard, rechunker, encoder, res, (error) => {
      if (watchdog) clearInterval(watchdog);
      const clientClosed = Boolean(error) && !res.writableFinished && streamError?.type !== 'client_timeout';
      if (error) options.abortUpstream();
      resolve({ error: streamError, clientClosed });
    });
  });

  return {
    done,
    stop(error: SidecarError): void {
      if (stopping || streamError || res.writableFinished) return;
      stopping = error;
      wake?.();
      options.abortUpstream();
    },
  };
}

/** The encoder stage with a look at each batch before it is rendered. */
class ObservedEncoderStage extends SseEncoderStage {
  constructor(options: SseEncoderStageOptions, private readonly observe: (batch: readonly StreamEvent[]) => void) {
    super(options);
  }

  override _transform(batch: readonly StreamEvent[], encoding: BufferEncoding, callback: TransformCallback): void {
    this.observe(batch);
    super._transform(batch, encoding, callback);
  }
}
