/**
 * Small helpers shared by the stage tests: a seeded PRNG for reproducible split points, and a runner
 * that writes batches into a Transform and collects what comes out.
 */
import type { Transform } from 'node:stream';

/** mulberry32: a tiny seeded PRNG, so "random" boundaries are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes every input into the stage, ends it, and resolves with everything it emitted, in order. */
export async function runTransform<In, Out>(stage: Transform, inputs: readonly In[], before?: () => void): Promise<Out[]> {
  const out: Out[] = [];
  stage.on('data', (item: Out) => out.push(item));
  const ended = new Promise<void>((resolve, reject) => {
    stage.on('end', resolve);
    stage.on('error', reject);
  });
  before?.();
  for (const input of inputs) stage.write(input);
  stage.end();
  await ended;
  return out;
}
