/**
 * Turns the measured points into the printed table, the target verdicts (docs/contract.md#performance and the benchmark
 * issue), and the text for bench/README.md's last-run section.
 */
import { embeddingsLines, type EmbeddingsPoint } from './embeddings.ts';
import { perRequestLines, type PerRequestPoint } from './per-request.ts';
import type { Pacing } from './settings.ts';
import type { SlowReaderResult } from './slow-reader.ts';
import { KiB, MiB } from './stats.ts';
import type { TargetName } from './targets.ts';

export interface PointResult {
  target: TargetName;
  pacing: Pacing;
  paceMs: number;
  concurrency: number;
  /** Rounds pooled into this point. */
  rounds: number;
  streams: number;
  complete: number;
  errors: string[];
  elapsedMs: number;
  requestsPerSecond: number;
  /** Time to the first model text, ms. */
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  /** Time to the first body byte, ms. */
  firstByteP50Ms: number;
  /** Target minus direct, same pacing and concurrency (filled in once direct is known). */
  addedTtfbP50Ms: number | undefined;
  addedTtfbP99Ms: number | undefined;
  /** Upstream events the completed streams carried. */
  upstreamEvents: number;
  proxyCpuMs: number | undefined;
  cpuPerEventUs: number | undefined;
  /** The same, round by round (their spread shows the run's noise). */
  cpuPerEventRoundsUs: number[] | undefined;
  emulatorCpuPerEventUs: number;
  loadgenCpuPerEventUs: number;
  /** CPU used by proxy + emulator + load generator during the point, in cores. */
  machineCores: number;
  /** CPU that processes outside the benchmark used during the point, in cores (should be ~0). */
  otherCores: number;
  peakRssMiB: number | undefined;
  /** (peak RSS during the point − the session's idle RSS after warm-up) / concurrency. */
  rssPerStreamKiB: number | undefined;
  /** Complete streams whose largest gap between two reads stayed under STALL_FACTOR × the pacing. */
  stallFree: number | undefined;
  maxGapP99Ms: number;
  verified: number;
  verifyProblems: string[];
}

export interface TargetSession {
  target: TargetName;
  label: string;
  pacing: Pacing;
  available: boolean;
  reason: string | undefined;
  baseRssMiB: number | undefined;
}

export interface Verdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

export interface Machine {
  /** 1, 5 and 15-minute load averages when the run started (before its own load). */
  loadAverage: number[];
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  arch: string;
}

export interface RunReport {
  date: string;
  quick: boolean;
  machine: Machine;
  settings: unknown;
  calibration: unknown;
  sessions: TargetSession[];
  points: PointResult[];
  slowReader: Array<{ target: TargetName } & SlowReaderResult>;
  /** The embeddings row (bench/lib/embeddings.ts); empty with BENCH_EMBEDDINGS=0. */
  embeddings: EmbeddingsPoint[];
  /** The per-request rows (bench/lib/per-request.ts); empty with BENCH_PER_REQUEST=0. */
  perRequest: PerRequestPoint[];
  verdicts: Verdict[];
  durationS: number;
}

const ORDER: TargetName[] = ['direct', 'passthrough', 'sidecar', 'sidecar-regex', 'portkey'];

export function fillAdded(points: PointResult[]): void {
  for (const p of points) {
    const direct = points.find((d) => d.target === 'direct' && d.pacing === p.pacing && d.concurrency === p.concurrency);
    if (!direct || p.target === 'direct') continue;
    p.addedTtfbP50Ms = p.ttfbP50Ms - direct.ttfbP50Ms;
    p.addedTtfbP99Ms = p.ttfbP99Ms - direct.ttfbP99Ms;
  }
}

function find(points: PointResult[], target: TargetName, pacing: Pacing, concurrency: number): PointResult | undefined {
  return points.find((p) => p.target === target && p.pacing === pacing && p.concurrency === concurrency);
}

const f = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export function evaluate(points: PointResult[], sessions: TargetSession[], slow: RunReport['slowReader']): Verdict[] {
  const verdicts: Verdict[] = [];
  const pacings: Pacing[] = ['unpaced', 'paced'];
  const available = (t: TargetName): boolean => sessions.some((s) => s.target === t && s.available);

  // 1. CPU per upstream event, sidecar vs pass-through.
  for (const pacing of pacings) {
    const rows = [1, 64, 512]
      .map((c) => [c, find(points, 'sidecar', pacing, c), find(points, 'passthrough', pacing, c)] as const)
      .filter(([, s, p]) => s?.cpuPerEventUs !== undefined && p?.cpuPerEventUs !== undefined);
    if (rows.length === 0) continue;
    const parts = rows.map(
      ([c, s, p]) => `c${c} ${f(ratio(s!.cpuPerEventUs, p!.cpuPerEventUs), 2)}× (${f(s!.cpuPerEventUs)} vs ${f(p!.cpuPerEventUs)} µs)`,
    );
    verdicts.push({
      target: `CPU per upstream event, sidecar ≤ 1.0× pass-through (${pacing})`,
      met: rows.every(([, s, p]) => s!.cpuPerEventUs! <= p!.cpuPerEventUs!),
      detail: parts.join('; '),
    });
  }
  // 2. Added TTFB p50 at concurrency 1.
  for (const pacing of pacings) {
    const s = find(points, 'sidecar', pacing, 1);
    const p = find(points, 'passthrough', pacing, 1);
    if (s?.addedTtfbP50Ms === undefined || p?.addedTtfbP50Ms === undefined) continue;
    verdicts.push({
      target: `added TTFB p50 at c1 ≤ pass-through's + 0.3 ms (${pacing})`,
      met: s.addedTtfbP50Ms <= p.addedTtfbP50Ms + 0.3,
      detail: `sidecar +${f(s.addedTtfbP50Ms, 2)} ms, pass-through +${f(p.addedTtfbP50Ms, 2)} ms`,
    });
  }
  // 3. Added TTFB p99 at 64 and 512.
  for (const pacing of pacings) {
    for (const c of [64, 512]) {
      const s = find(points, 'sidecar', pacing, c);
      const p = find(points, 'passthrough', pacing, c);
      if (s?.addedTtfbP99Ms === undefined || p?.addedTtfbP99Ms === undefined) continue;
      // An added p99 at or below zero for the pass-through leaves no room for a ratio: compare to 0.
      const limit = Math.max(0, 1.2 * p.addedTtfbP99Ms);
      verdicts.push({
        target: `added TTFB p99 at c${c} ≤ 1.2× pass-through's (${pacing})`,
        met: s.addedTtfbP99Ms <= limit,
        detail: `sidecar +${f(s.addedTtfbP99Ms)} ms, pass-through +${f(p.addedTtfbP99Ms)} ms (limit ${f(limit)} ms)`,
      });
    }
  }
  // 4. Throughput, unpaced, c64.
  {
    const s = find(points, 'sidecar', 'unpaced', 64);
    const p = find(points, 'passthrough', 'unpaced', 64);
    if (s && p) {
      verdicts.push({
        target: 'requests/s, unpaced, c64 ≥ 0.9× pass-through',
        met: s.requestsPerSecond >= 0.9 * p.requestsPerSecond,
        detail: `${f(ratio(s.requestsPerSecond, p.requestsPerSecond), 2)}× (${f(s.requestsPerSecond)} vs ${f(p.requestsPerSecond)} req/s)`,
      });
    }
  }
  // 5. RSS at 512 paced streams.
  {
    const s = find(points, 'sidecar', 'paced', 512);
    const p = find(points, 'passthrough', 'paced', 512);
    if (s?.peakRssMiB !== undefined && p?.peakRssMiB !== undefined) {
      verdicts.push({
        target: "peak RSS at 512 paced streams ≤ pass-through's + 48 MiB",
        met: s.peakRssMiB <= p.peakRssMiB + 48,
        detail: `${f(s.peakRssMiB)} MiB vs ${f(p.peakRssMiB)} MiB (+${f(s.peakRssMiB - p.peakRssMiB)} MiB)`,
      });
    }
    if (s?.rssPerStreamKiB !== undefined) {
      verdicts.push({
        target: 'RSS per stream at 512 paced streams ≤ 96 KiB',
        met: s.rssPerStreamKiB <= 96,
        detail: `${f(s.rssPerStreamKiB)} KiB (pass-through ${f(p?.rssPerStreamKiB)} KiB)`,
      });
    }
  }
  // 6. Stall-free at 10 ms pacing, 512 streams.
  {
    const s = find(points, 'sidecar', 'paced', 512);
    if (s?.stallFree !== undefined) {
      const d = find(points, 'direct', 'paced', 512);
      const p = find(points, 'passthrough', 'paced', 512);
      verdicts.push({
        target: 'stall-free streams at 10 ms pacing, c512: all',
        met: s.stallFree === s.streams,
        detail: `sidecar ${s.stallFree}/${s.streams}; floor (direct) ${d?.stallFree ?? '–'}/${d?.streams ?? '–'}; pass-through ${p?.stallFree ?? '–'}/${p?.streams ?? '–'}`,
      });
    }
  }
  // 7. Slow reader.
  const sr = slow.find((r) => r.target === 'sidecar');
  if (sr) {
    verdicts.push({
      target: 'slow reader: sidecar RSS growth ≤ 16 MiB',
      met: sr.rssGrowthBytes <= 16 * MiB,
      detail: `${f(sr.rssGrowthBytes / MiB)} MiB over ${sr.windowMs / 1000} s reading ${sr.bytesPerSecond} B/s of a ${f(sr.replyBytes / 1e6, 0)} MB reply`,
    });
    if (
      sr.maxQueuedBytes !== undefined &&
      sr.highWaterBytes !== undefined &&
      sr.maxQueuedItems !== undefined &&
      sr.highWaterItems !== undefined
    ) {
      verdicts.push({
        target: 'slow reader: bytes buffered inside the sidecar bounded by its high-water marks',
        // A stream may hold one write past each high-water mark: allow one 64 KiB read per buffer.
        met: sr.maxQueuedBytes <= sr.highWaterBytes + 3 * 64 * KiB && sr.maxQueuedItems <= sr.highWaterItems + 8,
        detail:
          `max ${f(sr.maxQueuedBytes / KiB)} KiB in byte buffers (marks ${f(sr.highWaterBytes / KiB)} KiB), ` +
          `max ${sr.maxQueuedItems} batches in object-mode buffers (marks ${sr.highWaterItems}); streams left after the client went: ${sr.streamsAfterClose ?? '–'}`,
      });
    }
  }
  // 8. Regex guardrail.
  if (available('sidecar-regex')) {
    for (const pacing of pacings) {
      const rows = [1, 64, 512]
        .map((c) => [c, find(points, 'sidecar-regex', pacing, c), find(points, 'sidecar', pacing, c)] as const)
        .filter(([, g, s]) => g?.cpuPerEventUs !== undefined && s?.cpuPerEventUs !== undefined);
      if (rows.length === 0) continue;
      verdicts.push({
        target: `regex guardrail on: CPU per event ≤ 1.15× guardrail-off sidecar (${pacing})`,
        met: rows.every(([, g, s]) => g!.cpuPerEventUs! <= 1.15 * s!.cpuPerEventUs!),
        detail: rows.map(([c, g, s]) => `c${c} ${f(ratio(g!.cpuPerEventUs, s!.cpuPerEventUs), 2)}×`).join('; '),
      });
    }
  } else if (sessions.some((s) => s.target === 'sidecar-regex')) {
    verdicts.push({
      target: 'regex guardrail on: CPU per event ≤ 1.15× guardrail-off sidecar',
      met: undefined,
      detail: 'n/a (guardrails not available)',
    });
  }
  return verdicts;
}

const COLUMNS = [
  'target',
  'pace',
  'c',
  'streams',
  'req/s',
  'TTFB p50',
  'p99',
  '+p50',
  '+p99',
  'CPU µs/ev',
  '×PT',
  'ev/s/core',
  'peak RSS',
  'KiB/stream',
  'stall-free',
] as const;

export function table(points: PointResult[], sessions: TargetSession[]): string[][] {
  const rows: string[][] = [];
  for (const pacing of ['unpaced', 'paced'] as Pacing[]) {
    for (const target of ORDER) {
      const session = sessions.find((s) => s.target === target && s.pacing === pacing);
      if (!session) continue;
      if (!session.available) {
        rows.push([target, pacing, '–', `n/a (${session.reason ?? 'not available'})`]);
        continue;
      }
      for (const p of points.filter((x) => x.target === target && x.pacing === pacing)) {
        const pt = find(points, 'passthrough', pacing, p.concurrency);
        rows.push([
          target,
          pacing === 'paced' ? `${p.paceMs} ms` : 'none',
          String(p.concurrency),
          p.complete === p.streams ? String(p.streams) : `${p.complete}/${p.streams}`,
          f(p.requestsPerSecond),
          f(p.ttfbP50Ms, 2),
          f(p.ttfbP99Ms, 2),
          p.addedTtfbP50Ms === undefined ? '–' : f(p.addedTtfbP50Ms, 2),
          p.addedTtfbP99Ms === undefined ? '–' : f(p.addedTtfbP99Ms, 2),
          f(p.cpuPerEventUs, 2),
          target === 'direct' ? '–' : f(ratio(p.cpuPerEventUs, pt?.cpuPerEventUs), 2),
          p.cpuPerEventUs === undefined ? '–' : String(Math.round(1e6 / p.cpuPerEventUs)),
          p.peakRssMiB === undefined ? '–' : `${f(p.peakRssMiB)} MiB`,
          f(p.rssPerStreamKiB),
          p.stallFree === undefined ? '–' : `${p.stallFree}/${p.streams}`,
        ]);
      }
    }
  }
  return rows;
}

export function formatText(rows: string[][]): string {
  const all = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((r) => (r.length > 4 || i < 4 ? (r[i] ?? '').length : 0))));
  return all
    .map((r) =>
      r.length <= 4 && r !== all[0]
        ? r.join('  ')
        : r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

export function formatMarkdown(rows: string[][]): string {
  const head = `| ${COLUMNS.join(' | ')} |\n|${COLUMNS.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`;
  return `${head}\n${rows.map((r) => `| ${(r.length <= 4 ? [...r, ...Array(COLUMNS.length - r.length).fill('')] : r).join(' | ')} |`).join('\n')}`;
}

export function verdictLines(verdicts: Verdict[]): string[] {
  return verdicts.map((v) => `${v.met === undefined ? 'n/a ' : v.met ? 'MET ' : 'MISS'}  ${v.target}: ${v.detail}`);
}

export function slowReaderLines(slow: RunReport['slowReader']): string[] {
  return slow.map((s) => {
    const queued =
      s.maxQueuedBytes === undefined
        ? ''
        : `; buffered inside: max ${f(s.maxQueuedBytes / KiB)} KiB in byte buffers (high-water marks ${f((s.highWaterBytes ?? 0) / KiB)} KiB) + max ${s.maxQueuedItems} batches in object-mode buffers (marks ${s.highWaterItems})`;
    return `${s.target}: RSS ${f(s.baseRssBytes / MiB)} → peak ${f((s.baseRssBytes + s.rssGrowthBytes) / MiB)} MiB (+${f(s.rssGrowthBytes / MiB)} MiB) over ${s.windowMs / 1000} s; client read ${s.clientBytes} B${queued}`;
  });
}

export function readmeSection(report: RunReport, rows: string[][], plansText: string): string {
  const m = report.machine;
  return [
    '## Performance',
    '',
    `Measured by \`npm run bench\` on ${report.date} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}` +
      ` (load average ${m.loadAverage[0]} at the start)` +
      ` — load generator, emulator and proxy on the same machine over loopback${report.quick ? ' (BENCH_QUICK=1: few streams per point)' : ''}` +
      `${(report.settings as { pinned?: boolean }).pinned ? '; BENCH_PIN=1: the proxy alone on CPU 1, emulator and load generator on CPU 0' : ''}.`,
    '',
    ...(report.perRequest.length === 0
      ? []
      : [
          'Per request: a 20-delta ConverseStream answer (24 events) replayed by a near-free upstream, in one write (c16: 16',
          'streams in a closed loop) or 10 ms a frame (burst64: 64 streams started together, again and again; c64paced: a',
          "closed loop of 64). CPU µs/req is the proxy process's own CPU ÷ completed requests (per round in brackets).",
          '',
          '```',
          ...perRequestLines(report.perRequest),
          '```',
          '',
        ]),
    ...(report.points.length === 0
      ? []
      : [
          'Workload: ConverseStream answers of 204 upstream events (the role, 200 text deltas of 20 bytes, stop, metadata),',
          'unpaced (every event its own `write()`, as fast as the socket takes them) and paced 10 ms apart (a 2-second stream).',
          'TTFB is the time to the first model text; "+" columns are added to the direct-to-emulator floor at the same point.',
          "CPU µs/ev is the proxy process's own CPU time (all its threads) per upstream event; ×PT the ratio to the bare",
          'pass-through (undici → `pipeline`, no parsing); KiB/stream is (peak RSS − idle RSS) / concurrency.',
          `Streams per point: ${plansText}.`,
          '',
          formatMarkdown(rows),
          '',
          'Slow reader (one client reading 1 KiB/s of a 20 MB reply, cut after a fixed window):',
          '',
          ...slowReaderLines(report.slowReader).map((l) => `- ${l}`),
          '',
          ...(report.embeddings.length === 0
            ? []
            : [
                'Embeddings (`/v1/embeddings`, base64 answers, vs the same inputs sent as InvokeModel requests through the pass-through;',
                "CPU per input is the proxy process's own):",
                '',
                ...embeddingsLines(report.embeddings).map((l) => `- \`${l}\``),
                '',
              ]),
        ]),
    'Targets:',
    '',
    ...verdictLines(report.verdicts).map((l) => `- ${l}`),
    '',
  ].join('\n');
}
