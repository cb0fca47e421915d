/**
 * The life of an embedding request, shared by the surfaces that embed (the OpenAI embeddings surface, the
 * native InvokeModel of an embedding model): the request's byte budget, its abort on the client's departure,
 * the error answered before any byte in the surface's shape, the shed metric, and one log line and the
 * request metrics labelled with the surface (docs/contract.md#observability). Also the pieces each surface's
 * work is made of: the input guardrails over the texts (the requested alias's always, a fallback's own on
 * top), one InvokeModel call through the shared client (signing, retries, credentials refresh; failover wraps
 * the request around it), and the answer read within the byte budget. Embedding answers are JSON, never a
 * stream: nothing here commits one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SidecarError } from '../errors.ts';
import type { SidecarConfig } from '../config/schema.ts';
import type { GuardrailSet } from '../guardrails/index.ts';
import type { ModelRegistry, ModelTarget } from '../models/resolve.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import { readBody, type BedrockClient, type BedrockResponse } from '../upstream/client.ts';
import type { Failover } from '../upstream/failover.ts';
import { encodeModelPath } from '../upstream/signer.ts';
import { shedLabel, type ByteBudget, type Reservation } from './budget.ts';
import type { ServerContext } from './context.ts';
import { stopAtDrainDeadline } from './drain-deadline.ts';
import { answerFailure, type ErrorShape } from './respond.ts';
import type { SurfaceName } from './surface.ts';

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
  /** Aborted at a drain's deadline (server/drain-deadline.ts). */
  drainDeadline?: AbortSignal;
}

/** The context of one embedding request: the server's, with the generation it is served with. */
export function embeddingsContext(ctx: ServerContext): EmbeddingsContext {
  const { config, models, client, guardrails, failover } = ctx.generation();
  return {
    config,
    models,
    client,
    guardrails,
    failover,
    metrics: ctx.metrics,
    log: ctx.log,
    now: () => ctx.now(),
    budget: ctx.budget,
    drainDeadline: ctx.drainDeadline,
  };
}

/** Largest embedding answer read (3072 floats as JSON are ~70 KB; 96 of them ~7 MB). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** What the request's log line and metrics carry; the surface's work fills it in as the request goes. */
export interface EmbeddingOutcome {
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

/** One embedding request being served: what the surface's work reads and fills in. */
export interface EmbeddingExchange {
  ctx: EmbeddingsContext;
  req: IncomingMessage;
  res: ServerResponse;
  outcome: EmbeddingOutcome;
  log: Logger;
  /** Aborted when the client leaves before the answer. */
  abort: AbortController;
  reservation: Reservation | undefined;
  /** The surface serving it: the label of its guardrail and retry metrics. */
  surface: SurfaceName;
}

/** The surface's side of an embedding request: its label and error shape, and its work. */
export interface EmbeddingSurface extends ErrorShape {
  name: SurfaceName;
  /** Reads the request, calls, answers 200; throws a SidecarError before any byte to refuse or fail. */
  serve(exchange: EmbeddingExchange): Promise<void>;
}

export async function serveEmbeddingRequest(
  ctx: EmbeddingsContext,
  surface: EmbeddingSurface,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const started = ctx.now();
  const outcome: EmbeddingOutcome = {
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
  const drain = stopAtDrainDeadline(ctx.drainDeadline, res, abort);
  try {
    await surface.serve({ ctx, req, res, outcome, log, abort, reservation, surface: surface.name });
  } catch (error) {
    answerFailure(res, drain.error ?? error, outcome, surface, log);
  } finally {
    drain.release();
    reservation?.release();
    res.off('close', onClose);
    // A refusal for want of memory is a shed request, as on every surface (docs/contract.md#failover-and-overload).
    const shed = shedLabel(outcome.error);
    if (shed) ctx.metrics.shed.inc({ what: shed });
    finish(ctx, surface.name, outcome, log, started);
  }
}

/**
 * The input guardrails over the texts one target is sent: the requested alias's always apply, a fallback's
 * own on top (`index` is the target's place in the chain). Answers the texts to send (a mask rewrites
 * them); a block throws, its outcome recorded.
 */
export async function guardEmbeddingTexts(
  { ctx, outcome, log, abort, surface }: EmbeddingExchange,
  target: ModelTarget,
  index: number,
  guardrails: { requested: readonly string[]; request: readonly string[] },
  texts: readonly string[],
): Promise<readonly string[]> {
  const extra = index === 0 ? [...guardrails.request] : [...guardrails.requested, ...guardrails.request];
  const guards = ctx.guardrails.forRequest(target, extra, surface, log);
  const checked = await guards.checkInputTexts(texts, abort.signal);
  outcome.guardrail = guards.streamOutcome();
  if ('error' in checked) throw checked.error;
  return checked.texts;
}

/**
 * One InvokeModel call through the shared client (signing, retries, credentials refresh), the call path
 * the chat surface uses; failover wraps the whole request around it. Each retry is counted in the outcome.
 */
export function invokeEmbedding(
  { ctx, outcome, surface }: EmbeddingExchange,
  target: ModelTarget,
  body: Record<string, unknown>,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<BedrockResponse> {
  return ctx.client.call({
    endpoint: target.endpoint,
    region: target.region,
    apiKey: target.apiKey,
    path: encodeModelPath(target.modelId, 'invoke'),
    body: Buffer.from(JSON.stringify(body)),
    accept: 'application/json',
    headers,
    signal,
    surface,
    onRetry: () => {
      outcome.retries++;
    },
  });
}

/**
 * One call's answer, buffered within the process's byte budget as the chat surface's non-streaming answers
 * are (server/budget.ts): held while it is read and parsed, given back at once, since a request's calls
 * answer one after another (a 2048-input Titan request reads 2048 answers). Answers the parsed JSON and
 * the text it was parsed from.
 */
export async function readEmbeddingAnswer(
  upstream: BedrockResponse,
  budget: ByteBudget | undefined,
): Promise<{ json: unknown; text: string }> {
  const held = budget?.reserve();
  try {
    const { text, overflow } = await readBody(
      upstream.body,
      MAX_ANSWER_BYTES,
      held && ((bytes) => held.take(bytes, 'buffered Bedrock answers')),
    );
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
    return { json, text };
  } finally {
    held?.release();
  }
}

/** Notes the target that served when a fallback did, and names it to the client (`x-sidecar-served-by`). */
export function noteServedBy({ res, outcome }: EmbeddingExchange, requested: ModelTarget, served: ModelTarget): void {
  if (served !== requested) {
    outcome.servedBy = served.name;
    outcome.modelId = served.modelId;
    outcome.route = served.route;
  }
  if (served.alias) res.setHeader('x-sidecar-served-by', served.alias.name);
}

function finish(ctx: EmbeddingsContext, surface: SurfaceName, outcome: EmbeddingOutcome, log: Logger, started: number): void {
  const durationMs = ctx.now() - started;
  const model = outcome.alias ?? (outcome.modelId ? 'direct' : 'unknown');
  const route = outcome.route ?? 'none';
  const status = outcome.cancelled ? 'cancelled' : String(outcome.status);
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
