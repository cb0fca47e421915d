/**
 * The load generator: closed-loop streaming requests at a fixed concurrency, through one undici Agent
 * per target (keep-alive, one connection per concurrent stream), with a raw dispatch handler so the
 * generator's own cost per received chunk is a timestamp and a few `indexOf`s.
 *
 * Per stream it records: time to the first body byte, time to the first model text (TTFB in the report:
 * for event-stream answers the end of the first `contentBlockDelta` frame, for SSE the first chunk with a
 * non-empty `delta.content`), the largest gap between two reads, and whether the stream was complete —
 * event stream: every frame arrived; SSE: it ended with a `finish_reason` chunk then `data: [DONE]`, with
 * no error frame. The first `verify` streams of a point also keep their whole body, and their text is
 * compared with the emulator's, byte for byte.
 */
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Protocol, RequestShape } from './workload.ts';

export interface StreamResult {
  status: number;
  error: string | undefined;
  complete: boolean;
  /** ms from dispatch to the first body byte. */
  firstByteMs: number;
  /** ms from dispatch to the first model text. */
  firstTextMs: number;
  /** Largest pause between two reads, ms. */
  maxGapMs: number;
  durationMs: number;
  bytes: number;
  /** Event-stream frames received (eventstream only). */
  frames: number;
  /** Whole body, kept for verification. */
  body: Buffer | undefined;
}

export interface Expectation {
  /** Event-stream frames in a complete answer. */
  frames: number;
  /** Index (0-based) of the first frame that carries text. */
  firstTextFrame: number;
}

const DONE = Buffer.from('data: [DONE]\n\n');
const ERROR_FRAME = Buffer.from('data: {"error"');
const FINISH = Buffer.from('"finish_reason":"');
const CONTENT = '"content":"';
const TAIL_BYTES = 512;

/** Counts event-stream frames by walking their 4-byte total_length prefixes. */
class FrameCounter {
  frames = 0;
  #remaining = 0;
  #prefix = Buffer.alloc(4);
  #prefixFill = 0;

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining === 0) {
        const n = Math.min(4 - this.#prefixFill, chunk.length - i);
        chunk.copy(this.#prefix, this.#prefixFill, i, i + n);
        this.#prefixFill += n;
        i += n;
        if (this.#prefixFill < 4) return;
        this.#prefixFill = 0;
        this.#remaining = this.#prefix.readUInt32BE(0) - 4;
        if (this.#remaining <= 0) throw new Error('bad event-stream frame length');
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      this.#remaining -= take;
      i += take;
      if (this.#remaining === 0) this.frames++;
    }
  }

  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#prefixFill === 0;
  }
}

export function oneStream(
  agent: Dispatcher,
  origin: string,
  shape: RequestShape,
  expect: Expectation,
  keepBody: boolean,
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const r: StreamResult = {
      status: 0,
      error: undefined,
      complete: false,
      firstByteMs: -1,
      firstTextMs: -1,
      maxGapMs: 0,
      durationMs: 0,
      bytes: 0,
      frames: 0,
      body: undefined,
    };
    const parts: Buffer[] = [];
    const counter = shape.protocol === 'eventstream' ? new FrameCounter() : undefined;
    let last = 0;
    let tail = Buffer.alloc(0);
    let sawError = false;
    let searchText = '';
    const finish = (error?: string): void => {
      r.durationMs = performance.now() - t0;
      if (error) r.error = error;
      if (counter) {
        r.frames = counter.frames;
        r.complete = !r.error && r.status === 200 && counter.atBoundary && counter.frames === expect.frames;
      } else {
        const end = tail.subarray(tail.length - DONE.length);
        r.complete = !r.error && r.status === 200 && !sawError && end.equals(DONE) && tail.includes(FINISH);
      }
      if (keepBody) r.body = Buffer.concat(parts);
      resolve(r);
    };
    agent.dispatch(
      { origin, path: shape.path, method: 'POST', headers: shape.headers, body: shape.body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          r.status = statusCode;
        },
        onResponseData(_controller, chunk) {
          const t = performance.now();
          if (r.firstByteMs < 0) r.firstByteMs = t - t0;
          else if (t - last > r.maxGapMs) r.maxGapMs = t - last;
          last = t;
          r.bytes += chunk.length;
          if (keepBody) parts.push(chunk);
          if (counter) {
            counter.feed(chunk);
            if (r.firstTextMs < 0 && counter.frames > expect.firstTextFrame) r.firstTextMs = t - t0;
          } else {
            if (r.firstTextMs < 0) {
              searchText = (searchText + chunk.toString('latin1')).slice(-(chunk.length + CONTENT.length + 1));
              let at = searchText.indexOf(CONTENT);
              while (at !== -1) {
                const next = searchText[at + CONTENT.length];
                if (next === undefined) break;
                if (next !== '"') {
                  r.firstTextMs = t - t0;
                  break;
                }
                at = searchText.indexOf(CONTENT, at + 1);
              }
            }
            if (!sawError && chunk.includes(ERROR_FRAME)) sawError = true;
            tail =
              tail.length + chunk.length <= TAIL_BYTES ? Buffer.concat([tail, chunk]) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
          }
        },
        onResponseEnd() {
          finish();
        },
        onResponseError(_controller, error) {
          finish(error.message);
        },
      },
    );
  });
}

export interface PointPlan {
  concurrency: number;
  /** Stop starting streams once this many were started and `minMs` elapsed… */
  minStreams: number;
  minMs: number;
  /** …or once this much time elapsed (at least one stream per worker is always started). */
  maxMs: number;
  /** Keep and verify the bodies of this many streams. */
  verify: number;
}

export interface PointRun {
  results: StreamResult[];
  elapsedMs: number;
}

export async function runPoint(
  agent: Dispatcher,
  origin: string,
  shape: RequestShape,
  expect: Expectation,
  plan: PointPlan,
): Promise<PointRun> {
  const results: StreamResult[] = [];
  const t0 = performance.now();
  let started = 0;
  const worker = async (first: boolean): Promise<void> => {
    for (let mine = 0; ; mine++) {
      const elapsed = performance.now() - t0;
      const enough = started >= plan.minStreams && elapsed >= plan.minMs;
      if (!(first && mine === 0) && (enough || elapsed >= plan.maxMs)) return;
      const keep = started < plan.verify;
      started++;
      results.push(await oneStream(agent, origin, shape, expect, keep));
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, () => worker(true)));
  return { results, elapsedMs: performance.now() - t0 };
}

export function newAgent(connections: number): Agent {
  return new Agent({
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The text of a ConverseStream event-stream body, and its event types in order. */
export function decodeConverse(body: Buffer): { text: string; types: string[] } {
  const types: string[] = [];
  let text = '';
  let at = 0;
  while (at < body.length) {
    const total = body.readUInt32BE(at);
    const message = codec.decode(body.subarray(at, at + total));
    at += total;
    const type = message.headers[':event-type']?.value;
    types.push(String(type));
    if (type === 'contentBlockDelta') {
      const payload = JSON.parse(Buffer.from(message.body).toString('utf8')) as { delta?: { text?: string } };
      text += payload.delta?.text ?? '';
    }
  }
  return { text, types };
}

/** The content text of an SSE body (OpenAI chunks), or a description of what is wrong with it. */
export function decodeSse(body: Buffer): { text: string; problem: string | undefined } {
  const raw = body.toString('utf8');
  let text = '';
  let finish: string | undefined;
  let done = 0;
  for (const frame of raw.split('\n\n')) {
    if (frame === '' || frame.startsWith(':')) continue;
    if (!frame.startsWith('data: ')) return { text, problem: `bad SSE frame ${JSON.stringify(frame.slice(0, 80))}` };
    const data = frame.slice(6);
    if (data === '[DONE]') {
      done++;
      continue;
    }
    const json = JSON.parse(data) as {
      error?: unknown;
      choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
    };
    if (json.error) return { text, problem: `error frame ${data}` };
    const choice = json.choices?.[0];
    if (typeof choice?.delta?.content === 'string') text += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  if (done !== 1) return { text, problem: `${done} [DONE] frames` };
  if (finish !== 'stop') return { text, problem: `finish_reason ${String(finish)}` };
  return { text, problem: undefined };
}

export type { Protocol };
