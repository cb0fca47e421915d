/**
 * Side by side: the pass-through and one or more compiled sidecars, measured in turns of 2-second c16
 * slices (the per-request rows' one-write 20-delta answer, bench/lib/per-request.ts) against one upstream,
 * so that a change is compared with the code before it under the same load. On a shared machine absolute
 * figures move by ±30% from minute to minute; interleaved slices move together.
 *
 *   npx tsx bench/ab.ts [--rounds N] [DIR …]   DIR: a copy of bench/.build (the sidecar before a change, say:
 *                                             `cp -r bench/.build bench/.ab/before`; it must be inside the
 *                                             repository, for node_modules); the current tree is always in
 *   npx tsx bench/ab.ts 'DIR#--flag' …         DIR run with Node/V8 flags (`bench/.ab/current#--max-semi-space-size=32`:
 *                                             the current tree under a flag)
 *   npx tsx bench/ab.ts --ablate               the current tree and variants of it with one part taken out
 *                                             (bench/lib/ablations.ts): what each part of the design costs,
 *                                             beside an unchanged copy (the A/A control: the run's noise)
 *   npx tsx bench/ab.ts --burst …              each round also starts 64 paced streams at once, 4 times, per
 *                                             target: the per-request rows' burst64 time to first text, side by side
 *
 * Prints each slice, then the median CPU µs per request of each (after the first rounds, which the
 * warm-up's settling may not have covered) and its ratio to the pass-through's.
 */
import { join, relative } from 'node:path';
import { startEmulator } from '../src/emulator/index.ts';
import { ABLATIONS, makeVariant } from './lib/ablations.ts';
import { build, BUILD_DIR, ROOT } from './lib/build.ts';
import { newAgent, runPoint } from './lib/load.ts';
import { Proc } from './lib/proc.ts';
import { settle, SHORT_ONE_WRITE, SHORT_PACED, SLICE, startUpstream } from './lib/per-request.ts';
import { percentile } from './lib/stats.ts';
import { requestFor, sidecarConfig, targetSpecs } from './lib/targets.ts';
import { converseRequest, upstreamEvents } from './lib/workload.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const args = process.argv.slice(2);
let rounds = 8;
let ablate = false;
let burst = false;
const dirs: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--rounds') rounds = Number(args[++i]);
  else if (arg === '--ablate') ablate = true;
  else if (arg === '--burst') burst = true;
  else dirs.push(arg);
}
if (!Number.isInteger(rounds) || rounds < 2) throw new Error('--rounds: an integer of at least 2');

build(log);
const AB_DIR = join(ROOT, 'bench', '.ab');
const current = join(AB_DIR, 'current');
makeVariant(BUILD_DIR, current, { name: 'current', what: 'the tree as it is', edits: [] });
const builds = [current, ...dirs];
if (ablate) {
  for (const ablation of ABLATIONS) {
    const dir = join(AB_DIR, ablation.name);
    makeVariant(current, dir, ablation);
    builds.push(dir);
  }
}

// The one-write answer, recorded from the emulator, replayed by the near-free upstream.
const emulator = await startEmulator({ quiet: true, verifySignature: false });
const shape = converseRequest(SHORT_ONE_WRITE);
const answer = await fetch(emulator.url + shape.path, { method: 'POST', headers: shape.headers, body: shape.body });
const reply = Buffer.from(await answer.arrayBuffer());
await emulator.close();
const upstream = await startUpstream(reply);

const specs = targetSpecs({ peer: undefined, nodeArgs: () => [] });
const passthrough = specs.find((s) => s.name === 'passthrough')!;
const sidecar = specs.find((s) => s.name === 'sidecar')!;
interface Target {
  name: string;
  proc: Proc;
  request: Awaited<ReturnType<typeof requestFor>>;
  paced: Awaited<ReturnType<typeof requestFor>>;
}
const targets: Target[] = [
  {
    name: 'passthrough',
    proc: (await passthrough.start(upstream.url))!,
    request: await requestFor(passthrough, SHORT_ONE_WRITE, upstream.url),
    paced: await requestFor(passthrough, SHORT_PACED, upstream.url),
  },
];
const sidecarRequest = await requestFor(sidecar, SHORT_ONE_WRITE, upstream.url);
const sidecarPaced = await requestFor(sidecar, SHORT_PACED, upstream.url);
for (const spec of builds) {
  const [dir, ...flags] = spec.split('#');
  const proc = await Proc.start({
    name: relative(ROOT, dir!) + (flags.length ? ` ${flags.join(' ')}` : ''),
    args: [...flags, join(dir!, 'bench', 'procs', 'sidecar.js')],
    stats: 'ipc',
    env: { BENCH_UPSTREAM: upstream.url, BENCH_SIDECAR_CONFIG: JSON.stringify(sidecarConfig(false)) },
  });
  targets.push({ name: proc.name, proc, request: sidecarRequest, paced: sidecarPaced });
}

const expectation = { frames: upstreamEvents(SHORT_ONE_WRITE), firstTextFrame: 1 };
const pacedExpectation = { frames: upstreamEvents(SHORT_PACED), firstTextFrame: 1 };
const BURSTS = 4;
/** Time to first text of 64 paced streams started in the same tick, BURSTS times (as the burst64 point). */
async function bursts(t: Target): Promise<number[]> {
  const ttfb: number[] = [];
  for (let b = 0; b < BURSTS; b++) {
    const run = await runPoint(agent, t.proc.url, t.paced, pacedExpectation, {
      concurrency: 64,
      minStreams: 64,
      minMs: 0,
      maxMs: 0,
      verify: 0,
    });
    ttfb.push(...run.results.filter((r) => r.complete).map((r) => r.firstTextMs));
  }
  return ttfb;
}
const burstTtfb = new Map<string, number[]>();
const agent = newAgent(64);
const costs = new Map<string, number[]>();
try {
  for (const t of targets) {
    log(`ab: warming ${t.name}`);
    await settle(
      t.proc,
      () => runPoint(agent, t.proc.url, t.request, expectation, SLICE),
      { warmupMs: 0, warmupMaxMs: 20_000 },
      t.name,
      log,
    );
    // Every connection a burst uses is open before bursts are measured.
    if (burst)
      await runPoint(agent, t.proc.url, t.request, expectation, { concurrency: 64, minStreams: 64, minMs: 0, maxMs: 0, verify: 0 });
  }
  for (let round = 0; round < rounds; round++) {
    // Each round starts one place further along, so every target is measured in every position of the turn
    // equally often (forward and backward turns still left the tree as it is beside the pass-through each time).
    for (const t of targets.map((_, i) => targets[(i + round) % targets.length]!)) {
      const a = await t.proc.mark();
      const run = await runPoint(agent, t.proc.url, t.request, expectation, { ...SLICE, minMs: 2_000, maxMs: 4_000 });
      const b = await t.proc.stats();
      const done = run.results.filter((r) => r.complete).length;
      const us = (b.cpuUs - a.cpuUs) / Math.max(1, done);
      if (round > 0) costs.set(t.name, [...(costs.get(t.name) ?? []), us]);
      const failed = run.results.length - done;
      const ttfb = burst ? await bursts(t) : [];
      if (round > 0 && burst) burstTtfb.set(t.name, [...(burstTtfb.get(t.name) ?? []), ...ttfb]);
      log(
        `ab: round ${round + 1} ${t.name.padEnd(24)} ${us.toFixed(0).padStart(6)} µs/req  ${((done * 1000) / run.elapsedMs).toFixed(0).padStart(5)} req/s` +
          (burst ? `  burst64 TTFB p50 ${percentile(ttfb, 50).toFixed(1)} ms` : '') +
          (failed ? `  ${failed} incomplete: ${run.results.find((r) => !r.complete)?.error ?? ''}` : ''),
      );
    }
  }
} finally {
  await agent.close();
  for (const t of targets) await t.proc.stop();
  await upstream.stop();
}

const base = percentile(costs.get('passthrough') ?? [], 50);
console.log(`\nmedian CPU per request over rounds 2–${rounds} (one-write 20-delta answer, c16):`);
for (const [name, xs] of costs) {
  const what = ABLATIONS.find((a) => name.endsWith(a.name))?.what ?? '';
  const m = percentile(xs, 50);
  console.log(`  ${name.padEnd(24)} ${m.toFixed(0).padStart(6)} µs  ${(m / base).toFixed(2)}× pass-through  ${what}`);
}
if (burst) {
  const burstBase = percentile(burstTtfb.get('passthrough') ?? [], 50);
  console.log(`\nTTFB p50 of 64 paced streams started at once, rounds 2–${rounds} pooled (${BURSTS} bursts per round):`);
  for (const [name, xs] of burstTtfb) {
    const m = percentile(xs, 50);
    console.log(`  ${name.padEnd(24)} ${m.toFixed(1).padStart(6)} ms  ${(m / burstBase).toFixed(2)}× pass-through`);
  }
}
