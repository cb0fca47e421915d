/**
 * `npm run bench` (docs/contract.md#performance): one command, one machine, everything on loopback.
 *
 * 1. Compiles the proxies (`tsc -p bench/tsconfig.json` → bench/.build) so each runs as plain `node`,
 *    as the Dockerfile runs the sidecar.
 * 2. Starts the Bedrock emulator in a process of its own and checks one answer against the expected text.
 * 3. For each pacing (unpaced, paced 10 ms) and each target (direct, pass-through, sidecar, sidecar with a
 *    regex guardrail, and the Portkey gateway with BENCH_PEER=portkey): starts the target in a fresh
 *    process, warms it up, then measures concurrency 1, 64 and 512 with the same load generator (this
 *    process). Each proxy's CPU and RSS come from the proxy process itself (IPC, or /proc for the peer).
 * 4. The slow-reader run against the pass-through and the sidecar.
 * 5. Prints the table and the target verdicts, writes bench/results/<date>.json and <date>.md (the text
 *    for bench/README.md's last-run section).
 *
 * Settings and environment variables: bench/lib/settings.ts. How to read the results: bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, arch, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeConverse, decodeSse, newAgent, runPoint, type Expectation, type StreamResult } from './lib/load.ts';
import { EMBEDDING_CASES, embeddingsLines, measureEmbeddings, type EmbeddingsPoint } from './lib/embeddings.ts';
import {
  measurePerRequest,
  PER_REQUEST_TARGETS,
  perRequestLines,
  perRequestPlan,
  perRequestVerdicts,
  SHORT_ONE_WRITE,
  startUpstream,
  type PerRequestPoint,
} from './lib/per-request.ts';
import { build } from './lib/build.ts';
import { Proc } from './lib/proc.ts';
import { noteRequests, profileExtension, summarise } from './lib/profile-summary.ts';
import {
  evaluate,
  fillAdded,
  formatText,
  readmeSection,
  slowReaderLines,
  table,
  verdictLines,
  type Machine,
  type PointResult,
  type RunReport,
  type TargetSession,
} from './lib/report.ts';
import { PACE_MS, readSettings, slowReaderEnabled, STALL_FACTOR, type Pacing, type Settings } from './lib/settings.ts';
import { slowReader } from './lib/slow-reader.ts';
import { MiB, KiB, machineBusyUs, percentile } from './lib/stats.ts';
import { PROCS_DIR, requestFor, targetSpecs, type TargetName, type TargetSpec } from './lib/targets.ts';
import { expectedText, STREAM_REPEAT, upstreamEvents, type Workload } from './lib/workload.ts';

const ROOT = join(import.meta.dirname, '..');
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Pins every thread of a process to one CPU (BENCH_PIN=1). */
function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch (error) {
    log(`bench: taskset failed for ${pid}: ${(error as Error).message}`);
  }
}

function machine(loadAtStart: number[]): Machine {
  return {
    loadAverage: loadAtStart.map((x) => Math.round(x * 100) / 100),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    arch: arch(),
  };
}

function expectation(w: Workload): Expectation {
  return { frames: upstreamEvents(w), firstTextFrame: 1 };
}

function cpuNowUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** Checks the kept bodies of a point against the emulator's text. */
function verify(results: StreamResult[], w: Workload): { verified: number; problems: string[] } {
  const want = expectedText(w);
  let verified = 0;
  const problems: string[] = [];
  for (const r of results) {
    if (!r.body) continue;
    verified++;
    try {
      if (r.frames > 0) {
        const { text, types } = decodeConverse(r.body);
        if (text !== want) problems.push(`event-stream text differs (${text.length} vs ${want.length} chars)`);
        if (types[0] !== 'messageStart' || types.at(-1) !== 'metadata') problems.push(`event types ${types[0]} … ${types.at(-1)}`);
      } else {
        const { text, problem } = decodeSse(r.body);
        if (problem) problems.push(problem);
        else if (text !== want) problems.push(`SSE text differs (${text.length} vs ${want.length} chars)`);
      }
    } catch (error) {
      problems.push(`undecodable body: ${(error as Error).message}`);
    }
  }
  return { verified, problems };
}

/** What one round of one point measured; rounds are pooled into a PointResult by `aggregate`. */
interface PointSample {
  target: TargetName;
  pacing: Pacing;
  concurrency: number;
  round: number;
  results: StreamResult[];
  elapsedMs: number;
  proxyCpuUs: number | undefined;
  emulatorCpuUs: number;
  loadgenCpuUs: number;
  /** CPU that processes outside the benchmark used meanwhile (machine busy time from /proc/stat − ours). */
  otherCpuUs: number;
  peakRssBytes: number | undefined;
  baseRssBytes: number | undefined;
  verified: number;
  verifyProblems: string[];
}

async function measurePoint(
  spec: TargetSpec,
  proc: Proc | undefined,
  emulator: Proc,
  url: string,
  agent: ReturnType<typeof newAgent>,
  pacing: Pacing,
  concurrency: number,
  settings: Settings,
  baseRss: number | undefined,
  round: number,
  profileFile: string | undefined,
): Promise<PointSample> {
  const w: Workload = { paceMs: PACE_MS[pacing], repeat: STREAM_REPEAT };
  const plan = { concurrency, ...settings.plans[pacing][concurrency]! };
  // Open (and keep alive) one connection per concurrent stream on every hop before measuring.
  const tiny: Workload = { paceMs: 0, repeat: 1 };
  await runPoint(agent, url, await requestFor(spec, tiny, emulator.url), expectation(tiny), {
    concurrency,
    minStreams: concurrency,
    minMs: 0,
    maxMs: 0,
    verify: 0,
  });

  const p0 = await proc?.mark();
  if (profileFile) await proc?.profile('start');
  const e0 = await emulator.mark();
  const c0 = cpuNowUs();
  const m0 = machineBusyUs();
  const run = await runPoint(agent, url, await requestFor(spec, w, emulator.url), expectation(w), plan);
  const m1 = machineBusyUs();
  const c1 = cpuNowUs();
  const e1 = await emulator.stats();
  const p1 = await proc?.stats();
  if (profileFile) {
    await proc?.profile('stop', profileFile);
    noteRequests(profileFile, run.results.filter((r) => r.complete).length);
  }
  const proxyCpuUs = p0 && p1 ? p1.cpuUs - p0.cpuUs : undefined;
  const { verified, problems } = verify(run.results, w);
  for (const r of run.results) r.body = undefined;
  return {
    target: spec.name,
    pacing,
    concurrency,
    round,
    results: run.results,
    elapsedMs: run.elapsedMs,
    proxyCpuUs,
    emulatorCpuUs: e1.cpuUs - e0.cpuUs,
    loadgenCpuUs: c1 - c0,
    otherCpuUs: Math.max(0, m1 - m0 - (proxyCpuUs ?? 0) - (e1.cpuUs - e0.cpuUs) - (c1 - c0)),
    peakRssBytes: p1?.peakRssBytes,
    baseRssBytes: baseRss,
    verified,
    verifyProblems: problems,
  };
}

/** Pools the rounds of one point: CPU summed over events, TTFB percentiles over every stream, RSS the highest. */
function aggregate(samples: PointSample[]): PointResult {
  const first = samples[0]!;
  const w: Workload = { paceMs: PACE_MS[first.pacing], repeat: STREAM_REPEAT };
  const all = samples.flatMap((s) => s.results);
  const complete = all.filter((r) => r.complete);
  const events = complete.length * upstreamEvents(w);
  const elapsedMs = samples.reduce((a, s) => a + s.elapsedMs, 0);
  const sum = (f: (s: PointSample) => number): number => samples.reduce((a, s) => a + f(s), 0);
  const proxyCpuUs = samples.every((s) => s.proxyCpuUs !== undefined) ? sum((s) => s.proxyCpuUs!) : undefined;
  const stallLimit = STALL_FACTOR * w.paceMs;
  const peaks = samples.map((s) => s.peakRssBytes).filter((x): x is number => x !== undefined);
  const perStream = samples
    .filter((s) => s.peakRssBytes !== undefined && s.baseRssBytes !== undefined && s.concurrency > 1)
    .map((s) => Math.max(0, s.peakRssBytes! - s.baseRssBytes!) / KiB / s.concurrency);
  const roundCpu = samples.map((s) => {
    const ev = s.results.filter((r) => r.complete).length * upstreamEvents(w);
    return s.proxyCpuUs === undefined || ev === 0 ? undefined : s.proxyCpuUs / ev;
  });
  return {
    target: first.target,
    pacing: first.pacing,
    paceMs: w.paceMs,
    concurrency: first.concurrency,
    rounds: samples.length,
    streams: all.length,
    complete: complete.length,
    errors: [
      ...new Set(
        all.filter((r) => !r.complete).map((r) => r.error ?? `status ${r.status}, ${r.frames} frames, ${r.bytes} bytes, incomplete`),
      ),
    ].slice(0, 5),
    elapsedMs,
    requestsPerSecond: (all.length * 1000) / elapsedMs,
    ttfbP50Ms: percentile(
      complete.map((r) => r.firstTextMs),
      50,
    ),
    ttfbP99Ms: percentile(
      complete.map((r) => r.firstTextMs),
      99,
    ),
    firstByteP50Ms: percentile(
      complete.map((r) => r.firstByteMs),
      50,
    ),
    addedTtfbP50Ms: undefined,
    addedTtfbP99Ms: undefined,
    upstreamEvents: events,
    proxyCpuMs: proxyCpuUs === undefined ? undefined : proxyCpuUs / 1000,
    cpuPerEventUs: proxyCpuUs === undefined || events === 0 ? undefined : proxyCpuUs / events,
    cpuPerEventRoundsUs: roundCpu.every((x) => x !== undefined) ? roundCpu : undefined,
    emulatorCpuPerEventUs: events ? sum((s) => s.emulatorCpuUs) / events : Number.NaN,
    loadgenCpuPerEventUs: events ? sum((s) => s.loadgenCpuUs) / events : Number.NaN,
    machineCores: ((proxyCpuUs ?? 0) + sum((s) => s.emulatorCpuUs) + sum((s) => s.loadgenCpuUs)) / 1000 / elapsedMs,
    otherCores: sum((s) => s.otherCpuUs) / 1000 / elapsedMs,
    peakRssMiB: peaks.length ? Math.max(...peaks) / MiB : undefined,
    rssPerStreamKiB: perStream.length ? Math.max(...perStream) : undefined,
    stallFree: w.paceMs > 0 ? complete.filter((r) => r.maxGapMs <= stallLimit).length : undefined,
    maxGapP99Ms: percentile(
      complete.map((r) => r.maxGapMs),
      99,
    ),
    verified: sum((s) => s.verified),
    verifyProblems: [...new Set(samples.flatMap((s) => s.verifyProblems))].slice(0, 5),
  };
}

async function session(
  spec: TargetSpec,
  emulator: Proc,
  pacing: Pacing,
  round: number,
  settings: Settings,
  samples: PointSample[],
  profileDir: string,
): Promise<TargetSession> {
  const result: TargetSession = {
    target: spec.name,
    label: spec.label,
    pacing,
    available: false,
    reason: undefined,
    baseRssMiB: undefined,
  };
  let proc: Proc | undefined;
  try {
    proc = await spec.start(emulator.url);
    if (proc && settings.pin) pin(proc.pid, 1);
  } catch (error) {
    const message = (error as Error).message;
    result.reason =
      spec.name === 'sidecar-regex' && /guardrail/i.test(message) ? 'guardrails not available' : message.split('\n')[0]!.slice(0, 200);
    log(`bench: ${spec.name} is not available: ${message.split('\n')[0]}`);
    return result;
  }
  const url = proc?.url ?? emulator.url;
  const agent = newAgent(512);
  try {
    const warm: Workload = { paceMs: 0, repeat: STREAM_REPEAT };
    const w = await runPoint(agent, url, await requestFor(spec, warm, emulator.url), expectation(warm), settings.warmup);
    const bad = verify(w.results, warm);
    if (w.results.every((r) => !r.complete) || bad.problems.length > 0) {
      const first = w.results.find((r) => !r.complete);
      throw new Error(`warm-up failed: ${bad.problems[0] ?? first?.error ?? `status ${first?.status}`}`);
    }
    const base = await proc?.mark();
    result.baseRssMiB = base ? base.rssBytes / MiB : undefined;
    result.available = true;
    for (const c of settings.concurrency) {
      // Our own proxies are profiled over the measured point only; a foreign peer runs under --cpu-prof.
      const profileFile =
        proc?.profilable && settings.profile.includes(spec.name)
          ? join(profileDir, `${spec.name}-${pacing}-c${c}-r${round + 1}${profileExtension()}`)
          : undefined;
      const sample = await measurePoint(spec, proc, emulator, url, agent, pacing, c, settings, base?.rssBytes, round, profileFile);
      samples.push(sample);
      const point = aggregate([sample]);
      log(
        `bench: ${spec.name.padEnd(13)} ${pacing.padEnd(7)} c${String(c).padEnd(3)} r${round + 1} ${String(point.complete).padStart(4)}/${point.streams} streams  ` +
          `${point.requestsPerSecond.toFixed(1).padStart(7)} req/s  TTFB p50 ${point.ttfbP50Ms.toFixed(2)} ms  ` +
          `CPU ${point.cpuPerEventUs?.toFixed(2) ?? '–'} µs/ev  machine ${point.machineCores.toFixed(2)} cores, others ${point.otherCores.toFixed(2)}` +
          (point.errors.length ? `  errors: ${point.errors.join(' | ')}` : '') +
          (point.verifyProblems.length ? `  VERIFY: ${point.verifyProblems.join(' | ')}` : ''),
      );
    }
  } catch (error) {
    result.reason = (error as Error).message.slice(0, 200);
    result.available = result.available && samples.some((s) => s.target === spec.name && s.pacing === pacing && s.round === round);
    log(`bench: ${spec.name} ${pacing} failed: ${(error as Error).message}`);
  } finally {
    await agent.close();
    await proc?.stop();
  }
  return result;
}

/**
 * The per-request rows (bench/lib/per-request.ts): the emulator's 20-delta answer is recorded once and
 * replayed by a near-free upstream to direct, the pass-through and the sidecar.
 */
async function perRequestRows(emulator: Proc, settings: Settings, profileDir: string): Promise<PerRequestPoint[]> {
  const agent = newAgent(1);
  const direct = targetSpecs({ peer: undefined, nodeArgs: () => [] })[0]!;
  const w = SHORT_ONE_WRITE;
  const run = await runPoint(agent, emulator.url, await requestFor(direct, w, emulator.url), expectation(w), {
    concurrency: 1,
    minStreams: 1,
    minMs: 0,
    maxMs: 0,
    verify: 1,
  });
  await agent.close();
  const checked = verify(run.results, w);
  const body = run.results[0]?.body;
  if (!body || !run.results[0]?.complete || checked.problems.length > 0)
    throw new Error(`per-request: the emulator's 20-delta answer is not the expected one: ${checked.problems.join('; ')}`);
  const upstream = await startUpstream(body);
  try {
    const targets = PER_REQUEST_TARGETS.filter((t) => !settings.targets || settings.targets.includes(t));
    const profile = settings.profile.length > 0 ? { targets: settings.profile, dir: profileDir } : undefined;
    return await measurePerRequest(upstream, perRequestPlan(settings.quick, settings.rounds), targets, log, profile);
  } finally {
    await upstream.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const settings = readSettings(process.env, join(ROOT, 'bench', 'results'));
  const loadAtStart = loadavg();
  const load = loadAtStart[0]!;
  if (load > 0.5) log(`bench: WARNING: the machine is busy before the run (load average ${load.toFixed(2)}); figures will be noisy`);
  const date = new Date().toISOString().slice(0, 10);
  const profileDir = join(settings.outDir, `profiles-${date}`);
  build(log);

  const emulator = await Proc.start({ name: 'emulator', args: [join(PROCS_DIR, 'emulator.js')], stats: 'ipc' });
  if (settings.pin) {
    pin(emulator.pid, 0);
    pin(process.pid, 0);
  }
  const points: PointResult[] = [];
  const sessions: TargetSession[] = [];
  const slow: RunReport['slowReader'] = [];
  const embeddings: EmbeddingsPoint[] = [];
  let perRequest: PerRequestPoint[] = [];
  const streaming = settings.perRequest !== 'only';
  let calibration: unknown;
  try {
    // The emulator answers as expected: 204 events, the 4,000-byte text.
    {
      const w: Workload = { paceMs: 0, repeat: STREAM_REPEAT };
      const agent = newAgent(1);
      const specs = targetSpecs({ peer: undefined, nodeArgs: () => [] });
      const run = await runPoint(agent, emulator.url, specs[0]!.request(w), expectation(w), {
        concurrency: 1,
        minStreams: 1,
        minMs: 0,
        maxMs: 0,
        verify: 1,
      });
      await agent.close();
      const decoded = decodeConverse(run.results[0]!.body!);
      const deltas = decoded.types.filter((t) => t === 'contentBlockDelta').length;
      calibration = {
        upstreamEvents: decoded.types.length,
        textDeltas: deltas,
        textBytes: Buffer.byteLength(decoded.text),
        firstTypes: decoded.types.slice(0, 2),
      };
      if (decoded.types.length !== upstreamEvents(w) || decoded.text !== expectedText(w) || decoded.types[1] !== 'contentBlockDelta') {
        throw new Error(`the emulator's answer is not the expected one: ${JSON.stringify(calibration)}`);
      }
      log(
        `bench: emulator at ${emulator.url} answers ${decoded.types.length} events, ${deltas} text deltas, ${Buffer.byteLength(decoded.text)} bytes of text`,
      );
    }

    if (settings.profile.length > 0) mkdirSync(profileDir, { recursive: true });
    if (settings.perRequest !== 'off') perRequest = await perRequestRows(emulator, settings, profileDir);

    const nodeArgs = (name: TargetName): string[] =>
      name === 'portkey' && settings.profile.includes(name)
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
        : [];
    const specs = targetSpecs({ peer: settings.peer, nodeArgs }).filter((s) => !settings.targets || settings.targets.includes(s.name));

    // Rounds interleave the targets (in reverse order every other round), so a slow spell of the machine
    // does not fall on one target only; every point pools its rounds.
    const samples: PointSample[] = [];
    for (const pacing of streaming ? settings.pacings : []) {
      for (let round = 0; round < settings.rounds; round++) {
        const order = round % 2 === 0 ? specs : [...specs].reverse();
        for (const spec of order) {
          const s = await session(spec, emulator, pacing, round, settings, samples, profileDir);
          const known = sessions.find((x) => x.target === s.target && x.pacing === s.pacing);
          if (!known) sessions.push(s);
          else if (!known.available && s.available) Object.assign(known, s);
        }
      }
    }
    for (const s of sessions) {
      for (const c of settings.concurrency) {
        const mine = samples.filter((x) => x.target === s.target && x.pacing === s.pacing && x.concurrency === c);
        if (mine.length > 0) points.push(aggregate(mine));
      }
    }

    if (streaming && slowReaderEnabled(process.env)) {
      for (const name of settings.slowReader.targets) {
        const spec = specs.find((s) => s.name === name);
        if (!spec) continue;
        const proc = await spec.start(emulator.url);
        if (!proc) continue;
        if (settings.pin) pin(proc.pid, 1);
        try {
          // Warm the process first, so that the growth measured is the slow stream's and not start-up's.
          const warm: Workload = { paceMs: 0, repeat: STREAM_REPEAT };
          const agent = newAgent(16);
          await runPoint(agent, proc.url, await requestFor(spec, warm, emulator.url), expectation(warm), settings.warmup);
          await agent.close();
          const w: Workload = { paceMs: 0, repeat: settings.slowReader.repeat };
          const result = await slowReader(
            proc,
            await requestFor(spec, w, emulator.url),
            Buffer.byteLength(expectedText({ paceMs: 0, repeat: 1 })) * w.repeat,
            settings.slowReader,
          );
          slow.push({ target: name, ...result });
          log(`bench: slow reader ${slowReaderLines([{ target: name, ...result }])[0]}`);
        } finally {
          await proc.stop();
        }
      }
    }

    if (streaming && process.env.BENCH_EMBEDDINGS !== '0') {
      // The embeddings row: /v1/embeddings through the sidecar vs the same inputs as native InvokeModel
      // requests through the pass-through (bench/lib/embeddings.ts).
      const durationMs = settings.quick ? 1_500 : 5_000;
      const concurrency = 16;
      for (const name of ['passthrough', 'sidecar'] as const) {
        const spec = targetSpecs({ peer: undefined, nodeArgs: () => [] }).find((s) => s.name === name)!;
        const proc = await spec.start(emulator.url);
        if (!proc) continue;
        if (settings.pin) pin(proc.pid, 1);
        try {
          for (const c of EMBEDDING_CASES) {
            const point = await measureEmbeddings(c, name, proc, emulator.url, concurrency, durationMs);
            embeddings.push(point);
            log(`bench: embeddings ${embeddingsLines([point])[0]}`);
          }
        } finally {
          await proc.stop();
        }
      }
    }
  } finally {
    await emulator.stop();
  }

  fillAdded(points);
  const verdicts = [...perRequestVerdicts(perRequest), ...evaluate(points, sessions, slow)];
  const report: RunReport = {
    date,
    quick: settings.quick,
    machine: machine(loadAtStart),
    settings: {
      pinned: settings.pin,
      rounds: settings.rounds,
      plans: settings.plans,
      warmup: settings.warmup,
      slowReader: settings.slowReader,
      stallFactor: STALL_FACTOR,
      paceMs: PACE_MS,
    },
    calibration,
    sessions,
    points,
    slowReader: slow,
    embeddings,
    perRequest,
    verdicts,
    durationS: Math.round((performance.now() - started) / 1000),
  };
  const rows = table(points, sessions);
  const plansText =
    `${settings.rounds} round(s) of ` +
    (['unpaced', 'paced'] as Pacing[])
      .map((p) => `${p} ${settings.concurrency.map((c) => `c${c} ≥${settings.plans[p][c]!.minStreams}`).join(', ')}`)
      .join('; ') +
    ' (each table row pools its rounds)';

  const m = report.machine;
  const busy = points.filter((p) => p.otherCores > 0.2);
  const noise =
    busy.length === 0
      ? ''
      : `\nWARNING: other processes used > 0.2 cores during ${busy.length} point(s) (${busy.map((p) => `${p.target} ${p.pacing} c${p.concurrency}: ${p.otherCores.toFixed(2)}`).join('; ')}): rerun on a quiet machine.\n`;
  process.stdout.write(
    `\nbedrock-sidecar benchmark — ${date} — ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}` +
      `${settings.quick ? ' — QUICK' : ''}${settings.pin ? ' — PINNED (proxy on CPU 1)' : ''} — ${report.durationS} s\n\n` +
      (perRequest.length
        ? `per request (20-delta ConverseStream answers from a near-free upstream; CPU is the proxy's own ÷ completed requests):\n${perRequestLines(
            perRequest,
          )
            .map((l) => `  ${l}`)
            .join('\n')}\n\n`
        : '') +
      (rows.length ? `${formatText(rows)}\n\n` : '') +
      (slow.length
        ? `slow reader:\n${slowReaderLines(slow)
            .map((l) => `  ${l}`)
            .join('\n')}\n\n`
        : '') +
      (embeddings.length
        ? `embeddings (/v1/embeddings vs the same inputs as InvokeModel through the pass-through):\n${embeddingsLines(embeddings)
            .map((l) => `  ${l}`)
            .join('\n')}\n\n`
        : '') +
      `targets:\n${verdictLines(verdicts)
        .map((l) => `  ${l}`)
        .join('\n')}\n${noise}`,
  );

  if (settings.profile.length > 0) {
    for (const file of readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile') || f.endsWith('.heapprofile'))
      .sort((a, b) => statSync(join(profileDir, a)).mtimeMs - statSync(join(profileDir, b)).mtimeMs)) {
      process.stdout.write(`\nprofile ${file}:\n${summarise(join(profileDir, file), 30)}\n`);
    }
  }

  mkdirSync(settings.outDir, { recursive: true });
  const name = `${date}${settings.quick ? '-quick' : ''}${settings.pin ? '-pinned' : ''}`;
  writeFileSync(join(settings.outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(settings.outDir, `${name}.md`), readmeSection(report, rows, plansText));
  process.stdout.write(`\nwrote ${join(settings.outDir, `${name}.json`)} and ${name}.md (text for bench/README.md)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
