/**
 * The slow-reader run: one client that asks for a very large reply (20 MB of text) and reads it at
 * 1 KiB/s through a raw socket (Node's socket buffer stops reading from the kernel once ~16 KiB wait, so
 * TCP backpressure reaches the proxy). Every second the proxy's RSS — and, for the sidecar, what waits
 * inside its pipelines — is sampled; after a fixed window the client goes away, and one more sample
 * shows the stream was released. The run is bounded by the window, not by the reply's size.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Proc, ProcStats } from './proc.ts';
import type { RequestShape } from './workload.ts';

export interface QueuedSample {
  streams: number;
  bytes: number;
  items: number;
  highWaterBytes: number;
  highWaterItems: number;
}

export interface SlowSample {
  atMs: number;
  rssBytes: number;
  clientBytes: number;
  queued: QueuedSample | undefined;
}

export interface SlowReaderResult {
  windowMs: number;
  bytesPerSecond: number;
  replyBytes: number;
  baseRssBytes: number;
  peakRssBytes: number;
  /** Highest RSS during the window minus RSS before the request. */
  rssGrowthBytes: number;
  clientBytes: number;
  maxQueuedBytes: number | undefined;
  maxQueuedItems: number | undefined;
  highWaterBytes: number | undefined;
  highWaterItems: number | undefined;
  /** Live streams left in the proxy 1 s after the client went away (sidecar only). */
  streamsAfterClose: number | undefined;
  samples: SlowSample[];
}

export async function slowReader(
  proc: Proc,
  shape: RequestShape,
  replyBytes: number,
  options: { windowMs: number; bytesPerSecond: number },
): Promise<SlowReaderResult> {
  const url = new URL(proc.url);
  const base = await proc.mark();
  const samples: SlowSample[] = [];
  let clientBytes = 0;
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const head =
    `POST ${shape.path} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    Object.entries(shape.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    `content-length: ${shape.body.length}\r\nconnection: close\r\n\r\n`;
  socket.write(head);
  socket.write(shape.body);
  socket.pause();

  const t0 = performance.now();
  const slice = Math.max(1, Math.round(options.bytesPerSecond / 10));
  const reader = setInterval(() => {
    const chunk = socket.read(slice) as Buffer | null;
    if (chunk) clientBytes += chunk.length;
  }, 100);
  const sample = async (): Promise<ProcStats> => {
    const stats = await proc.stats();
    samples.push({
      atMs: Math.round(performance.now() - t0),
      rssBytes: stats.rssBytes,
      clientBytes,
      queued: stats.extra as QueuedSample | undefined,
    });
    return stats;
  };
  while (performance.now() - t0 < options.windowMs) {
    await new Promise((r) => setTimeout(r, 1000));
    await sample();
  }
  clearInterval(reader);
  socket.destroy();
  await new Promise((r) => setTimeout(r, 1000));
  const after = await proc.stats();
  const end = await proc.stats();

  const queued = samples.map((s) => s.queued).filter((q): q is QueuedSample => q !== undefined);
  const max = (f: (q: QueuedSample) => number): number | undefined => (queued.length ? Math.max(...queued.map(f)) : undefined);
  return {
    windowMs: options.windowMs,
    bytesPerSecond: options.bytesPerSecond,
    replyBytes,
    baseRssBytes: base.rssBytes,
    peakRssBytes: end.peakRssBytes,
    rssGrowthBytes: Math.max(...samples.map((s) => s.rssBytes), end.peakRssBytes) - base.rssBytes,
    clientBytes,
    maxQueuedBytes: max((q) => q.bytes),
    maxQueuedItems: max((q) => q.items),
    highWaterBytes: max((q) => q.highWaterBytes),
    highWaterItems: max((q) => q.highWaterItems),
    streamsAfterClose: (after.extra as QueuedSample | undefined)?.streams,
    samples,
  };
}
