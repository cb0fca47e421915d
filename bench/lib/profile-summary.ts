/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or the bench's agent): self time by function and by
 * file, the top N; or a sampling .heapprofile (BENCH_PROFILE_HEAP=1): bytes allocated by function and by file,
 * per request when the bench noted how many requests the profile covers.
 * Usage: tsx bench/lib/profile-summary.ts FILE [N]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** file:// URL of the checkout (any worktree), stripped from the names printed. */
const ROOT_URL = pathToFileURL(`${import.meta.dirname}/../../`).href;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The profiles' kind for this run: BENCH_PROFILE_HEAP=1 profiles allocations instead of time. */
export function profileExtension(): string {
  return process.env.BENCH_PROFILE_HEAP === '1' ? '.heapprofile' : '.cpuprofile';
}

/** Records in a heap profile how many requests completed while it was taken, for bytes per request. */
export function noteRequests(file: string, requests: number): void {
  if (!file.endsWith('.heapprofile')) return;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  profile.requests = requests;
  writeFileSync(file, JSON.stringify(profile));
}

function shortName(callFrame: { functionName: string; url: string; lineNumber: number }): { key: string; file: string } {
  const file = callFrame.url
    .replace(ROOT_URL, '')
    .replace('bench/.build/', '')
    .replace(/^.*node_modules\//, 'nm/');
  return { key: `${callFrame.functionName || '(anon)'} ${file}:${callFrame.lineNumber + 1}`, file: file || callFrame.functionName };
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated (sampled, collected or not) by function, by file, and inclusive of callees for our own code. */
function summariseHeap(profile: { head: HeapNode; requests?: number }, top: number): string {
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);
  const walk = (node: HeapNode, onStack: ReadonlySet<string>): number => {
    const { key, file } = shortName(node.callFrame);
    add(byFn, key, node.selfSize);
    add(byFile, file, node.selfSize);
    total += node.selfSize;
    const stack = onStack.has(key) ? onStack : new Set([...onStack, key]);
    let sum = node.selfSize;
    for (const child of node.children) sum += walk(child, stack);
    if (!onStack.has(key)) add(inclusive, key, sum);
    return sum;
  };
  walk(profile.head, new Set());
  const per = profile.requests ? profile.requests : 1;
  const unit = profile.requests ? 'bytes per request' : 'bytes';
  const fmt = (m: Map<string, number>, only?: (k: string) => boolean): string =>
    [...m]
      .filter(([k, n]) => n > 0 && (!only || only(k)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, n]) => `${(n / per).toFixed(0).padStart(9)} ${((100 * n) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return (
    `total ${(total / per).toFixed(0)} ${unit}${profile.requests ? ` (${profile.requests} requests)` : ''}\n` +
    `-- allocated by function (${unit}) --\n${fmt(byFn)}\n-- by file --\n${fmt(byFile)}\n` +
    `-- inclusive, the sidecar's own functions --\n${fmt(inclusive, (k) => k.includes(' src/'))}`
  );
}

export function summarise(file: string, top = 40): string {
  if (file.endsWith('.heapprofile'))
    return summariseHeap(JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode; requests?: number }, top);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { key, file } = shortName(byId.get(id)!.callFrame);
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    total += us;
  }
  const fmt = (m: Map<string, number>): string =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { key } = shortName(byId.get(at)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  return (
    `total ${(total / 1000).toFixed(0)} ms\n-- self time by function --\n${fmt(byFn)}\n-- self time by file --\n${fmt(byFile)}` +
    (process.env.PROFILE_INCLUSIVE ? `\n-- inclusive time by function --\n${fmt(inclusive)}` : '')
  );
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  console.log(summarise(process.argv[2]!, Number(process.argv[3] ?? 40)));
}
