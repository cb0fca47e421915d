/**
 * POST /v1/chat/completions: read and check the request, resolve the model, apply the family's
 * parameter policy, run input guardrails, build the native body, call Bedrock, then either commit an SSE
 * stream (only once Bedrock answered 200 with a stream) or answer one `chat.completion` JSON.
 * Every failure before the commit is a JSON error with the status of docs/contract.md#streaming-and-errors; after it,
 * an in-band frame.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { SidecarError, toSidecarError } from '../errors.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { SidecarConfig } from '../config/schema.ts';
import type { ModelRegistry, ModelTarget } from '../models/resolve.ts';
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { adapterFor, applyParamPolicy } from '../providers/index.ts';
import type { ResponseHeaders } from '../providers/types.ts';
import { applyCountHeaders, usageFromHeaders, withCountHeaders } from '../providers/usage.ts';
import { readChatRequest, type ChatRequest } from '../providers/request.ts';
import { discardBody, readBody, type BedrockClient } from '../upstream/client.ts';
import { encodeModelPath, type ModelOperation } from '../upstream/signer.ts';
import type { GuardrailSet, RequestGuards } from '../guardrails/index.ts';
import type { Failover } from '../upstream/failover.ts';
import type { RouteAdapter } from '../providers/types.ts';
import { PARSE_OFF_THREAD_BYTES, readJsonBody } from './body.ts';
import type { ByteBudget, Reservation } from './budget.ts';
import { jsonBytes } from './json-thread.ts';
import { assembleCompletion } from './completion.ts';
import { sendError, sendJson } from './respond.ts';
import { startStream, type LiveStream } from './stream-response.ts';

export interface ChatContext {
  config: SidecarConfig;
  models: ModelRegistry;
  client: BedrockClient;
  guardrails: GuardrailSet;
  failover: Failover;
  metrics: Metrics;
  log: Logger;
  /** Registers a live stream so a drain can end it; returns the unregister function. */
  track(stream: LiveStream): () => void;
  now(): number;
  /** The process's byte budget for bodies and buffered answers in flight (server/budget.ts). */
  budget: ByteBudget;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** What the request's log line and metrics carry; filled in as the request goes. */
interface Outcome {
  alias: string | undefined;
  modelId: string | undefined;
  route: string | undefined;
  /** The alias that answered, when a fallback did (`x-sidecar-served-by`). */
  servedBy: string | undefined;
  status: number;
  ttfbMs: number | undefined;
  chunks: number;
  usage: Usage | undefined;
  guardrail: string;
  retries: number;
  error: SidecarError | undefined;
  cancelled: boolean;
}

export async function handleChat(ctx: ChatContext, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const started = ctx.now();
  const outcome: Outcome = {
    alias: undefined, modelId: undefined, route: undefined, servedBy: undefined, status: 0, ttfbMs: undefined, chunks: 0,
    usage: undefined, guardrail: 'none', retries: 0, error: undefined, cancelled: false,
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
  const reservation = ctx.budget.reserve();
  try {
    await serve(ctx, req, res, outcome, log, abort, started, reservation);
  } catch (error) {
    const e = toSidecarError(error);
    outcome.error = e;
    if (!res.headersSent && !res.destroyed) {
      outcome.status = e.status;
      // The sidecar already retried this upstream failure (upstream.max_attempts): an OpenAI SDK that
      // retried on top would multiply the load on a throttled Bedrock (3 × 3 attempts by default).
      sendError(res, e, outcome.retries > 0 ? { 'x-should-retry': 'false' } : {});
    } else if (!res.headersSent) {
      outcome.status = 499;
    }
    if (e.type === 'internal_error') log.error({ err: error }, 'internal error');
  } finally {
    reservation.release();
    res.off('close', onClose);
    if (outcome.error?.upstreamCode === 'BUDGET') ctx.metrics.shed.inc({ what: outcome.error.message.includes('request bodies') ? 'body' : 'answer' });
    finish(ctx, outcome, log, started);
  }
}

async function serve(
  ctx: ChatContext, req: IncomingMessage, res: ServerResponse, outcome: Outcome, log: Logger,
  abort: AbortController, started: number, reservation: Reservation,
): Promise<void> {
  const body = await readJsonBody(req, ctx.config.server.maxBodyBytes, reservation);
  const { request, unknown } = readChatRequest(body);
  const requested = ctx.models.resolve(request.model);
  outcome.alias = requested.alias?.name;
  outcome.modelId = requested.modelId;
  outcome.route = requested.route;
  const requestedGuardrails = requested.alias?.guardrails ?? [];

  // Each target of the chain (the requested alias, then its fallbacks) gets its own body, built by its
  // own family; a fallback that cannot serve this request is skipped (docs/contract.md#failover-and-overload).
  const served = await ctx.failover.run({
    chain: ctx.models.chain(requested),
    signal: abort.signal,
    prepare: async (target, index) => {
      const adapter = adapterFor(target.route, target.family);
      if (!adapter) throw new SidecarError('invalid_request_error', `the ${target.route} route cannot serve ${target.family ?? 'this model'}`, { param: 'model' });
      const note = (message: string): void => log.debug({ model: target.name }, message);
      const dropParams = target.alias?.dropParams ?? ctx.config.dropParams;
      const prepared = applyParamPolicy(request, unknown, adapter, dropParams,
        `${target.family ?? 'this model'} on the ${target.route} route`, note);
      // The requested alias's guardrails always apply, a fallback's own on top.
      const extra = index === 0 ? prepared.sidecar.guardrails : [...requestedGuardrails, ...prepared.sidecar.guardrails];
      const guards = ctx.guardrails.forRequest(target, extra, log);
      const inputVerdict = await guards.checkInput(prepared, abort.signal);
      if (inputVerdict) {
        outcome.guardrail = guards.streamOutcome();
        throw inputVerdict;
      }
      const native = adapter.buildBody(prepared, { target, note, dropParams });
      if (ctx.config.logging.content) log.debug({ body: native }, 'upstream body');
      return { adapter, prepared, guards, native };
    },
    send: async ({ prepared, guards, native }, target, signal) => {
      const operation: ModelOperation = target.route === 'invoke'
        ? (prepared.stream ? 'invoke-with-response-stream' : 'invoke')
        : (prepared.stream ? 'converse-stream' : 'converse');
      return ctx.client.call({
        endpoint: target.endpoint,
        region: target.region,
        apiKey: target.apiKey,
        path: encodeModelPath(target.modelId, operation),
        // Built off the event loop when the request was big (a base64 image): 20 MB of JSON takes a while.
        body: await jsonBytes(guards.decorateBody(native, target.route, prepared.stream), reservation.heldBytes >= PARSE_OFF_THREAD_BYTES),
        accept: prepared.stream ? 'application/vnd.amazon.eventstream' : 'application/json',
        headers: guards.upstreamHeaders(target.route, prepared.stream),
        signal,
        onRetry: () => {
          outcome.retries++; // counted as they happen: a request whose retries ran out logs them too
        },
      });
    },
  });
  const target = served.target;
  const { adapter, prepared, guards } = served.prepared;
  const upstream = served.value;
  if (target !== requested) {
    outcome.servedBy = target.name;
    outcome.modelId = target.modelId;
    outcome.route = target.route;
  }
  if (target.alias) res.setHeader('x-sidecar-served-by', target.alias.name);

  const meta = { id: completionId(), created: Math.floor(ctx.now() / 1000), model: target.name };
  if (prepared.stream) {
    const type = String(upstream.headers['content-type'] ?? '');
    if (!type.startsWith('application/vnd.amazon.eventstream')) {
      discardBody(upstream.body);
      throw new SidecarError('upstream_protocol_error',
        `Bedrock answered 200 with ${type || 'no content type'} instead of an event stream`);
    }
    await streamAnswer(ctx, res, prepared, target, adapter, upstream.body, upstream.headers, abort, meta, outcome, guards, started);
    return;
  }

  const { text, overflow } = await readBody(upstream.body, MAX_RESPONSE_BYTES, (bytes) => reservation.take(bytes, 'buffered Bedrock answers'));
  if (overflow) throw new SidecarError('upstream_protocol_error', `Bedrock's answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SidecarError('upstream_protocol_error', 'Bedrock answered 200 with a body that is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || '__type' in json || 'Output' in json) {
    throw new SidecarError('upstream_protocol_error', `Bedrock answered 200 with an unexpected body: ${text.slice(0, 200)}`);
  }
  // parseResponse throws the 502 for a body that lacks what the family's answer needs (providers/answer.ts).
  const events = applyCountHeaders(adapter.parseResponse(json as Record<string, unknown>, upstream.headers), usageFromHeaders(upstream.headers));
  const checked = await guards.checkOutputWhole(events, abort.signal);
  const completion = assembleCompletion(checked.events, meta);
  outcome.guardrail = checked.outcome;
  if ('error' in completion) throw completion.error;
  outcome.usage = completion.usage;
  outcome.status = 200;
  outcome.ttfbMs = ctx.now() - started;
  sendJson(res, 200, completion.body);
}

async function streamAnswer(
  ctx: ChatContext, res: ServerResponse, request: ChatRequest, target: ModelTarget, adapter: RouteAdapter,
  body: import('node:stream').Readable, headers: ResponseHeaders, abort: AbortController,
  meta: { id: string; created: number; model: string }, outcome: Outcome, guards: RequestGuards, started: number,
): Promise<void> {
  const streaming = ctx.config.streaming;
  const chunkSizeBytes = request.sidecar.streamChunkSize ?? target.alias?.streamChunkSize ?? streaming.streamChunkSize;
  const model = target.alias?.name ?? 'direct';
  ctx.metrics.inflight.inc();
  outcome.status = 200;
  // SSE data frames sent, counted here and added to sidecar_stream_chunks_total once, when the stream ends
  // (a labelled counter update per upstream read costs more than the rest of the per-read bookkeeping).
  let frames = 1; // the role frame every committed stream opens with
  const live = startStream({
    res,
    upstreamBody: body,
    abortUpstream: () => abort.abort(),
    route: target.route,
    // Token-count response headers, where Bedrock sends them on a stream, are authoritative there too.
    mapper: withCountHeaders(adapter.createStreamMapper(), usageFromHeaders(headers)),
    guard: guards.outputGuard(request.sidecar.includeUsage),
    chunkSizeBytes,
    maxHoldMs: target.alias?.maxHoldMs ?? streaming.maxHoldMs,
    heartbeatMs: streaming.heartbeatMs,
    writeTimeoutMs: ctx.config.server.writeTimeoutMs,
    encoder: { ...meta, includeUsage: request.sidecar.includeUsage },
    headers: {},
    onEvents: (events: readonly StreamEvent[]) => {
      for (const event of events) {
        if (event.kind === 'usage') outcome.usage = event.usage;
        else if (event.kind !== 'finish' && event.kind !== 'error') {
          outcome.chunks++;
          if (outcome.ttfbMs === undefined) {
            outcome.ttfbMs = ctx.now() - started;
            ctx.metrics.ttft.observe({ model, route: target.route }, outcome.ttfbMs / 1000);
          }
        }
      }
      // One SSE data frame per rendered event; usage is a frame only when include_usage asked for it.
      for (const event of events) if (event.kind !== 'usage' || request.sidecar.includeUsage) frames++;
    },
  });
  const untrack = ctx.track(live);
  try {
    const result = await live.done;
    outcome.error = result.error;
    outcome.cancelled = result.clientClosed;
    outcome.guardrail = guards.streamOutcome();
  } finally {
    untrack();
    ctx.metrics.chunks.inc({ model }, frames);
    ctx.metrics.inflight.dec();
  }
}

function finish(ctx: ChatContext, outcome: Outcome, log: Logger, started: number): void {
  const durationMs = ctx.now() - started;
  const model = outcome.alias ?? (outcome.modelId ? 'direct' : 'unknown');
  const route = outcome.route ?? 'none';
  const status = outcome.cancelled ? 'cancelled' : outcome.error && outcome.status === 200 ? `200_${outcome.error.type}` : String(outcome.status);
  ctx.metrics.requests.inc({ model, route, status });
  ctx.metrics.duration.observe({ model, route }, durationMs / 1000);
  if (outcome.cancelled) ctx.metrics.cancelled.inc({ model });
  if (outcome.usage) {
    ctx.metrics.tokens.inc({ direction: 'input', model }, outcome.usage.inputTokens + outcome.usage.cacheReadTokens + outcome.usage.cacheWriteTokens);
    ctx.metrics.tokens.inc({ direction: 'output', model }, outcome.usage.outputTokens);
  }
  // Every log field of docs/contract.md#observability is always there (null when the request never got that far, or for
  // a direct route the alias), so that log queries can rely on the shape.
  log.info({
    alias: outcome.alias ?? null,
    modelId: outcome.modelId ?? null,
    route: outcome.route ?? null,
    servedBy: outcome.servedBy ?? outcome.alias ?? null,
    status: outcome.status,
    ttfbMs: outcome.ttfbMs ?? null,
    durationMs,
    chunks: outcome.chunks,
    inputTokens: outcome.usage ? outcome.usage.inputTokens + outcome.usage.cacheReadTokens + outcome.usage.cacheWriteTokens : null,
    outputTokens: outcome.usage?.outputTokens ?? null,
    guardrail: outcome.guardrail,
    retries: outcome.retries,
    cancelled: outcome.cancelled,
    error: outcome.error ? { type: outcome.error.type, message: outcome.error.message, upstream: outcome.error.upstreamCode } : null,
  }, 'request completed');
}

function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}
