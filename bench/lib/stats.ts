/** Small statistics helpers for the benchmark report. */
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export const MiB = 1024 * 1024;
export const KiB = 1024;

/** Busy CPU time of the whole machine so far, µs (/proc/stat, all cores). */
export function machineBusyUs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return ((total - (fields[3] ?? 0) - (fields[4] ?? 0)) * 1_000_000) / 100;
  } catch {
    return 0;
  }
}
