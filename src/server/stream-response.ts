/**
 * Commits an SSE response and runs the five-stage pipeline from Bedrock's body to the client socket:
 *
 *   upstream source ─▶ event-stream decoder ─▶ normaliser ─▶ guardrail ─▶ re-chunker ─▶ encoder ─▶ res
 *
 * built by `createPipeline` (src/pipeline/index.ts) and joined with `stream.pipeline`, so backpressure runs
 * end to end (a slow client pauses the upstream read). The source is the upstream body itself, read in paused mode straight into the decoder (one chunk
 * per upstream read); with no output guard configured the guardrail stage, a pass-through then, is left
 * out. Upstream failures enter as data at the source; stages turn every failure into one `error` event
 * that only the encoder renders, through the surface's renderer (its in-band error and end of stream).
 * When the stream has ended early — an error or guardrail block — or once the model's final event is in,
 * the upstream request is aborted. `stop(error)` ends a live stream from outside
 * (drain deadline, slow reader) through the same path.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { SidecarError } from '../errors.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { OutputGuard } from '../pipeline/guardrail.ts';
import type { Renderer } from '../pipeline/encoder.ts';
import { createPipeline } from '../pipeline/index.ts';
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
  /** Whether text deltas are re-chunked; false leaves the re-chunker out (the native surface's framing is Bedrock's). */
  rechunk?: boolean;
  heartbeatMs: number;
  /** A client that reads nothing for this long while output waits is cut (0 = never). */
  writeTimeoutMs: number;
  /** The clock that measures it (the server's; injected, so a test can define time by its reader's pace). */
  now?: () => number;
  /** The surface's rendering of this stream. */
  renderer: Renderer;
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
  /** Ends the stream with this error (the surface's in-band error and ending), aborting upstream. */
  stop(error: SidecarError): void;
  /** What waits inside this stream's pipeline now (a diagnostic: the benchmark's slow-reader run reads it). */
  queued(): QueuedData;
}

/** Buffered data of one live stream, beside the bounds its high-water marks set. */
export interface QueuedData {
  /** Bytes in the byte-mode buffers: the upstream body's, the encoder's output and the response's. */
  bytes: number;
  /** Items in the object-mode buffers between the stages (each item is at most one upstream read). */
  items: number;
  /** The high-water marks of the same byte-mode buffers, summed. */
  highWaterBytes: number;
  /** The high-water marks of the same object-mode buffers, summed. */
  highWaterItems: number;
}

/** How long a response may stay open after the model's final event before its request is aborted. */
export const RELEASE_GRACE_MS = 1_000;

export function startStream(options: StreamOptions): LiveStream {
  const { res } = options;
  let stopping: SidecarError | undefined;
  let streamError: SidecarError | undefined;

  // The source: the upstream body read in paused mode, everything it buffered at once (`read()`), so the
  // HTTP chunks of one upstream read reach the decoder as one chunk and become one batch (docs/contract.md#rechunking:
  // text is coalesced per read). It waits for the decoder's 'drain' when the decoder is full. The end of the body, a
  // read failure or an external stop ends the decoder's input, a failure or a stop as a final error item; errors the
  // body emits after that (the abort's own) are expected and dropped.
  const body = options.upstreamBody;
  // Observe what the encoder renders: the first error ends the upstream side at once.
  const observe = (batch: readonly StreamEvent[]): void => {
    options.onEvents?.(batch);
    for (const event of batch) {
      if (event.kind === 'error' && !streamError) {
        streamError = event.error;
        endUpstream();
      }
    }
  };
  const { decoder, encoder, stages } = createPipeline({
    route: options.route,
    mapper: options.mapper,
    guard: options.guard,
    chunkSizeBytes: options.chunkSizeBytes,
    maxHoldMs: options.maxHoldMs,
    ...(options.rechunk === undefined ? {} : { rechunk: options.rechunk }),
    renderer: options.renderer,
    heartbeatMs: options.heartbeatMs,
    observe,
    // At the model's final event the answer is whole: the upstream side ends there (its request aborted, so
    // its connection is released), and the client gets its end of stream now, not when the upstream closes
    // (an upstream that keeps the response open would delay every stream's end by upstream.idle_timeout_ms).
    onComplete: () => completeSource(),
  });
  let sourceEnded = false;
  let awaitingDrain = false;
  const pump = (): void => {
    if (sourceEnded || awaitingDrain) return;
    let chunk: Uint8Array | null;
    while ((chunk = body.read() as Uint8Array | null) !== null) {
      if (!decoder.write(chunk)) {
        awaitingDrain = true;
        decoder.once('drain', () => {
          awaitingDrain = false;
          pump();
        });
        return;
      }
      if (sourceEnded) return;
    }
  };
  const endSource = (last: SidecarError | undefined, bodyEnded = false): void => {
    if (sourceEnded) return;
    sourceEnded = true;
    body.off('readable', pump);
    // A body that ended has released its request; aborting it would only build an AbortError for nobody.
    if (!bodyEnded) options.abortUpstream();
    if (decoder.destroyed || decoder.writableEnded) return;
    if (last) decoder.write(last);
    decoder.end();
  };
  const onFailure = (error: unknown): void => endSource(stopping || streamError ? undefined : classifyStreamError(error));
  body.on('end', () => endSource(undefined, true));
  body.on('error', onFailure);
  // Closed with neither an end nor an error: what an async iterator over the body would have thrown.
  body.on('close', () => {
    if (!sourceEnded) onFailure(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  // The answer is whole: the decoder's input ends at the model's final event. Bedrock ends its response right
  // after that event, often in the same read: the rest is read out and the request ends by itself, its
  // connection kept for the next request (an abort would close it: a new connection, a new TLS handshake) and
  // no AbortError built. A response still open `RELEASE_GRACE_MS` later is aborted, which releases it.
  const completeSource = (): void => {
    if (sourceEnded) return;
    endSource(undefined, true);
    const release = setTimeout(() => {
      if (!body.destroyed) options.abortUpstream();
    }, RELEASE_GRACE_MS);
    release.unref();
    body.once('end', () => clearTimeout(release));
    body.resume();
  };
  /** Ends the upstream side now (aborting the request): with the stop's error item after `stop()`, else silently. */
  const endUpstream = (): void => endSource(stopping);

  // One socket write for everything this stream renders before the event loop moves on: the headers, the
  // opening frames and, when Bedrock's answer came in the same read as its headers (a short answer: all of
  // it), its batches, its ending and the response's last chunk. Node's HTTP response uncorks its socket at
  // the end of every tick, and these come in several: each would be a write of its own, and a write on a
  // socket costs more than rendering a short answer. The socket is corked, not the response: on Node 24 a
  // chunked response corked with `res.cork()` and ended before its `uncork()` loses what was written.
  holdWrites(res);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    ...options.headers,
  });
  // No flushHeaders(): the opening frames are written at once, and the headers go out with it in one write.
  encoder.begin();

  // A reader that stopped reading entirely: while the response stays full and nothing of what waits in it
  // leaves for writeTimeoutMs, cut it. Its buffers are bounded by backpressure meanwhile; no frame can reach
  // it, so the socket is destroyed. A slow reader is not a stalled one: whenever the bytes waiting shrank
  // since the last look (the kernel took some: the reader read), or the response drained, the clock restarts.
  let stalledSince: number | undefined;
  let waitingBytes = -1;
  const waiting = (): number => res.writableLength + (res.socket?.writableLength ?? 0);
  if (options.writeTimeoutMs > 0) {
    res.on('drain', () => {
      stalledSince = undefined;
      waitingBytes = -1;
    });
  }
  const watchdog =
    options.writeTimeoutMs > 0
      ? setInterval(
          () => {
            if (!res.writableNeedDrain) {
              stalledSince = undefined;
              waitingBytes = -1;
              return;
            }
            const now = (options.now ?? Date.now)();
            const left = waiting();
            if (waitingBytes === -1 || left < waitingBytes) stalledSince = now;
            waitingBytes = left;
            if (now - stalledSince! >= options.writeTimeoutMs) {
              streamError ??= new SidecarError(
                'client_timeout',
                `the client read nothing for ${options.writeTimeoutMs} ms (server.write_timeout_ms)`,
              );
              endUpstream();
              res.destroy();
            }
          },
          Math.max(10, Math.min(1000, Math.floor(options.writeTimeoutMs / 4))),
        )
      : undefined;
  watchdog?.unref();

  body.on('readable', pump);
  const done = new Promise<StreamOutcome>((resolve) => {
    pipeline([...stages, res], (error) => {
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
      endUpstream();
    },
    queued(): QueuedData {
      let items = encoder.writableLength;
      let highWaterItems = encoder.writableHighWaterMark;
      for (const stage of stages) {
        if (stage === encoder) continue;
        items += stage.writableLength + stage.readableLength;
        highWaterItems += stage.writableHighWaterMark + stage.readableHighWaterMark;
      }
      return {
        bytes: body.readableLength + encoder.readableLength + res.writableLength,
        items,
        highWaterBytes: body.readableHighWaterMark + encoder.readableHighWaterMark + res.writableHighWaterMark,
        highWaterItems,
      };
    },
  };
}

/** Corks the response's socket until the event loop's next check phase (`setImmediate`): one write for all that is written before. */
function holdWrites(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  socket.cork();
  setImmediate(releaseWrites, socket);
}

function releaseWrites(socket: Socket): void {
  socket.uncork();
}
