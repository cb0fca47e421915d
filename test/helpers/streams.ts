/**
 * Small helpers shared by the stage tests: a seeded PRNG for reproducible split points, random batching,
 * fixture events as JSON, and a runner that writes batches into a Transform and collects what comes out.
 */
import type { Transform } from 'node:stream';
import { SidecarError, type ErrorType } from '../../src/errors.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';

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

/** Cuts `items` into batches at random boundaries: each item ends its batch with probability `cut`. */
export function randomBatches<T>(items: readonly T[], random: () => number, cut: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    current.push(item);
    if (random() < cut) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** A stage fixture's event as JSON: an error is `{ kind: 'error', error: { type, message, guardrail? } }`. */
export type JsonEvent = Record<string, unknown> & { kind: string };

/** A fixture's JSON event as a StreamEvent (an error hydrated to a SidecarError). */
export function eventFromJson(e: JsonEvent): StreamEvent {
  if (e.kind !== 'error') return e as unknown as StreamEvent;
  const err = e.error as { type: ErrorType; message: string; guardrail?: string };
  return { kind: 'error', error: new SidecarError(err.type, err.message, err.guardrail === undefined ? {} : { guardrail: err.guardrail }) };
}

/** A StreamEvent as a fixture's JSON event (the inverse of `eventFromJson`). */
export function eventToJson(e: StreamEvent): JsonEvent {
  if (e.kind !== 'error') return { ...e };
  const error: Record<string, unknown> = { type: e.error.type, message: e.error.message };
  if (e.error.guardrail !== undefined) error.guardrail = e.error.guardrail;
  return { kind: 'error', error };
}
