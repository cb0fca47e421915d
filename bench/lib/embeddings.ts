/**
 * The embeddings row of the benchmark: `/v1/embeddings` through the sidecar against the same inputs sent
 * as native InvokeModel requests through the bare pass-through, per family. Titan v2 (1024 numbers) takes
 * one text per call, so one sidecar request of 16 inputs fans out into 16 calls (the pass-through is sent
 * 16 separate requests, as an app calling Bedrock itself would); Cohere v4 takes 96 texts per call (one
 * call either way). The sidecar answers base64, what the official SDKs ask for. Reported: requests per
 * second, inputs per second, and the proxy's CPU per input embedded, with the ratio to the pass-through.
 * Closed loop at a fixed concurrency for a fixed time; every answer is checked (status, vector count).
 *
 * env: BENCH_EMBEDDINGS=0 skips it; BENCH_QUICK=1 shortens it.
 */
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { Proc } from './proc.ts';
import { signed, type RequestShape } from './workload.ts';

export interface EmbeddingsCase {
  family: string;
  alias: string;
  modelId: string;
  /** Inputs in one sidecar request. */
  inputs: number;
  /** Texts one InvokeModel call takes. */
  perCall: number;
  dimensions: number;
}

export const EMBEDDING_CASES: EmbeddingsCase[] = [
  {
    family: 'Titan Text Embeddings v2',
    alias: 'bench-titan-embed',
    modelId: 'amazon.titan-embed-text-v2:0',
    inputs: 16,
    perCall: 1,
    dimensions: 1024,
  },
  { family: 'Cohere Embed v4', alias: 'bench-cohere-embed', modelId: 'cohere.embed-v4:0', inputs: 96, perCall: 96, dimensions: 1024 },
];

/** The aliases the sidecar's bench config carries for these cases. */
export function embeddingAliases(): Array<Record<string, unknown>> {
  return EMBEDDING_CASES.map((c) => ({
    name: c.alias,
    model: `bedrock/invoke/${c.modelId}`,
    region: 'us-east-1',
    embedding: { dimensions: c.dimensions },
  }));
}

export interface EmbeddingsPoint {
  family: string;
  target: 'passthrough' | 'sidecar';
  concurrency: number;
  requests: number;
  failures: number;
  inputs: number;
  elapsedMs: number;
  requestsPerSecond: number;
  inputsPerSecond: number;
  cpuPerInputUs: number | undefined;
}

const text = (i: number): string =>
  `Chunk ${i}: the sidecar signs every Bedrock call with the pod's identity — and checks guardrails first.`;

function sidecarShape(c: EmbeddingsCase): RequestShape {
  const body = { model: c.alias, input: Array.from({ length: c.inputs }, (_, i) => text(i)), encoding_format: 'base64' };
  return {
    path: '/v1/embeddings',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    protocol: 'sse',
  };
}

function nativeShape(c: EmbeddingsCase, texts: string[]): RequestShape {
  const body =
    c.perCall === 1
      ? { inputText: texts[0], dimensions: c.dimensions, normalize: true }
      : { texts, input_type: 'search_document', embedding_types: ['float'], output_dimension: c.dimensions };
  return {
    path: `/model/${encodeURIComponent(c.modelId)}/invoke`,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    protocol: 'eventstream',
  };
}

/** Closed loop: `concurrency` workers send `shapes` round-robin for `durationMs`; `check` judges each answer. */
async function loop(
  origin: string,
  shapes: RequestShape[],
  concurrency: number,
  durationMs: number,
  check: (status: number, body: Buffer) => boolean,
): Promise<{ requests: number; failures: number; elapsedMs: number }> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  const t0 = performance.now();
  let requests = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - t0 < durationMs) {
      const shape = shapes[requests % shapes.length]!;
      requests++;
      try {
        const res = await request(origin + shape.path, { method: 'POST', headers: shape.headers, body: shape.body, dispatcher: agent });
        const body = Buffer.from(await res.body.arrayBuffer());
        if (!check(res.statusCode, body)) failures++;
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  await agent.close();
  return { requests, failures, elapsedMs };
}

export async function measureEmbeddings(
  c: EmbeddingsCase,
  target: 'passthrough' | 'sidecar',
  proc: Proc,
  emulatorUrl: string,
  concurrency: number,
  durationMs: number,
): Promise<EmbeddingsPoint> {
  let shapes: RequestShape[];
  let inputsPerRequest: number;
  let check: (status: number, body: Buffer) => boolean;
  if (target === 'sidecar') {
    shapes = [sidecarShape(c)];
    inputsPerRequest = c.inputs;
    check = (status, body) => status === 200 && (JSON.parse(body.toString('utf8')) as { data: unknown[] }).data.length === c.inputs;
  } else {
    // The same texts, as the app would send them to Bedrock itself: one signed request per call.
    const calls: string[][] = [];
    for (let i = 0; i < c.inputs; i += c.perCall)
      calls.push(Array.from({ length: Math.min(c.perCall, c.inputs - i) }, (_, j) => text(i + j)));
    shapes = await Promise.all(calls.map((texts) => signed(nativeShape(c, texts), emulatorUrl)));
    inputsPerRequest = c.perCall;
    check = (status) => status === 200;
  }
  await loop(proc.url, shapes, concurrency, Math.min(500, durationMs / 4), check); // warm-up
  const before = await proc.mark();
  const run = await loop(proc.url, shapes, concurrency, durationMs, check);
  const after = await proc.stats();
  const inputs = (run.requests - run.failures) * inputsPerRequest;
  return {
    family: c.family,
    target,
    concurrency,
    requests: run.requests,
    failures: run.failures,
    inputs,
    elapsedMs: run.elapsedMs,
    requestsPerSecond: (run.requests * 1000) / run.elapsedMs,
    inputsPerSecond: (inputs * 1000) / run.elapsedMs,
    cpuPerInputUs: inputs > 0 ? (after.cpuUs - before.cpuUs) / inputs : undefined,
  };
}

export function embeddingsLines(points: readonly EmbeddingsPoint[]): string[] {
  return points.map((p) => {
    const base = points.find((q) => q.family === p.family && q.target === 'passthrough' && q.concurrency === p.concurrency);
    const ratio =
      p.target === 'sidecar' && base?.cpuPerInputUs && p.cpuPerInputUs
        ? ` (${(p.cpuPerInputUs / base.cpuPerInputUs).toFixed(2)}× pass-through)`
        : '';
    return (
      `${p.family.padEnd(26)} ${p.target.padEnd(11)} c${p.concurrency}  ${p.requestsPerSecond.toFixed(1).padStart(7)} req/s  ` +
      `${p.inputsPerSecond.toFixed(0).padStart(6)} inputs/s  CPU ${p.cpuPerInputUs?.toFixed(1) ?? '–'} µs/input${ratio}` +
      (p.failures > 0 ? `  FAILURES: ${p.failures}` : '')
    );
  });
}
