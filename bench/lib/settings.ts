/**
 * How much load each point gets. A point stops starting streams once it has started `minStreams` and run
 * `minMs` (or at `maxMs`), then waits for the streams in flight; each of its concurrency slots starts at
 * least one stream. A full run (three rounds) takes about 10 minutes on 2 cores, `BENCH_QUICK=1` about
 * one and a quarter.
 *
 * Environment (all optional):
 *   BENCH_QUICK=1            the short run (one round, fewer streams per point, a 5 s slow-reader window)
 *   BENCH_ROUNDS=N           rounds per (pacing, target) session (default 3, quick 1)
 *   BENCH_PEER=portkey       add the Portkey gateway as a peer target (npm-installed into BENCH_PEER_DIR,
 *                            default /tmp/bench-peer)
 *   BENCH_TARGETS=a,b        only these targets (direct, passthrough, sidecar, sidecar-regex, portkey)
 *   BENCH_PACINGS=a,b        only these pacings (unpaced, paced)
 *   BENCH_CONCURRENCY=1,64   only these concurrencies
 *   BENCH_SLOW=0             skip the slow-reader run
 *   BENCH_EMBEDDINGS=0       skip the embeddings row (bench/lib/embeddings.ts)
 *   BENCH_PER_REQUEST=0      skip the per-request rows (bench/lib/per-request.ts); =only: run only them
 *                            (with BENCH_QUICK=1, about 40 s: the quick way to A/B a per-request change)
 *   BENCH_PIN=1              pin each proxy to CPU 1 and the emulator and load generator to CPU 0 (taskset):
 *                            the proxy's CPU figures then carry no cache or scheduling noise from the others
 *                            (but the emulator and load generator share one core, so less load is reached)
 *   BENCH_PROFILE=sidecar    profile these targets over each measured point (V8's profiler through
 *                            node:inspector; a foreign peer under `node --cpu-prof`, its whole life) and
 *                            print where their time goes
 *                            (profiling slows them: such a run is for diagnosis, not for the table)
 *   BENCH_PROFILE_HEAP=1     with BENCH_PROFILE: V8's sampling heap profiler instead, every allocation
 *                            sampled (also those collected since): bytes allocated per request, by function
 *   BENCH_OUT=DIR            where results go (default bench/results)
 */
import type { PointPlan } from './load.ts';
import type { TargetName } from './targets.ts';

export type Pacing = 'unpaced' | 'paced';

export const PACE_MS: Record<Pacing, number> = { unpaced: 0, paced: 10 };
export const CONCURRENCY = [1, 64, 512] as const;
/** A stream stalls when two reads are further apart than this many times the pacing. */
export const STALL_FACTOR = 10;

export interface Settings {
  quick: boolean;
  /** Each (pacing, target) session is run this many times, the targets interleaved; points pool them. */
  rounds: number;
  plans: Record<Pacing, Record<number, Omit<PointPlan, 'concurrency'>>>;
  /** Per target session, before its first point: unpaced streams at concurrency 16 (JIT, pools). */
  warmup: Omit<PointPlan, 'concurrency'> & { concurrency: number };
  slowReader: { windowMs: number; bytesPerSecond: number; repeat: number; targets: TargetName[] };
  targets: TargetName[] | undefined;
  pacings: Pacing[];
  concurrency: number[];
  profile: TargetName[];
  pin: boolean;
  peer: string | undefined;
  outDir: string;
  /** The per-request rows: on (before the streaming points), off, or only them. */
  perRequest: 'on' | 'off' | 'only';
}

const VERIFY = 3;

const FULL: Settings['plans'] = {
  unpaced: {
    1: { minStreams: 200, minMs: 2_500, maxMs: 10_000, verify: VERIFY },
    64: { minStreams: 1_024, minMs: 3_000, maxMs: 20_000, verify: VERIFY },
    512: { minStreams: 1_536, minMs: 3_000, maxMs: 30_000, verify: VERIFY },
  },
  paced: {
    1: { minStreams: 4, minMs: 0, maxMs: 20_000, verify: VERIFY },
    64: { minStreams: 128, minMs: 0, maxMs: 20_000, verify: VERIFY },
    512: { minStreams: 512, minMs: 0, maxMs: 40_000, verify: VERIFY },
  },
};

const QUICK: Settings['plans'] = {
  unpaced: {
    1: { minStreams: 60, minMs: 1_000, maxMs: 4_000, verify: 1 },
    64: { minStreams: 256, minMs: 1_000, maxMs: 6_000, verify: 1 },
    512: { minStreams: 512, minMs: 0, maxMs: 10_000, verify: 1 },
  },
  paced: {
    1: { minStreams: 2, minMs: 0, maxMs: 6_000, verify: 1 },
    64: { minStreams: 64, minMs: 0, maxMs: 6_000, verify: 1 },
    512: { minStreams: 512, minMs: 0, maxMs: 15_000, verify: 1 },
  },
};

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

export function readSettings(env: NodeJS.ProcessEnv, defaultOutDir: string): Settings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const pacings = (list(env.BENCH_PACINGS) ?? ['unpaced', 'paced']) as Pacing[];
  for (const p of pacings) if (!(p in PACE_MS)) throw new Error(`BENCH_PACINGS: unknown pacing ${p}`);
  const concurrency = (list(env.BENCH_CONCURRENCY) ?? CONCURRENCY.map(String)).map(Number);
  for (const c of concurrency)
    if (!(CONCURRENCY as readonly number[]).includes(c)) throw new Error(`BENCH_CONCURRENCY: ${c} is not one of ${CONCURRENCY.join(', ')}`);
  const rounds = Number(env.BENCH_ROUNDS ?? (quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10)
    throw new Error(`BENCH_ROUNDS: ${env.BENCH_ROUNDS} is not an integer from 1 to 10`);
  return {
    quick,
    rounds,
    plans: quick ? QUICK : FULL,
    warmup: quick
      ? { concurrency: 16, minStreams: 48, minMs: 500, maxMs: 3_000, verify: 1 }
      : { concurrency: 16, minStreams: 160, minMs: 1_500, maxMs: 6_000, verify: 1 },
    slowReader: {
      windowMs: quick ? 5_000 : 15_000,
      bytesPerSecond: 1024,
      // 200,000 × the 100-byte reply = 20 MB of text.
      repeat: 200_000,
      targets: quick ? ['sidecar'] : ['passthrough', 'sidecar'],
    },
    targets: list(env.BENCH_TARGETS) as TargetName[] | undefined,
    pacings,
    concurrency,
    profile: (list(env.BENCH_PROFILE) ?? []) as TargetName[],
    pin: env.BENCH_PIN === '1',
    peer: env.BENCH_PEER || undefined,
    outDir: env.BENCH_OUT ?? defaultOutDir,
    perRequest: env.BENCH_PER_REQUEST === '0' ? 'off' : env.BENCH_PER_REQUEST === 'only' ? 'only' : 'on',
  };
}

export function slowReaderEnabled(env: NodeJS.ProcessEnv): boolean {
  return env.BENCH_SLOW !== '0';
}
