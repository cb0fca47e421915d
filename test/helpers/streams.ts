/**
 * Small helpers shared by the stage tests: a seeded PRNG for reproducible split points, and a runner
 * that writes batches into a Transform and collects what comes out.
 */
import type { Transform } from 'node:stream';

/** A seeded PRNG, so "random" boundaries are the same on every run (the emulator's mulberry32). */
export { seededRandom as seeded } from '../../src/emulator/frames.ts';

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
