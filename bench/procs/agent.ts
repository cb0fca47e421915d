/**
 * The measuring side of a benchmarked proxy process: answers the orchestrator over IPC with the process's
 * own CPU time (`process.cpuUsage()`, every thread of this process) and memory (RSS now, and the peak of
 * an RSS sample taken every `RSS_SAMPLE_MS` since the last `mark`).
 *
 * Protocol (one JSON message each way, matched by `id`):
 *   → { id, op: 'mark' }   resets the peak;       ← { id, ...ProcStats }
 *   → { id, op: 'stats' }  reads without a reset; ← { id, ...ProcStats, extra? }
 *   → { id, op: 'exit' }   exits 0
 *   → { id, op: 'profile-start' }        starts the V8 CPU profiler (node:inspector), or with BENCH_PROFILE_HEAP=1
 *                                        its sampling heap profiler (every allocation sampled, also those the
 *                                        GC has since collected); ← { id, ...ProcStats }
 *   → { id, op: 'profile-stop', file }   writes the profile since the start to `file`; ← { id, ...ProcStats }
 * and, once, ← { op: 'ready', url } or ← { op: 'failed', message }.
 */

export interface ProcStats {
  /** user + system CPU time of this process so far, µs. */
  cpuUs: number;
  rssBytes: number;
  /** Highest sampled RSS since the last mark. */
  peakRssBytes: number;
  heapUsedBytes: number;
  extra?: unknown;
}

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const RSS_SAMPLE_MS = 50;

interface Request {
  id: number;
  op: 'mark' | 'stats' | 'exit' | 'profile-start' | 'profile-stop';
  file?: string;
}

/** The profiler of this process, started and stopped around the measured points only (not start-up, not warm-up). */
let session: Session | undefined;

function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** BENCH_PROFILE_HEAP=1: where the process allocates, not where its time goes (bench/lib/profile-summary.ts). */
const HEAP = process.env.BENCH_PROFILE_HEAP === '1';
/** One sample per this many bytes allocated on average (V8's default is 32 KiB: too coarse for one request). */
const HEAP_SAMPLING_BYTES = 1024;

async function profile(op: 'profile-start' | 'profile-stop', file: string | undefined): Promise<void> {
  if (op === 'profile-start') {
    session ??= new Session();
    session.connect();
    if (HEAP) {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', {
        samplingInterval: HEAP_SAMPLING_BYTES,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    } else {
      await post('Profiler.enable');
      await post('Profiler.start');
    }
    return;
  }
  if (!session) return;
  const { profile } = (await post(HEAP ? 'HeapProfiler.stopSampling' : 'Profiler.stop')) as { profile: unknown };
  session.disconnect();
  if (file) writeFileSync(file, JSON.stringify(profile));
}

export function serveStats(extra?: () => unknown): void {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, RSS_SAMPLE_MS);
  sampler.unref();

  const read = (withExtra: boolean): ProcStats => {
    const cpu = process.cpuUsage();
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    const stats: ProcStats = {
      cpuUs: cpu.user + cpu.system,
      rssBytes: rss,
      peakRssBytes: peak,
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
    if (withExtra && extra) stats.extra = extra();
    return stats;
  };

  process.on('message', (message: Request) => {
    if (message.op === 'exit') process.exit(0);
    if (message.op === 'profile-start' || message.op === 'profile-stop') {
      void profile(message.op, message.file).then(
        () => process.send?.({ id: message.id, ...read(false) }),
        (error: unknown) => process.send?.({ id: message.id, ...read(false), extra: { profileError: String(error) } }),
      );
      return;
    }
    if (message.op === 'mark') {
      const stats = read(false);
      peak = stats.rssBytes;
      stats.peakRssBytes = peak;
      process.send?.({ id: message.id, ...stats });
      return;
    }
    process.send?.({ id: message.id, ...read(true) });
  });
  // The orchestrator went away: never outlive it.
  process.on('disconnect', () => process.exit(0));
}

export function ready(url: string): void {
  process.send?.({ op: 'ready', url });
}

export function failed(message: string): void {
  process.send?.({ op: 'failed', message });
}
