/**
 * POST /v1/embeddings (docs/contract.md#embeddings): read and check the request, resolve the model (an
 * embedding model, else a 400), check `dimensions` against it, run the input guardrails over every
 * input, then split the inputs into the model's own batches (one text per call for Titan and Nova, up to
 * 96 for Cohere) and call InvokeModel for them at most MAX_CALLS_IN_FLIGHT at a time. The answer keeps
 * input order; `usage` sums Bedrock's own counts. Any failed call aborts the others and fails the whole
 * request with the error mapping of the chat surface (no partial list). The body and each call's answer
 * are held within the process's byte budget, a refusal counted as shed, as on the chat path. Retries are
 * the shared client's; failover (the shared Failover) moves the whole request to the next alias of the
 * chain. One log line per request and the request metrics, as every surface.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, SidecarError, toSidecarError } from '../../errors.ts';
import type { SidecarConfig } from '../../config/schema.ts';
import type { GuardrailSet } from '../../guardrails/index.ts';
import type { ModelRegistry, ModelTarget } from '../../models/resolve.ts';
import type { Logger } from '../../ops/logger.ts';
import type { Metrics } from '../../ops/metrics.ts';
import {
  describeSizes,
  embeddingModelOf,
  type EmbeddingAnswer,
  type EmbeddingModel,
  type EmbeddingOptions,
} from '../../providers/embeddings/index.ts';
import { readBody, type BedrockClient, type BedrockResponse } from '../../upstream/client.ts';
import type { Failover } from '../../upstream/failover.ts';
import { encodeModelPath } from '../../upstream/signer.ts';
import { readJsonBody } from '../../server/body.ts';
import { shedLabel, type ByteBudget, type Reservation } from '../../server/budget.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import { readEmbeddingsRequest } from './request.ts';
import { renderEmbeddings } from './render.ts';

export interface EmbeddingsContext {
  config: SidecarConfig;
  models: ModelRegistry;
  client: BedrockClient;
  guardrails: GuardrailSet;
  /** Fallback chains and circuit breakers, shared with every surface. */
  failover: Failover;
  metrics: Metrics;
  log: Logger;
  now(): number;
  /** The process's byte budget for bodies in flight (server/budget.ts). */
  budget?: ByteBudget;
}

/** InvokeModel calls one request keeps in flight at most (a 2048-input Titan batch is 2048 calls). */
export const MAX_CALLS_IN_FLIGHT = 8;
/** Largest embedding answer read (3072 floats as JSON are ~70 KB; 96 of them ~7 MB). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

interface Outcome {
  alias: string | undefined;
  /** The alias that answered, when a fallback did (`x-sidecar-served-by`). */
  servedBy: string | undefined;
  modelId: string | undefined;
  route: string | undefined;
  status: number;
  inputs: number;
  calls: number;
  inputTokens: number | undefined;
  guardrail: string;
  retries: number;
  error: SidecarError | undefined;
  cancelled: boolean;
}

export async function handleEmbeddings(
  ctx: EmbeddingsContext,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const started = ctx.now();
  const outcome: Outcome = {
    alias: undefined,
    servedBy: undefined,
    modelId: undefined,
    route: undefined,
    status: 0,
    inputs: 0,
    calls: 0,
    inputTokens: undefined,
    guardrail: 'none',
    retries: 0,
    error: undefined,
    cancelled: false,
  };
  const log = ctx.log.child({ requestId });
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) {
      outcome.cancelled = true;
      abort.abort();
    }
  };
  res.on('close', onClose);
  const reservation = ctx.budget?.reserve();
  try {
    await serve(ctx, req, res, outcome, log, abort, reservation);
  } catch (error) {
    const e = toSidecarError(error);
    outcome.error = e;
    if (!res.headersSent && !res.destroyed) {
      outcome.status = e.status;
      // As on the chat surface: the sidecar already retried, a client retrying on top multiplies the load.
      sendError(res, e, errorBody(e), outcome.retries > 0 ? { 'x-should-retry': 'false' } : {});
    } else if (!res.headersSent) {
      outcome.status = 499;
    }
    if (e.type === 'internal_error') log.error({ err: error }, 'internal error');
  } finally {
    reservation?.release();
    res.off('close', onClose);
    // A refusal for want of memory is a shed request, as on every surface (docs/contract.md#failover-and-overload).
    const shed = shedLabel(outcome.error);
    if (shed) ctx.metrics.shed.inc({ what: shed });
    finish(ctx, outcome, log, started);
  }
}

async function serve(
  ctx: EmbeddingsContext,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: Outcome,
  log: Logger,
  abort: AbortController,
  reservation: Reservation | undefined,
): Promise<void> {
  const body = await readJsonBody(req, ctx.config.server.maxBodyBytes, reservation);
  const { request, unknown } = readEmbeddingsRequest(body);
  const requested = ctx.models.resolve(request.model);
  outcome.alias = requested.alias?.name;
  outcome.modelId = requested.modelId;
  outcome.route = requested.route;
  outcome.inputs = request.inputs.length;
  const requestedGuardrails = requested.alias?.guardrails ?? [];

  // The requested alias, then its fallbacks (docs/contract.md#failover-and-overload): the whole request
  // moves to the next one, never single batches, so one answer never mixes two models' vector spaces. A
  // fallback that cannot serve it (not an embedding model, not that size) is skipped.
  const served = await ctx.failover.run({
    chain: ctx.models.chain(requested),
    signal: abort.signal,
    prepare: async (target, index) => {
      const model = embeddingModelOf(target);
      if (!model) {
        throw new SidecarError(
          'invalid_request_error',
          `"${target.name}" is not an embedding model (${target.family ?? 'unknown'} family): ` +
            '/v1/embeddings serves Titan Text Embeddings, Cohere Embed and Nova Multimodal Embeddings',
          { param: 'model' },
        );
      }
      const dropParams = target.alias?.dropParams ?? ctx.config.dropParams;
      for (const key of unknown) {
        if (!dropParams) {
          throw new SidecarError(
            'unsupported_parameter',
            `"${key}" is not an embeddings parameter the sidecar knows; remove it, or set drop_params: true to drop unsupported parameters`,
            { param: key },
          );
        }
        log.debug({ model: target.name }, `parameter "${key}" dropped (drop_params)`);
      }
      const options = embeddingOptions(model, target, request.dimensions);
      // The requested alias's guardrails always apply, a fallback's own on top.
      const extra = index === 0 ? request.guardrails : [...requestedGuardrails, ...request.guardrails];
      const guards = ctx.guardrails.forRequest(target, extra, log);
      const checked = await guards.checkInputTexts(request.inputs, abort.signal);
      outcome.guardrail = guards.streamOutcome();
      if ('error' in checked) throw checked.error;
      return { model, options, texts: checked.texts };
    },
    send: (prepared, target, signal) => embedAll(ctx, target, prepared, signal, outcome, log),
  });
  const target = served.target;
  if (target !== requested) {
    outcome.servedBy = target.name;
    outcome.modelId = target.modelId;
    outcome.route = target.route;
  }
  if (target.alias) res.setHeader('x-sidecar-served-by', target.alias.name);

  let tokens = 0;
  let counted = false;
  const vectors: number[][] = [];
  for (const answer of served.value) {
    vectors.push(...answer.vectors);
    if (answer.inputTokens !== undefined) {
      tokens += answer.inputTokens;
      counted = true;
    }
  }
  if (counted) outcome.inputTokens = tokens;
  outcome.status = 200;
  sendJson(res, 200, renderEmbeddings(vectors, request.encodingFormat, target.name, tokens));
}

interface PreparedEmbedding {
  model: EmbeddingModel;
  options: EmbeddingOptions;
  texts: readonly string[];
}

/**
 * Every batch of one target, at most MAX_CALLS_IN_FLIGHT at a time, answers in input order. `signal` is
 * the attempt's (failover aborts it when its budget is spent, the client's departure too); the first
 * failed call aborts the other calls of this attempt only, and is what the failover then judges.
 */
async function embedAll(
  ctx: EmbeddingsContext,
  target: ModelTarget,
  prepared: PreparedEmbedding,
  signal: AbortSignal,
  outcome: Outcome,
  log: Logger,
): Promise<EmbeddingAnswer[]> {
  const { model, options, texts } = prepared;
  const batches: string[][] = [];
  for (let i = 0; i < texts.length; i += model.maxInputsPerCall) batches.push(texts.slice(i, i + model.maxInputsPerCall));
  outcome.calls += batches.length;
  const attempt = new AbortController();
  const onAbort = (): void => attempt.abort();
  if (signal.aborted) attempt.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await runBounded(batches, MAX_CALLS_IN_FLIGHT, attempt, async (batch) => {
      const native = model.buildBody(batch, options);
      if (ctx.config.logging.content) log.debug({ body: native }, 'upstream body');
      const upstream = await callBedrock(ctx, target, native, attempt.signal, () => {
        outcome.retries++;
      });
      const answer = model.parseResponse(await readJsonAnswer(upstream, ctx.budget), batch.length, upstream.headers);
      if (options.dimensions !== undefined) {
        const wrong = answer.vectors.find((v) => v.length !== options.dimensions);
        if (wrong) {
          throw new SidecarError(
            'upstream_protocol_error',
            `${model.label} answered ${wrong.length} dimensions where ${options.dimensions} were asked for`,
          );
        }
      }
      return answer;
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The request's `dimensions`, else the alias's, checked against what the model can give; the purpose. */
function embeddingOptions(model: EmbeddingModel, target: ModelTarget, requested: number | undefined): EmbeddingOptions {
  const dimensions = requested ?? target.alias?.embedding?.dimensions;
  if (dimensions !== undefined && !model.dimensions.includes(dimensions)) {
    throw new SidecarError(
      'invalid_request_error',
      `"dimensions": ${model.label} gives ${describeSizes(model.dimensions)} dimensions, not ${dimensions}`,
      { param: 'dimensions' },
    );
  }
  // A model with one size takes no size parameter at all (Cohere v3, Titan G1): asking for it is a no-op.
  const sent = model.dimensions.length === 1 ? undefined : dimensions;
  return { dimensions: sent, inputType: target.alias?.embedding?.inputType };
}

/**
 * One InvokeModel call through the shared client (signing, retries, credentials refresh), the call path
 * the chat surface uses; failover wraps the whole request around it (`serve`).
 */
function callBedrock(
  ctx: EmbeddingsContext,
  target: ModelTarget,
  body: Record<string, unknown>,
  signal: AbortSignal,
  onRetry: () => void,
): Promise<BedrockResponse> {
  return ctx.client.call({
    endpoint: target.endpoint,
    region: target.region,
    apiKey: target.apiKey,
    path: encodeModelPath(target.modelId, 'invoke'),
    body: Buffer.from(JSON.stringify(body)),
    accept: 'application/json',
    signal,
    onRetry,
  });
}

/**
 * One call's answer, buffered within the process's byte budget as the chat surface's non-streaming answers
 * are (server/budget.ts): held while it is read and parsed, given back at once, since a request's calls
 * answer one after another (a 2048-input Titan request reads 2048 answers).
 */
async function readJsonAnswer(upstream: BedrockResponse, budget: ByteBudget | undefined): Promise<unknown> {
  const held = budget?.reserve();
  try {
    return parseJsonAnswer(
      await readBody(upstream.body, MAX_ANSWER_BYTES, held && ((bytes) => held.take(bytes, 'buffered Bedrock answers'))),
    );
  } finally {
    held?.release();
  }
}

function parseJsonAnswer({ text, overflow }: { text: string; overflow: boolean }): unknown {
  if (overflow) throw new SidecarError('upstream_protocol_error', `Bedrock's answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SidecarError('upstream_protocol_error', 'Bedrock answered 200 with a body that is not JSON');
  }
  if (typeof json === 'object' && json !== null && ('__type' in json || 'Output' in json)) {
    throw new SidecarError('upstream_protocol_error', `Bedrock answered 200 with an error envelope: ${text.slice(0, 200)}`);
  }
  return json;
}

/**
 * Runs `work` over `items` with at most `limit` in flight; resolves the results in item order. The first
 * failure aborts the rest (through `abort`) and is the one thrown: later failures are its consequences.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  abort: AbortController,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: unknown;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
          abort.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failure;
  return results;
}

function finish(ctx: EmbeddingsContext, outcome: Outcome, log: Logger, started: number): void {
  const durationMs = ctx.now() - started;
  const model = outcome.alias ?? (outcome.modelId ? 'direct' : 'unknown');
  const route = outcome.route ?? 'none';
  const status = outcome.cancelled ? 'cancelled' : String(outcome.status);
  const surface = 'embeddings';
  ctx.metrics.requests.inc({ model, route, status, surface });
  ctx.metrics.duration.observe({ model, route, surface }, durationMs / 1000);
  if (outcome.cancelled) ctx.metrics.cancelled.inc({ model, surface });
  if (outcome.inputTokens !== undefined) ctx.metrics.tokens.inc({ direction: 'input', model, surface }, outcome.inputTokens);
  log.info(
    {
      surface,
      alias: outcome.alias ?? null,
      servedBy: outcome.servedBy ?? outcome.alias ?? null,
      modelId: outcome.modelId ?? null,
      route: outcome.route ?? null,
      status: outcome.status,
      ttfbMs: null,
      durationMs,
      chunks: 0,
      inputs: outcome.inputs,
      calls: outcome.calls,
      inputTokens: outcome.inputTokens ?? null,
      outputTokens: null,
      guardrail: outcome.guardrail,
      retries: outcome.retries,
      cancelled: outcome.cancelled,
      error: outcome.error ? { type: outcome.error.type, message: outcome.error.message, upstream: outcome.error.upstreamCode } : null,
    },
    'request completed',
  );
}
