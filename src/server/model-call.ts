/**
 * The model-call path every surface shares: read and check the request (the surface's reader), resolve the
 * model, apply the family's parameter policy, run input guardrails, build the native body, call Bedrock,
 * then either commit a stream (only once Bedrock answered 200 with a stream) rendered by the surface's
 * renderer, or answer the surface's whole JSON. Every failure before the commit is the surface's JSON
 * error with the contract's status; after it, the surface's in-band error (docs/contract.md#streaming-and-errors).
 * One log line and one set of metrics per request, labelled with the surface (docs/contract.md#observability).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { SidecarError } from '../errors.ts';
import type { Logger } from '../ops/logger.ts';
import type { ModelTarget } from '../models/resolve.ts';
import { isEmbeddingFamily } from '../models/route.ts';
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { adapterFor, applyParamPolicy } from '../providers/index.ts';
import { checkProjectRegion, servedSettings, serviceTierOf, servingHeaders } from '../providers/serving.ts';
import type { ChatRequest } from '../providers/request.ts';
import type { ResponseHeaders, RouteAdapter, StreamMapper } from '../providers/types.ts';
import { readAnswer } from '../providers/answer.ts';
import { failedFinishes, withFailedFinishes } from '../providers/finish.ts';
import { applyCountHeaders, usageFromHeaders, withCountHeaders } from '../providers/usage.ts';
import { restoreToolNames, withToolNames, type ToolNames } from '../providers/tool-names.ts';
import { discardBody, readBody, type BedrockResponse } from '../upstream/client.ts';
import { contextRoom, outputTokenLimit, tierRefused } from '../upstream/bedrock-errors.ts';
import { concatFrames, eventFrame } from '../upstream/event-frames.ts';
import { encodeModelPath, type ModelOperation } from '../upstream/signer.ts';
import type { RequestGuards } from '../guardrails/types.ts';
import { PARSE_OFF_THREAD_BYTES, readJsonBody } from './body.ts';
import { shedLabel, type Reservation } from './budget.ts';
import { jsonBytes } from './json-thread.ts';
import type { Generation, ServerContext } from './context.ts';
import { stopAtDrainDeadline } from './drain-deadline.ts';
import { answerFailure, sendJson } from './respond.ts';
import { startStream } from './stream-response.ts';
import type { AnswerMeta, ModelSurface } from './surface.ts';

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

/** One request being served: what every step of it reads. */
interface Exchange {
  ctx: ServerContext;
  /** This request's share of the byte budget for bodies and buffered answers (server/budget.ts). */
  reservation: Reservation;
  surface: ModelSurface;
  generation: Generation;
  req: IncomingMessage;
  res: ServerResponse;
  log: Logger;
  abort: AbortController;
  started: number;
  outcome: Outcome;
}

/** Everything the upstream answered and the request needs to answer its client. */
interface Answering {
  request: ChatRequest;
  adapter: RouteAdapter;
  target: ModelTarget;
  guards: RequestGuards;
  meta: AnswerMeta;
  /** Tools sent under another name (the route's rule): the answer names them back. */
  toolNames: ToolNames | undefined;
}

export async function serveModelCall(
  ctx: ServerContext,
  surface: ModelSurface,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const ex: Exchange = {
    ctx,
    surface,
    req,
    res,
    generation: ctx.generation(),
    log: ctx.log.child({ requestId }),
    abort: new AbortController(),
    started: ctx.now(),
    reservation: ctx.budget.reserve(),
    outcome: {
      alias: undefined,
      modelId: undefined,
      route: undefined,
      servedBy: undefined,
      status: 0,
      ttfbMs: undefined,
      chunks: 0,
      usage: undefined,
      guardrail: 'none',
      retries: 0,
      error: undefined,
      cancelled: false,
    },
  };
  const { outcome } = ex;
  const onClose = (): void => {
    if (!res.writableFinished) {
      outcome.cancelled = true;
      ex.abort.abort();
    }
  };
  res.on('close', onClose);
  const drain = stopAtDrainDeadline(ctx.drainDeadline, res, ex.abort);
  try {
    await serve(ex);
  } catch (error) {
    answerFailure(res, drain.error ?? error, outcome, surface, ex.log);
  } finally {
    drain.release();
    ex.reservation.release();
    res.off('close', onClose);
    const shed = shedLabel(outcome.error);
    if (shed) ctx.metrics.shed.inc({ what: shed });
    finish(ex);
  }
}

async function serve(ex: Exchange): Promise<void> {
  const {
    generation: { config, models, client, guardrails, failover },
    outcome,
    log,
    abort,
  } = ex;
  const body = await readJsonBody(ex.req, config.server.maxBodyBytes, ex.reservation);
  const read = ex.surface.read(body, ex.req);
  const { request, unknown } = read;
  for (const note of read.notes ?? []) log.debug({ surface: ex.surface.name }, `${note}: dropped`);
  const requested = models.resolve(request.model);
  outcome.alias = requested.alias?.name;
  outcome.modelId = requested.modelId;
  outcome.route = requested.route;
  const requestedGuardrails = requested.alias?.guardrails ?? [];

  /** One call of a target with a built body. */
  const sendBody = async (
    prepared: ChatRequest,
    guards: RequestGuards,
    native: Record<string, unknown>,
    target: ModelTarget,
    signal: AbortSignal,
    stream: boolean,
  ): Promise<BedrockResponse> => {
    const operation: ModelOperation =
      target.route === 'invoke' ? (stream ? 'invoke-with-response-stream' : 'invoke') : stream ? 'converse-stream' : 'converse';
    // Built (and hashed) off the event loop when the request was big (a base64 image): 20 MB of JSON takes a while.
    const body = await jsonBytes(
      guards.decorateBody(native, target.route, stream),
      ex.reservation.heldBytes >= PARSE_OFF_THREAD_BYTES,
      ex.reservation,
    );
    return client.call({
      endpoint: target.endpoint,
      region: target.region,
      apiKey: target.apiKey,
      path: encodeModelPath(target.modelId, operation),
      body: body.bytes,
      bodySha256: body.sha256,
      accept: stream ? 'application/vnd.amazon.eventstream' : 'application/json',
      headers: { ...guards.upstreamHeaders(target.route, stream), ...servingHeaders(prepared, target) },
      signal,
      surface: ex.surface.name,
      onRetry: () => {
        outcome.retries++; // counted as they happen: a request whose retries ran out logs them too
      },
    });
  };

  // Each target of the chain (the requested alias, then its fallbacks) gets its own body, built by its
  // own family; a fallback that cannot serve this request is skipped (docs/contract.md#failover-and-overload).
  const served = await failover.run({
    chain: models.chain(requested),
    signal: abort.signal,
    prepare: async (target, index) => {
      const adapter = adapterFor(target.route, target.family);
      if (!adapter) {
        throw new SidecarError(
          'invalid_request_error',
          isEmbeddingFamily(target.family)
            ? `"${target.name}" is an embedding model (${target.family}): it answers POST /v1/embeddings only`
            : `the ${target.route} route cannot serve ${target.family ?? 'this model'}`,
          { param: 'model' },
        );
      }
      const note = (message: string): void => log.debug({ model: target.name }, message);
      ex.surface.check?.(read, target, note);
      checkProjectRegion(request.project, target);
      const configDrops = target.alias?.dropParams ?? config.dropParams;
      const dropParams = ex.surface.dropsUnsupported === true || configDrops;
      // What the surface never drops of its own accord (the config's drop_params still does).
      const keepParams = configDrops ? undefined : ex.surface.keepsParams;
      const prepared = applyParamPolicy(
        request,
        unknown,
        adapter,
        dropParams,
        `${target.family ?? 'this model'} on the ${target.route} route`,
        note,
        keepParams,
      );
      // The requested alias's guardrails always apply, a fallback's own on top.
      const extra = index === 0 ? prepared.sidecar.guardrails : [...requestedGuardrails, ...prepared.sidecar.guardrails];
      const guards = guardrails.forRequest(target, extra, ex.surface.name, log);
      const inputVerdict = await guards.checkInput(prepared, abort.signal);
      if (inputVerdict) {
        outcome.guardrail = guards.streamOutcome();
        throw inputVerdict;
      }
      // A surface that drops what a family cannot take drops the tool-result parts it cannot read too.
      const dropsToolResultParts = ex.surface.dropsUnsupported === true;
      let toolNames: ToolNames | undefined;
      const renamedTools = (names: ToolNames): void => {
        toolNames = names;
      };
      const build = (request: ChatRequest): Record<string, unknown> => {
        const native = adapter.buildBody(request, { target, note, dropParams, keepParams, dropsToolResultParts, renamedTools });
        if (config.logging.content) log.debug({ body: native }, 'upstream body');
        return native;
      };
      // A stream the model refuses streamed (Llama 4 with tools) is asked whole and streamed from its answer.
      const askedWhole = prepared.stream && adapter.asksWhole?.(prepared, target.modelId) === true;
      return { adapter, prepared, guards, native: build(prepared), build, toolNames, askedWhole };
    },
    send: async ({ prepared, guards, native, build, askedWhole }, target, signal) => {
      const stream = prepared.stream && !askedWhole;
      try {
        return await sendBody(prepared, guards, native, target, signal, stream);
      } catch (error) {
        // Priority is a wish for speed, not a price: where the model takes no such tier, the call goes once more
        // at the default one, and the answer says which served (docs/contract.md#request-rules). Flex and
        // reserved, which the client pays differently for, stay Bedrock's 400; Bedrock's own API gets its answer.
        if (
          !ex.surface.keepsBedrockAnswers &&
          error instanceof SidecarError &&
          tierRefused(error) &&
          serviceTierOf(prepared, target) === 'priority'
        ) {
          log.warn({ model: target.name }, `${target.modelId} takes no priority tier: sent again at the default tier`);
          const plain: ChatRequest = { ...prepared, params: { ...prepared.params, service_tier: 'auto' } };
          return await sendBody(plain, guards, build(plain), target, signal, stream);
        }
        // A max_tokens above the model's output limit (an alias's clients cannot know its model's): sent once
        // more at the limit Bedrock names (docs/contract.md#parameters). So is a max_tokens the sidecar chose that,
        // with the input, overflows Claude's context: sent again with the room left. Bedrock's own API gets
        // Bedrock's answer.
        const asked = prepared.params.max_tokens;
        const known = ex.surface.keepsBedrockAnswers || !(error instanceof SidecarError) ? undefined : error;
        const output = known && outputTokenLimit(known);
        const room = known && output === undefined && asked === undefined ? contextRoom(known) : undefined;
        const limit = output ?? room;
        if (limit === undefined || (asked !== undefined && asked <= limit)) throw error;
        log.warn(
          { model: target.name, maxTokens: asked ?? null, limit },
          room !== undefined
            ? `max_tokens the sidecar chose leaves the input no room in the context of ${target.modelId}: sent again with ${limit}`
            : `max_tokens above the output limit of ${target.modelId}: sent again with ${limit}`,
        );
        const clamped = build({ ...prepared, params: { ...prepared.params, max_tokens: limit } });
        return await sendBody(prepared, guards, clamped, target, signal, stream);
      }
    },
  });
  const target = served.target;
  const { adapter, prepared, guards, toolNames, askedWhole } = served.prepared;
  const upstream = served.value;
  if (target !== requested) {
    outcome.servedBy = target.name;
    outcome.modelId = target.modelId;
    outcome.route = target.route;
  }
  if (target.alias) ex.res.setHeader('x-sidecar-served-by', target.alias.name);

  const answering: Answering = {
    request: prepared,
    adapter,
    target,
    guards,
    toolNames,
    meta: {
      id: ex.surface.newId(),
      created: Math.floor(ex.ctx.now() / 1000),
      model: target.name,
      reasoningField: target.alias?.reasoningField ?? config.streaming.reasoningField,
    },
  };
  if (askedWhole && adapter.streamOf) {
    // Asked whole (the model refuses this stream): Bedrock's answer, framed as the stream it would have sent,
    // goes through the same five stages as any stream.
    const frames = adapter.streamOf(await wholeAnswerOf(ex, upstream)).map((e) => eventFrame(e.eventType, e.payload));
    await streamAnswer(ex, answering, Readable.from([Buffer.from(concatFrames(frames))]), upstream.headers);
    return;
  }
  if (prepared.stream) {
    const type = String(upstream.headers['content-type'] ?? '');
    if (!type.startsWith('application/vnd.amazon.eventstream')) {
      discardBody(upstream.body);
      throw new SidecarError(
        'upstream_protocol_error',
        `Bedrock answered 200 with ${type || 'no content type'} instead of an event stream`,
      );
    }
    await streamAnswer(ex, answering, upstream.body, upstream.headers);
    return;
  }

  const json = await wholeAnswerOf(ex, upstream);
  // parseResponse throws the 502 for a body that lacks what the family's answer needs (providers/answer.ts).
  const events = applyCountHeaders(
    restoreToolNames(
      readAnswer(() => adapter.parseResponse(json, upstream.headers)),
      toolNames,
    ),
    usageFromHeaders(upstream.headers),
  );
  // An answer Bedrock could not read (malformed_tool_use) is a failure, not a finish, but to Bedrock's own API:
  // answered before any output guardrail is asked about its text.
  const failure = ex.surface.keepsBedrockAnswers ? undefined : failedFinishes(events).at(-1);
  if (failure?.kind === 'error') throw failure.error;
  const checked = await guards.checkOutputWhole(events, abort.signal);
  const meta = { ...answering.meta, ...servedSettings(json, upstream.headers) };
  const answer = ex.surface.answer(checked.events, meta, prepared);
  outcome.guardrail = checked.outcome;
  if ('error' in answer) throw answer.error;
  outcome.usage = answer.usage;
  outcome.status = 200;
  outcome.ttfbMs = ex.ctx.now() - ex.started;
  sendJson(ex.res, 200, answer.body, ex.surface.answerHeaders?.(meta));
}

/** Bedrock's whole JSON answer, read within the buffered-answer budget; a 502 for anything else. */
async function wholeAnswerOf(ex: Exchange, upstream: BedrockResponse): Promise<Record<string, unknown>> {
  const { text, overflow } = await readBody(upstream.body, MAX_RESPONSE_BYTES, (bytes) =>
    ex.reservation.take(bytes, 'buffered Bedrock answers'),
  );
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
  return json as Record<string, unknown>;
}

async function streamAnswer(
  ex: Exchange,
  { request, adapter, target, guards, meta, toolNames }: Answering,
  body: Readable,
  headers: ResponseHeaders,
): Promise<void> {
  const { ctx, outcome } = ex;
  const { config } = ex.generation;
  const streaming = config.streaming;
  const chunkSizeBytes = request.sidecar.streamChunkSize ?? target.alias?.streamChunkSize ?? streaming.streamChunkSize;
  const model = target.alias?.name ?? 'direct';
  // On a stream Bedrock names the tier in a response header (invoke); converse says it only in the trailing metadata.
  const streamMeta = { ...meta, ...servedSettings(undefined, headers) };
  const renderer = ex.surface.renderer(streamMeta, request);
  ctx.metrics.inflight.inc({ surface: ex.surface.name });
  outcome.status = 200;
  const live = startStream({
    res: ex.res,
    upstreamBody: body,
    abortUpstream: () => ex.abort.abort(),
    route: target.route,
    // Token-count response headers, where Bedrock sends them on a stream, are authoritative there too.
    mapper: failuresOf(ex, withCountHeaders(withToolNames(adapter.createStreamMapper(), toolNames), usageFromHeaders(headers))),
    guard: guards.outputGuard(request.sidecar.includeUsage),
    chunkSizeBytes,
    maxHoldMs: target.alias?.maxHoldMs ?? streaming.maxHoldMs,
    heartbeatMs: streaming.heartbeatMs,
    writeTimeoutMs: config.server.writeTimeoutMs,
    now: () => ctx.now(),
    renderer,
    rechunk: ex.surface.streamFormat?.rechunk ?? true,
    headers: {
      ...(ex.surface.streamFormat ? { 'content-type': ex.surface.streamFormat.contentType } : {}),
      ...ex.surface.answerHeaders?.(streamMeta),
    },
    onEvents: (events: readonly StreamEvent[]) => {
      for (const event of events) {
        if (event.kind === 'usage') outcome.usage = event.usage;
        else if (event.kind !== 'finish' && event.kind !== 'error' && event.kind !== 'prompt_usage') {
          outcome.chunks++;
          if (outcome.ttfbMs === undefined) {
            outcome.ttfbMs = ctx.now() - ex.started;
            ctx.metrics.ttft.observe({ model, route: target.route, surface: ex.surface.name }, outcome.ttfbMs / 1000);
          }
        }
      }
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
    // Data frames sent, added to sidecar_stream_chunks_total once, when the stream ends (a labelled counter
    // update per upstream read costs more than the rest of the per-read bookkeeping).
    ctx.metrics.chunks.inc({ model, surface: ex.surface.name }, renderer.frames);
    ctx.metrics.inflight.dec({ surface: ex.surface.name });
  }
}

/**
 * A stream's mapper for this surface: a finish Bedrock could not read the answer of (malformed_tool_use) ends the
 * stream in an error, but on Bedrock's own API, whose clients read Bedrock's stop reason.
 */
function failuresOf(ex: Exchange, mapper: StreamMapper): StreamMapper {
  return ex.surface.keepsBedrockAnswers ? mapper : withFailedFinishes(mapper);
}

function finish({ ctx, surface: { name: surface }, outcome, log, started }: Exchange): void {
  const durationMs = ctx.now() - started;
  const model = outcome.alias ?? (outcome.modelId ? 'direct' : 'unknown');
  const route = outcome.route ?? 'none';
  const status = outcome.cancelled
    ? 'cancelled'
    : outcome.error && outcome.status === 200
      ? `200_${outcome.error.type}`
      : String(outcome.status);
  ctx.metrics.requests.inc({ model, route, status, surface });
  ctx.metrics.duration.observe({ model, route, surface }, durationMs / 1000);
  if (outcome.cancelled) ctx.metrics.cancelled.inc({ model, surface });
  if (outcome.usage) {
    ctx.metrics.tokens.inc(
      { direction: 'input', model, surface },
      outcome.usage.inputTokens + outcome.usage.cacheReadTokens + outcome.usage.cacheWriteTokens,
    );
    ctx.metrics.tokens.inc({ direction: 'output', model, surface }, outcome.usage.outputTokens);
  }
  // Every field of the request line (docs/contract.md#observability) is always there (null when the request
  // never got that far, or for a direct route the alias), so that log queries can rely on the shape.
  log.info(
    {
      surface,
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
    },
    'request completed',
  );
}
