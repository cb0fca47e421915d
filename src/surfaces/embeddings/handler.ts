/**
 * POST /v1/embeddings (docs/contract.md#embeddings): read and check the request, resolve the model (an
 * embedding model, else a 400), check `dimensions` against it, run the input guardrails over every
 * input, then split the inputs into the model's own batches (one text per call for Titan and Nova, up to
 * 96 for Cohere) and call InvokeModel for them at most MAX_CALLS_IN_FLIGHT at a time. The answer keeps
 * input order; `usage` sums Bedrock's own counts. Any failed call aborts the others and fails the whole
 * request with the error mapping of the chat surface (no partial list). The body and each call's answer
 * are held within the process's byte budget, a refusal counted as shed, as on the chat path. Retries are
 * the shared client's; failover (the shared Failover) moves the whole request to the next alias of the
 * chain. One log line per request and the request metrics, as every surface. The request's frame, its
 * guardrails, calls and answers are server/embedding-call.ts, shared with the native InvokeModel of an
 * embedding model.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, SidecarError } from '../../errors.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import {
  describeSizes,
  embeddingModelOf,
  type EmbeddingAnswer,
  type EmbeddingModel,
  type EmbeddingOptions,
} from '../../providers/embeddings/index.ts';
import { readJsonBody } from '../../server/body.ts';
import {
  guardEmbeddingTexts,
  invokeEmbedding,
  noteServedBy,
  readEmbeddingAnswer,
  serveEmbeddingRequest,
  type EmbeddingExchange,
  type EmbeddingsContext,
} from '../../server/embedding-call.ts';
import { sendJson } from '../../server/respond.ts';
import { readEmbeddingsRequest } from './request.ts';
import { renderEmbeddings } from './render.ts';

/** OpenAI's error shape; the prompt parameter (a context overflow's `param`) is `input`. */
export function embeddingsErrorBody(error: SidecarError): { error: Record<string, unknown> } {
  return errorBody(error, 'input');
}

/** InvokeModel calls one request keeps in flight at most (a 2048-input Titan batch is 2048 calls). */
export const MAX_CALLS_IN_FLIGHT = 8;

export function handleEmbeddings(ctx: EmbeddingsContext, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  return serveEmbeddingRequest(ctx, { name: 'embeddings', errorBody: embeddingsErrorBody, serve }, req, res, requestId);
}

async function serve(ex: EmbeddingExchange): Promise<void> {
  const { ctx, req, res, outcome, log, abort, reservation } = ex;
  const body = await readJsonBody(req, ctx.config.server.maxBodyBytes, reservation);
  const { request, unknown } = readEmbeddingsRequest(body);
  const requested = ctx.models.resolve(request.model);
  outcome.alias = requested.alias?.name;
  outcome.modelId = requested.modelId;
  outcome.route = requested.route;
  outcome.inputs = request.inputs.length;
  const guardrails = { requested: requested.alias?.guardrails ?? [], request: request.guardrails };

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
      const texts = await guardEmbeddingTexts(ex, target, index, guardrails, request.inputs);
      return { model, options, texts };
    },
    send: (prepared, target, signal) => embedAll(ex, target, prepared, signal),
  });
  const target = served.target;
  noteServedBy(ex, requested, target);

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
  ex: EmbeddingExchange,
  target: ModelTarget,
  prepared: PreparedEmbedding,
  signal: AbortSignal,
): Promise<EmbeddingAnswer[]> {
  const { ctx, outcome, log } = ex;
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
      const upstream = await invokeEmbedding(ex, target, native, attempt.signal);
      const { json } = await readEmbeddingAnswer(upstream, ctx.budget);
      const answer = model.parseResponse(json, batch.length, upstream.headers);
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
