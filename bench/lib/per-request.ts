/**
 * The per-request rows of the benchmark (the "make a request cheap" issue): what one request costs each
 * proxy when the answer is short, so that setup and teardown, not per-event work, dominate.
 *
 * Upstream: procs/upstream.ts, which replays one recorded ConverseStream answer of 20 text deltas
 * (24 events: the role, 20 deltas of 20 bytes, stop, metadata) in one write, or paced 10 ms a frame, and
 * costs almost nothing itself. Targets: direct (the floor), the bare pass-through, the sidecar. Each runs
 * in a fresh process per round (the targets interleaved, reversed every other round), warmed up first.
 *
 *   c16         closed loop, 16 streams, one-write answers: req/s, TTFB, and the proxy's CPU per request
 *               (its own process.cpuUsage() over the point ÷ completed requests)
 *   burst64     64 paced streams started in the same tick, again and again once all have ended:
 *               TTFB p50 (each request's setup queues behind the others')
 *   c64paced    closed loop, 64 paced streams: TTFB p99
 *
 * Targets (ratios to the pass-through measured in the same run): CPU per request ≤ 2.0×, req/s ≥ 0.5×,
 * burst TTFB p50 ≤ 1.5×, c64 paced TTFB p99 ≤ 1.5×.
 *
 * env: BENCH_PER_REQUEST=0 skips these rows, =only runs nothing else; BENCH_QUICK=1 shortens them.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newAgent, runPoint, type Expectation, type StreamResult } from './load.ts';
import { Proc } from './proc.ts';
import { noteRequests, profileExtension } from './profile-summary.ts';
import { machineBusyUs, percentile } from './stats.ts';
import { PROCS_DIR, requestFor, targetSpecs, type TargetName } from './targets.ts';
import { upstreamEvents, type Workload } from './workload.ts';

/** 4 × the 5-delta default reply = 20 text deltas. */
export const SHORT_REPEAT = 4;
export const SHORT_ONE_WRITE: Workload = { paceMs: 0, repeat: SHORT_REPEAT };
export const SHORT_PACED: Workload = { paceMs: 10, repeat: SHORT_REPEAT };

export type PerRequestTarget = Extract<TargetName, 'direct' | 'passthrough' | 'sidecar'>;
export type PerRequestKind = 'c16' | 'burst64' | 'c64paced';
export const PER_REQUEST_TARGETS: PerRequestTarget[] = ['direct', 'passthrough', 'sidecar'];

export interface PerRequestPlan {
  rounds: number;
  c16Ms: number;
  bursts: number;
  c64pacedMs: number;
  /** Warm-up: at least this long, then 1-second slices until the proxy's CPU per request settles. */
  warmupMs: number;
  /** …but no longer than this in all (a machine too noisy to settle still gets measured, with a warning). */
  warmupMaxMs: number;
}

export function perRequestPlan(quick: boolean, rounds: number): PerRequestPlan {
  return quick
    ? { rounds: 1, c16Ms: 2_000, bursts: 6, c64pacedMs: 1_500, warmupMs: 2_000, warmupMaxMs: 10_000 }
    : { rounds, c16Ms: 5_000, bursts: 12, c64pacedMs: 3_000, warmupMs: 3_000, warmupMaxMs: 20_000 };
}

export interface PerRequestPoint {
  target: PerRequestTarget;
  kind: PerRequestKind;
  rounds: number;
  streams: number;
  complete: number;
  errors: string[];
  elapsedMs: number;
  requestsPerSecond: number;
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  /** The proxy's own CPU ÷ completed requests (undefined for direct). */
  cpuPerRequestUs: number | undefined;
  /** The same per round: their spread is the run's noise. */
  cpuPerRequestRoundsUs: number[] | undefined;
  upstreamCpuPerRequestUs: number;
  loadgenCpuPerRequestUs: number;
  /** CPU that processes outside the benchmark used meanwhile, in cores. */
  otherCores: number;
}

interface Sample {
  target: PerRequestTarget;
  kind: PerRequestKind;
  results: StreamResult[];
  elapsedMs: number;
  proxyCpuUs: number | undefined;
  upstreamCpuUs: number;
  loadgenCpuUs: number;
  otherCpuUs: number;
}

const expectation = (w: Workload): Expectation => ({ frames: upstreamEvents(w), firstTextFrame: 1 });

function cpuNowUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** The upstream process, replaying `reply` (the emulator's answer for SHORT_ONE_WRITE). */
export function startUpstream(reply: Buffer): Promise<Proc> {
  if (reply.length === 0) throw new Error('per-request: no reply to replay');
  return Proc.start({
    name: 'upstream',
    args: [join(PROCS_DIR, 'upstream.js')],
    stats: 'ipc',
    env: { BENCH_REPLY_B64: reply.toString('base64') },
  });
}

async function measure(
  target: PerRequestTarget,
  kind: PerRequestKind,
  proc: Proc | undefined,
  upstream: Proc,
  run: () => Promise<{ results: StreamResult[]; elapsedMs: number }>,
  profileFile: string | undefined,
): Promise<Sample> {
  const p0 = await proc?.mark();
  if (profileFile) await proc?.profile('start');
  const u0 = await upstream.mark();
  const c0 = cpuNowUs();
  const m0 = machineBusyUs();
  const { results, elapsedMs } = await run();
  const m1 = machineBusyUs();
  const c1 = cpuNowUs();
  const u1 = await upstream.stats();
  const p1 = await proc?.stats();
  if (profileFile) {
    await proc?.profile('stop', profileFile);
    noteRequests(profileFile, results.filter((r) => r.complete).length);
  }
  const proxyCpuUs = p0 && p1 ? p1.cpuUs - p0.cpuUs : undefined;
  const upstreamCpuUs = u1.cpuUs - u0.cpuUs;
  return {
    target,
    kind,
    results,
    elapsedMs,
    proxyCpuUs,
    upstreamCpuUs,
    loadgenCpuUs: c1 - c0,
    otherCpuUs: Math.max(0, m1 - m0 - (proxyCpuUs ?? 0) - upstreamCpuUs - (c1 - c0)),
  };
}

export const SLICE = { concurrency: 16, minStreams: 16, minMs: 1_000, maxMs: 3_000, verify: 0 };

/**
 * The rest of the warm-up: 1-second slices at c16 until two in a row cost the proxy within 10% of each other
 * per request. A fixed warm-up measured the sidecar half-compiled: its first seconds under load cost 2–3× its
 * steady state (V8 compiles its larger request path over thousands of requests), the pass-through's a
 * fraction of a second; the targets are about the steady state of both.
 */
export async function settle(
  proc: Proc,
  slice: () => Promise<{ results: StreamResult[] }>,
  plan: Pick<PerRequestPlan, 'warmupMs' | 'warmupMaxMs'>,
  target: string,
  log: (line: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const costs: number[] = [];
  for (;;) {
    const a = await proc.mark();
    const { results } = await slice();
    const b = await proc.stats();
    const done = results.filter((r) => r.complete).length;
    if (done > 0) costs.push((b.cpuUs - a.cpuUs) / done);
    const [previous, last] = costs.slice(-2);
    if (previous !== undefined && last !== undefined && Math.abs(last - previous) <= 0.1 * previous) break;
    if (performance.now() - t0 + plan.warmupMs >= plan.warmupMaxMs) {
      log(
        `bench: per-request ${target}: CPU per request did not settle during the warm-up (${costs.map((c) => c.toFixed(0)).join(', ')} µs)`,
      );
      break;
    }
  }
}

/** One target, one round: fresh process, warm-up, then the three points. */
async function session(
  target: PerRequestTarget,
  upstream: Proc,
  plan: PerRequestPlan,
  samples: Sample[],
  log: (line: string) => void,
  round: number,
  profile: Profiling | undefined,
): Promise<void> {
  const spec = targetSpecs({ peer: undefined, nodeArgs: () => [] }).find((s) => s.name === target)!;
  const proc = await spec.start(upstream.url);
  const url = proc?.url ?? upstream.url;
  const agent = newAgent(64);
  try {
    const oneWrite = await requestFor(spec, SHORT_ONE_WRITE, upstream.url);
    const paced = await requestFor(spec, SHORT_PACED, upstream.url);
    const warm = await runPoint(agent, url, oneWrite, expectation(SHORT_ONE_WRITE), {
      concurrency: 16,
      minStreams: 64,
      minMs: plan.warmupMs,
      maxMs: plan.warmupMs * 2,
      verify: 0,
    });
    if (!warm.results.some((r) => r.complete))
      throw new Error(`warm-up failed: ${warm.results[0]?.error ?? `status ${warm.results[0]?.status}`}`);
    if (proc) await settle(proc, () => runPoint(agent, url, oneWrite, expectation(SHORT_ONE_WRITE), SLICE), plan, target, log);
    // Every connection the bursts use is open before they are measured.
    await runPoint(agent, url, oneWrite, expectation(SHORT_ONE_WRITE), { concurrency: 64, minStreams: 64, minMs: 0, maxMs: 0, verify: 0 });

    const points: Array<[PerRequestKind, () => Promise<{ results: StreamResult[]; elapsedMs: number }>]> = [
      [
        'c16',
        () =>
          runPoint(agent, url, oneWrite, expectation(SHORT_ONE_WRITE), {
            concurrency: 16,
            minStreams: 16,
            minMs: plan.c16Ms,
            maxMs: plan.c16Ms * 3,
            verify: 0,
          }),
      ],
      [
        'burst64',
        async () => {
          const t0 = performance.now();
          const results: StreamResult[] = [];
          for (let b = 0; b < plan.bursts; b++) {
            // maxMs 0: every slot starts exactly one stream, all in this tick.
            const burst = await runPoint(agent, url, paced, expectation(SHORT_PACED), {
              concurrency: 64,
              minStreams: 64,
              minMs: 0,
              maxMs: 0,
              verify: 0,
            });
            results.push(...burst.results);
          }
          return { results, elapsedMs: performance.now() - t0 };
        },
      ],
      [
        'c64paced',
        () =>
          runPoint(agent, url, paced, expectation(SHORT_PACED), {
            concurrency: 64,
            minStreams: 64,
            minMs: plan.c64pacedMs,
            maxMs: plan.c64pacedMs * 3,
            verify: 0,
          }),
      ],
    ];
    for (const [kind, run] of points) {
      const profileFile =
        profile && proc?.profilable && profile.targets.includes(target)
          ? join(profile.dir, `per-request-${target}-${kind}-r${round + 1}${profileExtension()}`)
          : undefined;
      const sample = await measure(target, kind, proc, upstream, run, profileFile);
      samples.push(sample);
      const p = pool([sample]);
      log(
        `bench: per-request ${target.padEnd(11)} ${kind.padEnd(8)} ${String(p.complete).padStart(5)}/${p.streams}  ${p.requestsPerSecond.toFixed(0).padStart(5)} req/s  ` +
          `TTFB p50 ${p.ttfbP50Ms.toFixed(2)} p99 ${p.ttfbP99Ms.toFixed(2)} ms  CPU ${p.cpuPerRequestUs?.toFixed(0) ?? '–'} µs/req  ` +
          `upstream ${p.upstreamCpuPerRequestUs.toFixed(0)}, loadgen ${p.loadgenCpuPerRequestUs.toFixed(0)} µs/req, others ${p.otherCores.toFixed(2)} cores` +
          (p.errors.length ? `  errors: ${p.errors.join(' | ')}` : ''),
      );
    }
  } finally {
    await agent.close();
    await proc?.stop();
  }
}

function pool(samples: Sample[]): PerRequestPoint {
  const first = samples[0]!;
  const all = samples.flatMap((s) => s.results);
  const complete = all.filter((r) => r.complete);
  const elapsedMs = samples.reduce((a, s) => a + s.elapsedMs, 0);
  const sum = (f: (s: Sample) => number): number => samples.reduce((a, s) => a + f(s), 0);
  const n = complete.length;
  const rounds = samples.map((s) => {
    const done = s.results.filter((r) => r.complete).length;
    return s.proxyCpuUs === undefined || done === 0 ? undefined : s.proxyCpuUs / done;
  });
  const proxy = samples.every((s) => s.proxyCpuUs !== undefined) ? sum((s) => s.proxyCpuUs!) : undefined;
  return {
    target: first.target,
    kind: first.kind,
    rounds: samples.length,
    streams: all.length,
    complete: n,
    errors: [...new Set(all.filter((r) => !r.complete).map((r) => r.error ?? `status ${r.status}, ${r.frames} frames, incomplete`))].slice(
      0,
      3,
    ),
    elapsedMs,
    requestsPerSecond: (n * 1000) / elapsedMs,
    ttfbP50Ms: percentile(
      complete.map((r) => r.firstTextMs),
      50,
    ),
    ttfbP99Ms: percentile(
      complete.map((r) => r.firstTextMs),
      99,
    ),
    cpuPerRequestUs: proxy === undefined || n === 0 ? undefined : proxy / n,
    cpuPerRequestRoundsUs: rounds.every((x) => x !== undefined) ? rounds : undefined,
    upstreamCpuPerRequestUs: n ? sum((s) => s.upstreamCpuUs) / n : Number.NaN,
    loadgenCpuPerRequestUs: n ? sum((s) => s.loadgenCpuUs) / n : Number.NaN,
    otherCores: sum((s) => s.otherCpuUs) / 1000 / elapsedMs,
  };
}

/** BENCH_PROFILE: these targets are profiled over each measured point (V8's profiler), the files written to `dir`. */
export interface Profiling {
  targets: readonly string[];
  dir: string;
}

/** Runs every round of the per-request rows against `upstream`; returns the pooled points. */
export async function measurePerRequest(
  upstream: Proc,
  plan: PerRequestPlan,
  targets: PerRequestTarget[],
  log: (line: string) => void,
  profile?: Profiling,
): Promise<PerRequestPoint[]> {
  const samples: Sample[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      try {
        await session(target, upstream, plan, samples, log, round, profile);
      } catch (error) {
        log(`bench: per-request ${target} round ${round + 1} failed: ${(error as Error).message}`);
      }
    }
  }
  const points: PerRequestPoint[] = [];
  for (const target of targets) {
    for (const kind of ['c16', 'burst64', 'c64paced'] as PerRequestKind[]) {
      const mine = samples.filter((s) => s.target === target && s.kind === kind);
      if (mine.length > 0) points.push(pool(mine));
    }
  }
  return points;
}

const f = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));

function get(points: PerRequestPoint[], target: PerRequestTarget, kind: PerRequestKind): PerRequestPoint | undefined {
  return points.find((p) => p.target === target && p.kind === kind);
}

/** The printed rows: one line per target. */
export function perRequestLines(points: PerRequestPoint[]): string[] {
  const head = ['target', 'c16 req/s', 'CPU µs/req', '(rounds)', 'TTFB p50', 'burst64 p50', 'p99', 'c64paced p50', 'p99', 'streams'];
  const rows: string[][] = [head];
  for (const target of PER_REQUEST_TARGETS) {
    const c16 = get(points, target, 'c16');
    const burst = get(points, target, 'burst64');
    const paced = get(points, target, 'c64paced');
    if (!c16 && !burst && !paced) continue;
    const streams = [c16, burst, paced]
      .map((p) => (p ? (p.complete === p.streams ? String(p.streams) : `${p.complete}/${p.streams}`) : '–'))
      .join('+');
    rows.push([
      target,
      f(c16?.requestsPerSecond, 0),
      f(c16?.cpuPerRequestUs, 0),
      c16?.cpuPerRequestRoundsUs?.map((x) => x.toFixed(0)).join('/') ?? '–',
      `${f(c16?.ttfbP50Ms, 2)} ms`,
      `${f(burst?.ttfbP50Ms, 1)} ms`,
      `${f(burst?.ttfbP99Ms, 1)} ms`,
      `${f(paced?.ttfbP50Ms, 1)} ms`,
      `${f(paced?.ttfbP99Ms, 1)} ms`,
      streams,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
}

export interface PerRequestVerdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** The issue's targets, each a ratio to the pass-through of the same run. */
export function perRequestVerdicts(points: PerRequestPoint[]): PerRequestVerdict[] {
  const out: PerRequestVerdict[] = [];
  const check = (
    name: string,
    kind: PerRequestKind,
    value: (p: PerRequestPoint) => number | undefined,
    limit: number,
    atMost: boolean,
    unit: string,
  ): void => {
    const s = get(points, 'sidecar', kind);
    const p = get(points, 'passthrough', kind);
    const a = s && value(s);
    const b = p && value(p);
    if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0) return;
    const r = a / b;
    out.push({
      target: `${name} ${atMost ? '≤' : '≥'} ${limit.toFixed(1)}× pass-through`,
      met: atMost ? r <= limit : r >= limit,
      detail: `${r.toFixed(2)}× (${f(a)} vs ${f(b)} ${unit})`,
    });
  };
  check('CPU per request, one-write 20-delta answer, c16', 'c16', (p) => p.cpuPerRequestUs, 2.0, true, 'µs');
  check('requests/s, one-write 20-delta answer, c16', 'c16', (p) => p.requestsPerSecond, 0.5, false, 'req/s');
  check('TTFB p50, 64 paced streams starting together', 'burst64', (p) => p.ttfbP50Ms, 1.5, true, 'ms');
  check('TTFB p99, c64 paced', 'c64paced', (p) => p.ttfbP99Ms, 1.5, true, 'ms');
  return out;
}
