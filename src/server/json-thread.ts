/**
 * One worker thread for the JSON work too big for the event loop: parsing a large request body and
 * serialising the large native body sent to Bedrock. Parsing or stringifying 20 MB (a base64 image) takes
 * hundreds of milliseconds, during which no stream moves and /healthz does not answer; here it costs the
 * event loop one copy at most (bytes move to the thread without one; a value crosses by structured clone,
 * a memcpy for the big strings that make such bodies big). One thread: at most one such job runs at a
 * time, the rest queue in order, so big bodies cannot take every core either.
 *
 * `parse`: UTF-8 bytes in, a ParseOutcome (server/body.ts) out, with the same checks as on the main
 * thread (the nesting check's source text is shared). `stringify`: a value in, its JSON as UTF-8 bytes and
 * their SHA-256 (hex, the SigV4 payload hash) out.
 * A thread that dies fails what it was doing (the caller turns that into an error answer) and is started
 * afresh for the next job. The thread keeps the process alive only while a job is running.
 */
import { Worker } from 'node:worker_threads';
import { KEY_QUOTE_CHARS, MAX_JSON_DEPTH, nestingProblem } from './json-checks.ts';

/** The thread's source, built when first needed. */
const source = (): string => `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const nestingProblem = ${nestingProblem.toString()};
const decoder = new TextDecoder('utf-8', { fatal: true });
function parse(bytes) {
  let text;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { error: 'utf8' };
  }
  const deep = nestingProblem(text, ${MAX_JSON_DEPTH});
  if (deep) {
    const key = deep[0] < 0 ? undefined : text.slice(deep[0], Math.min(deep[1], deep[0] + ${KEY_QUOTE_CHARS}));
    return { error: 'depth', key, keyLength: deep[1] - deep[0] };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: 'json', message: error.message };
  }
}
parentPort.on('message', ({ id, job, input }) => {
  if (job === 'parse') {
    parentPort.postMessage({ id, output: parse(input) });
    return;
  }
  const bytes = Buffer.from(JSON.stringify(input));
  // A fresh ArrayBuffer of its own (not Buffer's pool), so it can move back without a copy.
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  // The SigV4 payload hash too (x-amz-content-sha256): 20 MB of SHA-256 is tens of milliseconds.
  const sha256 = createHash('sha256').update(out).digest('hex');
  parentPort.postMessage({ id, output: { bytes: out, sha256 } }, [out.buffer]);
});
`;

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (output: unknown) => void>();

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(source(), { eval: true });
  w.on('message', ({ id, output }: { id: number; output: unknown }) => {
    const settle = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) w.unref();
    settle?.(output);
  });
  const fail = (message: string): void => {
    if (worker === w) worker = undefined;
    const failed = [...waiting.values()];
    waiting.clear();
    for (const settle of failed) settle(new JsonThreadError(message));
  };
  w.on('error', (error) => fail(error.message));
  w.on('exit', (code) => fail(`the JSON thread exited (${code})`));
  // Unreferenced while idle (after the listeners: adding a 'message' listener references it again), and
  // referenced while a job runs, so an awaited job is never cut short by the process ending.
  w.unref();
  worker = w;
  return w;
}

class JsonThreadError extends Error {}

/**
 * Runs `job` on the thread. `input` bytes that own their whole ArrayBuffer move without a copy (they are
 * unusable here afterwards); anything else is cloned. A dead thread resolves with `onFailure(message)`.
 */
export function onJsonThread<T>(job: 'parse', input: Uint8Array, onFailure: (message: string) => T): Promise<T>;
export function onJsonThread<T>(job: 'stringify', input: unknown, onFailure: (message: string) => T): Promise<T>;
export function onJsonThread<T>(job: 'parse' | 'stringify', input: unknown, onFailure: (message: string) => T): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve) => {
    waiting.set(id, (output) => resolve(output instanceof JsonThreadError ? onFailure(output.message) : (output as T)));
    const transfer =
      input instanceof Uint8Array &&
      input.byteOffset === 0 &&
      input.byteLength === input.buffer.byteLength &&
      input.buffer instanceof ArrayBuffer
        ? [input.buffer]
        : [];
    try {
      const w = thread();
      w.postMessage({ id, job, input }, transfer);
      w.ref();
    } catch (error) {
      waiting.delete(id);
      resolve(onFailure((error as Error).message));
    }
  });
}

/** JSON bytes, with their SHA-256 (hex) when it was computed along with them. */
export interface JsonBytes {
  bytes: Uint8Array;
  sha256?: string;
}

/**
 * The JSON of `value` as UTF-8 bytes, built on the JSON thread when `large` (with their SHA-256, so the
 * signer does not hash them here), else here. Before a large value is sent (a structured clone, tens of
 * milliseconds for a 20 MB body) the event loop turns once, so what ran before and the send are separate
 * tasks with other streams' events in between.
 */
export async function jsonBytes(value: unknown, large: boolean): Promise<JsonBytes> {
  if (!large) return { bytes: Buffer.from(JSON.stringify(value)) };
  await new Promise((resolve) => setImmediate(resolve));
  const out = await onJsonThread<JsonBytes | Error>('stringify', value, (message) => new Error(message));
  if (out instanceof Error) throw out;
  // The event loop turns once more before the bytes go on (signing, the write).
  await new Promise((resolve) => setImmediate(resolve));
  return out;
}
