/**
 * One worker thread for the JSON work too big for the event loop: parsing a large request body and
 * serialising the large native body sent to Bedrock. Parsing or stringifying 20 MB (a base64 image) takes
 * hundreds of milliseconds, during which no stream moves and /healthz does not answer. One thread: at most
 * one such job runs at a time, the rest queue in order, so big bodies cannot take every core either.
 *
 * `parse`: UTF-8 bytes in (moved, not copied), a ParseOutcome (server/body.ts) out, with the same checks
 * as on the main thread (the nesting check's source text is shared). The parsed value's big strings (a
 * base64 image: BIG_STRING_CHARS or more) do not come back inside it: a structured clone would build each
 * as a V8 heap string here, and a new 19 MB heap string is 19 MB of fresh pages, 55-65 ms of page faults
 * on the event loop on this project's machine (most of each big request's worst stall). The thread puts
 * their bytes in one buffer that moves without a copy and lists where each goes; `restoreBigStrings`
 * makes them strings again here (Node makes a string of 1 MB or more an external string: a malloc and a
 * memcpy, which reuses freed memory), a few MB per turn of the event loop. Everything that reads the body
 * then sees the same value as JSON.parse would give, strings included.
 * `stringify`: a value in (its big strings apart, as bytes in one moved buffer, the way the parse's come
 * back: see jsonBytes), its JSON as UTF-8 bytes and their SHA-256 (hex, the SigV4 payload hash) out.
 * A thread that dies fails what it was doing (the caller turns that into an error answer) and is started
 * afresh for the next job. The thread keeps the process alive only while a job is running.
 */
import { Worker } from 'node:worker_threads';
import { KEY_QUOTE_CHARS, MAX_JSON_DEPTH, nestingProblem } from '../json-checks.ts';

/**
 * Strings this long or longer come back from the thread as bytes (see above): V8 keeps shorter ones in
 * its young generation, where a clone costs no fresh pages.
 */
export const BIG_STRING_CHARS = 128 * 1024;
/** At most about this many bytes of big strings are made strings again per turn of the event loop. */
const RESTORE_BYTES_PER_TURN = 4 * 1024 * 1024;

/**
 * Where each big string goes: the path from the parsed value to it (keys and indices; empty for the value
 * itself), its encoding in `bytes` (latin1 when every character is below 256, else utf16le: both give back
 * exactly the string, lone surrogates included) and its bytes' bounds.
 */
export interface BigStrings {
  bytes: Uint8Array;
  strings: Array<[path: Array<string | number>, encoding: 'latin1' | 'utf16le', from: number, to: number]>;
}

/**
 * Puts big strings in one buffer (BigStrings): each as latin1 when every character is below 256, else
 * utf16le. `spare` is used when it is large enough (its pages are in already), else a new buffer is made.
 * Self-contained: the thread runs this same function (its source text is embedded below).
 */
export function packBigStrings(found: Array<[path: Array<string | number>, string: string]>, spare?: Uint8Array): BigStrings {
  const strings: BigStrings['strings'] = [];
  let size = 0;
  for (const [path, string] of found) {
    // O(1) for a one-byte string: V8 knows no character of it can match.
    const encoding = /[\u0100-\uffff]/.test(string) ? 'utf16le' : 'latin1';
    const length = encoding === 'latin1' ? string.length : 2 * string.length;
    strings.push([path, encoding, size, size + length]);
    size += length;
  }
  const bytes = spare && spare.byteLength >= size ? spare : new Uint8Array(size);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < found.length; i++) view.write(found[i]![1], strings[i]![2], strings[i]![1]);
  return { bytes, strings };
}

/**
 * Sets `string` at `path` in `value` (an own property: a key such as "__proto__" included, as JSON.parse
 * and the clone made it) and returns the value, or the string itself for the empty path. Self-contained:
 * the thread runs this same function.
 */
export function placeBigString(value: unknown, path: ReadonlyArray<string | number>, string: string): unknown {
  if (path.length === 0) return string;
  let node = value as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]!] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = string;
  return value;
}

/** The thread's source, built when first needed. */
const source = (): string => `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const nestingProblem = ${nestingProblem.toString()};
const packBigStrings = ${packBigStrings.toString()};
const placeBigString = ${placeBigString.toString()};
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
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: 'json', message: error.message };
  }
  return detach(value);
}
// The big strings of a parsed value taken out (each replaced by null) and put in one buffer (BigStrings).
function detach(value) {
  const found = [];
  if (typeof value === 'string') {
    if (value.length < ${BIG_STRING_CHARS}) return { value };
    found.push([[], value]);
    value = null;
  } else if (value !== null && typeof value === 'object') {
    walk(value, [], found);
  }
  if (found.length === 0) return { value };
  return { value, big: packBigStrings(found) };
}
// Depth-first; the nesting was checked before the parse, so the recursion is bounded.
function walk(node, path, found) {
  const keys = Array.isArray(node) ? null : Object.keys(node);
  const count = keys === null ? node.length : keys.length;
  for (let i = 0; i < count; i++) {
    const key = keys === null ? i : keys[i];
    const item = node[key];
    if (typeof item === 'string') {
      if (item.length >= ${BIG_STRING_CHARS}) {
        found.push([[...path, key], item]);
        node[key] = null;
      }
    } else if (item !== null && typeof item === 'object') {
      path.push(key);
      walk(item, path, found);
      path.pop();
    }
  }
}
// The other way: the big strings put back into the value sent for 'stringify'.
function attach(value, big) {
  const view = Buffer.from(big.bytes.buffer, big.bytes.byteOffset, big.bytes.byteLength);
  for (const [path, encoding, from, to] of big.strings) value = placeBigString(value, path, view.toString(encoding, from, to));
  return value;
}
parentPort.on('message', ({ id, job, input }) => {
  if (job === 'parse') {
    const output = parse(input);
    parentPort.postMessage({ id, output }, output.big ? [output.big.bytes.buffer] : []);
    return;
  }
  const value = input.big ? attach(input.value, input.big) : input.value;
  const bytes = Buffer.from(JSON.stringify(value));
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
 * Runs `job` on the thread. Bytes (the input of 'parse', the big strings of 'stringify') that own their
 * whole ArrayBuffer move without a copy (they are unusable here afterwards); anything else is cloned. A
 * dead thread resolves with `onFailure(message)`.
 */
export function onJsonThread<T>(job: 'parse', input: Uint8Array, onFailure: (message: string) => T): Promise<T>;
export function onJsonThread<T>(
  job: 'stringify',
  input: { value: unknown; big?: BigStrings },
  onFailure: (message: string) => T,
): Promise<T>;
export function onJsonThread<T>(job: 'parse' | 'stringify', input: unknown, onFailure: (message: string) => T): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve) => {
    waiting.set(id, (output) => resolve(output instanceof JsonThreadError ? onFailure(output.message) : (output as T)));
    const bytes = input instanceof Uint8Array ? input : (input as { big?: BigStrings }).big?.bytes;
    const transfer =
      bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? [bytes.buffer]
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
 * Puts the big strings the thread took out of a parsed value (`detach` above) back where they were, a few
 * MB per turn of the event loop; returns the value (a big string itself when the body was one).
 */
export async function restoreBigStrings(value: unknown, big: BigStrings): Promise<unknown> {
  const view = Buffer.from(big.bytes.buffer, big.bytes.byteOffset, big.bytes.byteLength);
  let sinceTurn = 0;
  for (const [path, encoding, from, to] of big.strings) {
    if (sinceTurn >= RESTORE_BYTES_PER_TURN) {
      await nextTurn();
      sinceTurn = 0;
    }
    sinceTurn += to - from;
    value = placeBigString(value, path, view.toString(encoding, from, to));
  }
  return value;
}

/**
 * Resolves after the event loop has polled for I/O at least once (other streams' reads and writes, the
 * probes' requests): one setImmediate from an I/O callback runs in the same turn, before any I/O.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Where one big string of a value is: its container and key (none for the value itself), and its path. */
interface Slot {
  node: Record<string | number, unknown> | undefined;
  key: string | number;
  string: string;
  path: Array<string | number>;
}

/** The strings of BIG_STRING_CHARS or more in `value` (depth-first; the value's nesting is bounded). */
function bigStringSlots(value: unknown): Slot[] {
  const slots: Slot[] = [];
  if (typeof value === 'string') {
    if (value.length >= BIG_STRING_CHARS) slots.push({ node: undefined, key: 0, string: value, path: [] });
    return slots;
  }
  const path: Array<string | number> = [];
  const walk = (node: Record<string | number, unknown>): void => {
    const keys = Array.isArray(node) ? undefined : Object.keys(node);
    const count = keys ? keys.length : (node as unknown as unknown[]).length;
    for (let i = 0; i < count; i++) {
      const key = keys ? keys[i]! : i;
      const item = node[key];
      if (typeof item === 'string') {
        if (item.length >= BIG_STRING_CHARS) slots.push({ node, key, string: item, path: [...path, key] });
      } else if (item !== null && typeof item === 'object') {
        path.push(key);
        walk(item as Record<string | number, unknown>);
        path.pop();
      }
    }
  };
  if (value !== null && typeof value === 'object') walk(value as Record<string | number, unknown>);
  return slots;
}

/** Where a request keeps the buffer its big strings came in, until its native body is sent (server/budget.ts). */
export interface SpareHolder {
  spare: Uint8Array | undefined;
}

/**
 * The JSON of `value` as UTF-8 bytes, built on the JSON thread when `large` (with their SHA-256, so the
 * signer does not hash them here), else here. Before a large value is sent the event loop turns, so what
 * ran before and the send are separate tasks with other streams' events in between.
 *
 * The value's big strings do not go inside the structured clone: the clone copies them into a new buffer
 * of their size, and fresh pages are what made that send 60-200 ms on this project's machine. They are
 * copied into `holder.spare` instead when it is large enough — the buffer the request's own big strings
 * came in from the parse, whose pages are in already (3 ms for 19 MB) — and it moves to the thread, which
 * drops it: it is not held while Bedrock answers (a fallback's send, rare, takes a new buffer). The value
 * is not changed (its big strings are swapped out only for the synchronous send).
 */
export async function jsonBytes(value: unknown, large: boolean, holder?: SpareHolder): Promise<JsonBytes> {
  if (!large) return { bytes: Buffer.from(JSON.stringify(value)) };
  await nextTurn();
  const slots = bigStringSlots(value);
  let input: { value: unknown; big?: BigStrings } = { value };
  if (slots.length > 0) {
    const spare = holder?.spare;
    if (holder) holder.spare = undefined;
    const big = packBigStrings(
      slots.map(({ path, string }) => [path, string]),
      spare,
    );
    input = { value: slots[0]!.node === undefined ? null : value, big };
  }
  // Swapped out for the send (the clone is made synchronously, in postMessage), put back at once.
  for (const slot of slots) if (slot.node) slot.node[slot.key] = null;
  let sent: Promise<JsonBytes | Error>;
  try {
    sent = onJsonThread('stringify', input, (message) => new Error(message));
  } finally {
    for (const slot of slots) if (slot.node) slot.node[slot.key] = slot.string;
  }
  const out = await sent;
  if (out instanceof Error) throw out;
  // The event loop turns again before the bytes go on (signing, the write).
  await nextTurn();
  return { bytes: out.bytes, sha256: out.sha256 };
}
