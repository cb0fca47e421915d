/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by file, the top N.
 * Usage: tsx bench/lib/profile-summary.ts FILE [N]
 */
import { readFileSync } from 'node:fs';
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

export function summarise(file: string, top = 40): string {
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
    const n = byId.get(id)!;
    const file = n.callFrame.url
      .replace(ROOT_URL, '')
      .replace('bench/.build/', '')
      .replace(/^.*node_modules\//, 'nm/');
    const key = `${n.callFrame.functionName || '(anon)'} ${file}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(file || n.callFrame.functionName, (byFile.get(file || n.callFrame.functionName) ?? 0) + us);
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
      const n = byId.get(at)!;
      const file = n.callFrame.url
        .replace(ROOT_URL, '')
        .replace('bench/.build/', '')
        .replace(/^.*node_modules\//, 'nm/');
      const key = `${n.callFrame.functionName || '(anon)'} ${file}:${n.callFrame.lineNumber + 1}`;
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
