/**
 * In-process micro-benchmarks of the sidecar's per-event and per-request work, without sockets, for
 * measuring a change to one stage precisely (the end-to-end run has three processes sharing two cores,
 * so its figures move by several percent from run to run; these move by about one).
 *
 *   npx tsx bench/micro.ts            all of them
 *   npx tsx bench/micro.ts cores      the pure cores, stage by stage, on a recorded ConverseStream answer
 *   npx tsx bench/micro.ts stages     the same answer through the Transform stages (one read per event,
 *                                     and 16 KiB reads), into a null sink
 *   npx tsx bench/micro.ts sign       SigV4 signing of one request
 *   npx tsx bench/micro.ts failover   what failover, breakers and connection slots add to one request
 *   npx tsx bench/micro.ts store      the Responses store's memory: bounded by bytes whatever is put in it
 *
 * The recorded answer is the benchmark's stream (204 events) taken from the emulator in this process.
 */
import { performance } from 'node:perf_hooks';
import { pipeline, Readable, Writable } from 'node:stream';
import { startEmulator } from '../src/emulator/index.ts';
import { EventStreamDecoder, EventStreamSplitter, type Message } from '../src/pipeline/event-stream-decoder.ts';
import type { StreamEvent } from '../src/pipeline/events.ts';
import { GuardrailStage } from '../src/pipeline/guardrail.ts';
import { BedrockEventNormalizer, NormalizerStage } from '../src/pipeline/normalizer.ts';
import { Rechunker, RechunkerStage } from '../src/pipeline/rechunker.ts';
import { EncoderStage } from '../src/pipeline/encoder.ts';
import { ChatRenderer } from '../src/surfaces/openai-chat/renderer.ts';
import { adapterFor } from '../src/providers/index.ts';
import { createCredentialSource } from '../src/upstream/credentials.ts';
import { createSigner, encodeModelPath } from '../src/upstream/signer.ts';
import { Failover } from '../src/upstream/failover.ts';
import { ConnectionSlots } from '../src/upstream/slots.ts';
import { ResponseStore } from '../src/surfaces/openai-responses/store.ts';
import { converseRequest, MODEL_ID, STREAM_REPEAT, upstreamEvents } from './lib/workload.ts';

const w = { paceMs: 0, repeat: STREAM_REPEAT };
const EVENTS = upstreamEvents(w);

async function record(): Promise<Buffer> {
  const emu = await startEmulator({ quiet: true, verifySignature: false });
  const shape = converseRequest(w);
  const res = await fetch(emu.url + shape.path, { method: 'POST', headers: shape.headers, body: shape.body });
  const body = Buffer.from(await res.arrayBuffer());
  await emu.close();
  return body;
}

/** The answer cut at frame boundaries (one read per event) or into `size`-byte reads. */
function reads(body: Buffer, size: number | 'frame'): Buffer[] {
  const out: Buffer[] = [];
  if (size === 'frame') {
    for (let at = 0; at < body.length;) {
      const n = body.readUInt32BE(at);
      out.push(body.subarray(at, at + n));
      at += n;
    }
  } else {
    for (let at = 0; at < body.length; at += size) out.push(body.subarray(at, at + size));
  }
  return out;
}

function time(label: string, runs: number, perRun: number, fn: () => void): number {
  for (let i = 0; i < Math.max(20, runs / 10); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) fn();
  const us = ((performance.now() - t0) * 1000) / (runs * perRun);
  console.log(`${label.padEnd(52)} ${us.toFixed(3).padStart(8)} µs`);
  return us;
}

function mapper() {
  return adapterFor('converse', 'anthropic')!.createStreamMapper();
}

async function cores(body: Buffer): Promise<void> {
  console.log(`-- pure cores, µs per upstream event (${EVENTS} events, one read per event) --`);
  const frames = reads(body, 'frame');
  let messages: Message[] = [];
  time('decoder (split + CRC + headers)', 2000, EVENTS, () => {
    const s = new EventStreamSplitter();
    messages = [];
    for (const f of frames) s.pushInto(f, messages);
  });
  let batches: StreamEvent[][] = [];
  time('normaliser (envelope + JSON.parse + mapper)', 2000, EVENTS, () => {
    const n = new BedrockEventNormalizer('converse', mapper());
    batches = messages.map((m) => n.push([m]));
  });
  let out: StreamEvent[][] = [];
  time('re-chunker (1024 B, release per read)', 2000, EVENTS, () => {
    const r = new Rechunker({ chunkSizeBytes: 1024 });
    out = batches.map((b) => [...r.push(b), ...r.release()]);
  });
  time('SSE encoder', 2000, EVENTS, () => {
    const e = new ChatRenderer({ id: 'chatcmpl-x', created: 1, model: 'claude', includeUsage: false });
    let n = e.start().length;
    for (const b of out) n += e.push(b).length;
    n += e.end().length;
    if (n === 0) throw new Error('nothing rendered');
  });
  time('all four, one read per event', 2000, EVENTS, () => {
    const s = new EventStreamSplitter();
    const n = new BedrockEventNormalizer('converse', mapper());
    const r = new Rechunker({ chunkSizeBytes: 1024 });
    const e = new ChatRenderer({ id: 'chatcmpl-x', created: 1, model: 'claude', includeUsage: false });
    for (const f of frames) e.push([...r.push(n.push(s.push(f))), ...r.release()]);
    e.end();
  });
  const big = reads(body, 16 * 1024);
  time('all four, 16 KiB reads', 2000, EVENTS, () => {
    const s = new EventStreamSplitter();
    const n = new BedrockEventNormalizer('converse', mapper());
    const r = new Rechunker({ chunkSizeBytes: 1024 });
    const e = new ChatRenderer({ id: 'chatcmpl-x', created: 1, model: 'claude', includeUsage: false });
    for (const f of big) e.push([...r.push(n.push(s.push(f))), ...r.release()]);
    e.end();
  });
}

function throughStages(chunks: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let i = 0;
    const source = new Readable({
      read() {
        this.push(i < chunks.length ? chunks[i++] : null);
      },
    });
    const sink = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    pipeline(
      source,
      new EventStreamDecoder(),
      new NormalizerStage(new BedrockEventNormalizer('converse', mapper())),
      new GuardrailStage(undefined),
      new RechunkerStage({ chunkSizeBytes: 1024 }),
      new EncoderStage({
        renderer: new ChatRenderer({ id: 'chatcmpl-x', created: 1, model: 'claude', includeUsage: false }),
        heartbeatMs: 15000,
      }),
      sink,
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

async function stages(body: Buffer): Promise<void> {
  console.log('-- Transform stages (decoder → normaliser → guardrail → re-chunker → encoder → null sink) --');
  for (const [label, chunks] of [
    ['one read per event', reads(body, 'frame')],
    ['16 KiB reads', reads(body, 16 * 1024)],
  ] as const) {
    const runs = 400;
    for (let i = 0; i < 40; i++) await throughStages(chunks);
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await throughStages(chunks);
    const us = ((performance.now() - t0) * 1000) / (runs * EVENTS);
    console.log(`${`stages, ${label}`.padEnd(52)} ${us.toFixed(3).padStart(8)} µs per event`);
  }
}

async function sign(): Promise<void> {
  console.log('-- per request --');
  const signer = createSigner({
    credentials: createCredentialSource(async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    })),
  });
  const url = new URL(`https://bedrock-runtime.us-east-1.amazonaws.com${encodeModelPath(MODEL_ID, 'converse-stream')}`);
  const body = converseRequest(w).body;
  const runs = 2000;
  for (let i = 0; i < 200; i++)
    await signer.sign(
      { method: 'POST', url, headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' }, body },
      'us-east-1',
    );
  const t0 = performance.now();
  for (let i = 0; i < runs; i++)
    await signer.sign(
      { method: 'POST', url, headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' }, body },
      'us-east-1',
    );
  console.log(
    `${'SigV4 sign (body ' + body.length + ' B)'.padEnd(52)} ${(((performance.now() - t0) * 1000) / runs).toFixed(1).padStart(8)} µs`,
  );
}

/**
 * Per request: a bare awaited call against the same call through Failover.run (breaker bookkeeping; with a
 * fallback chain also the budget timer) and through a connection slot. The difference is what the
 * failover issue adds to every request; compare it with the ~600 µs a request costs in the server.
 */
async function failover(): Promise<void> {
  console.log('-- per request: failover, breaker, connection slots --');
  const hooks = { onFallback: () => undefined, onSkip: () => undefined, onBreaker: () => undefined };
  const f = new Failover({ failoverBudgetMs: 10_000, breakerFailures: 5, breakerCooldownMs: 1000, breakerMaxCooldownMs: 60_000 }, hooks);
  // Each request has its own AbortController in the server (the attempt's signal stays linked to it).
  const lone = [{ name: 'a', alias: { name: 'a', fallbackOn: [] } }];
  const chain = [...lone, { name: 'b', alias: { name: 'b', fallbackOn: [] } }];
  const slots = new ConnectionSlots(64, 5000);
  const send = async (..._args: unknown[]): Promise<number> => 1;
  const runs = 200_000;
  const measure = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
    for (let i = 0; i < 20_000; i++) await fn();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await fn();
    console.log(`${label.padEnd(52)} ${(((performance.now() - t0) * 1000) / runs).toFixed(3).padStart(8)} µs`);
  };
  await measure('bare awaited call (with its AbortController)', () => send(new AbortController().signal));
  await measure('through Failover.run, alias without fallbacks', () =>
    f.run({ chain: lone, signal: new AbortController().signal, prepare: () => 0, send }),
  );
  await measure('through Failover.run, chain of two (budget timer)', () =>
    f.run({ chain, signal: new AbortController().signal, prepare: () => 0, send }),
  );
  await measure('connection slot acquire + release', async () => {
    const slot = slots.acquire('https://bedrock-runtime.us-east-1.amazonaws.com', new AbortController().signal);
    (typeof slot === 'function' ? slot : await slot)();
  });
}

/**
 * The Responses store under a flood of answers: 20,000 answers of ~8 KiB each (160 MiB offered) into a
 * store bounded at its default 32 MiB. Reports what it holds and the heap it costs.
 */
function store(): void {
  console.log('-- Responses store: memory bounded by responses.store_max_bytes --');
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const s = new ResponseStore({ maxEntries: 1_000_000, maxBytes: 32 * 1024 * 1024, ttlS: 3600 });
  const text = 'word '.repeat(1600);
  for (let i = 0; i < 20_000; i++) {
    const id = `resp_${i}`;
    s.put({
      id,
      response: { id, object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: `${i} ${text}` }] }] },
      messages: [{ role: 'user', content: [{ type: 'text', text: `question ${i}` }] }],
      reasoning: new Map(),
    });
  }
  global.gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(
    `${'entries kept / counted MiB / heap growth MiB'.padEnd(52)} ${s.size} / ${(s.bytes / 1024 / 1024).toFixed(1)} / ${heapMiB.toFixed(1)}`,
  );
}

const which = process.argv[2] ?? 'all';
const body = await record();
if (which === 'all' || which === 'cores') await cores(body);
if (which === 'all' || which === 'stages') await stages(body);
if (which === 'all' || which === 'sign') await sign();
if (which === 'all' || which === 'failover') await failover();
if (which === 'all' || which === 'store') store();

/** 64 pipelines fed one read each in turn, one event-loop turn per round: closer to a server's cache state. */
async function interleaved(body: Buffer): Promise<void> {
  const frames = reads(body, 'frame');
  const n = Number(process.env.MICRO_STREAMS ?? 64);
  const run = async (): Promise<number> => {
    const sources: Readable[] = [];
    const done: Promise<void>[] = [];
    for (let s = 0; s < n; s++) {
      const source = new Readable({ read() {} });
      sources.push(source);
      const sink = new Writable({
        write(_c, _e, cb) {
          cb();
        },
      });
      done.push(
        new Promise((resolve, reject) =>
          pipeline(
            source,
            new EventStreamDecoder(),
            new NormalizerStage(new BedrockEventNormalizer('converse', mapper())),
            new RechunkerStage({ chunkSizeBytes: 1024 }),
            new EncoderStage({
              renderer: new ChatRenderer({ id: 'chatcmpl-x', created: 1, model: 'claude', includeUsage: false }),
              heartbeatMs: 15000,
            }),
            sink,
            (error) => (error ? reject(error) : resolve()),
          ),
        ),
      );
    }
    const t0 = performance.now();
    for (const f of frames) {
      for (const source of sources) source.push(f);
      await new Promise((r) => setImmediate(r));
    }
    for (const source of sources) source.push(null);
    await Promise.all(done);
    return performance.now() - t0;
  };
  await run();
  await run();
  const ms = await run();
  console.log(
    `${`stages, ${n} streams interleaved, one read per event`.padEnd(52)} ${((ms * 1000) / (n * EVENTS)).toFixed(3).padStart(8)} µs per event`,
  );
}
if (which === 'all' || which === 'interleaved') await interleaved(body);
