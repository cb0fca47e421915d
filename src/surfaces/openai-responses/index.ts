/**
 * The OpenAI Responses surface (docs/contract.md#openai-responses): `POST /v1/responses` (stream or not),
 * `POST /v1/responses/compact` (compact.ts), `GET` and `DELETE /v1/responses/{id}`. Reader: request.ts;
 * renderer and whole answer: renderer.ts; the bounded store: store.ts (one per running sidecar); errors:
 * OpenAI's JSON shape.
 *
 * The surface object is made per request: it carries what only this surface needs from the reader to the
 * renderer (the store flag, the tools' declared shapes, what the response object echoes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientNamed, errorBody, SidecarError } from '../../errors.ts';
import { randomHex } from '../../server/ids.ts';
import type { ServerContext } from '../../server/context.ts';
import { serveModelCall } from '../../server/model-call.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import {
  thinkingBlock,
  type AssistantBlockKind,
  type AssistantMessage,
  type ChatMessage,
  type ChatRequest,
  type ReasoningBlock,
} from '../../providers/request.ts';
import type { StreamEvent } from '../../pipeline/events.ts';
import type { ModelSurface, RouteEntry } from '../../server/surface.ts';
import { compactedResponse, readCompactRequest } from './compact.ts';
import { ResponsesRenderer } from './renderer.ts';
import { readResponsesRequest, type ReadOptions, type ResponsesExtras } from './request.ts';
import { ResponseStore, type StoreLimits } from './store.ts';

const stores = new WeakMap<ServerContext, ResponseStore>();

/** This sidecar's store, its limits those of the current config. */
export function storeOf(ctx: ServerContext): ResponseStore {
  const r = ctx.generation().config.responses;
  const limits: StoreLimits = { maxEntries: r.storeMaxEntries, maxBytes: r.storeMaxBytes, ttlS: r.storeTtlS };
  let store = stores.get(ctx);
  if (!store) {
    store = new ResponseStore(limits, () => ctx.now());
    stores.set(ctx, store);
  } else {
    store.setLimits(limits);
  }
  return store;
}

/** What the reader needs from the running sidecar: the store, the alias's drop_params, the debug log. */
function readOptions(ctx: ServerContext, store: ResponseStore, body: unknown, req: IncomingMessage): ReadOptions {
  const { config } = ctx.generation();
  const model = (body as { model?: unknown } | null)?.model;
  const alias = config.models.find((m) => m.name === model);
  return {
    lookup: (id) => store.get(id),
    dropBuiltIns: alias?.dropParams ?? config.dropParams,
    note: (message) => ctx.log.debug({ requestId: req.headers['x-request-id'] }, message),
  };
}

function responsesSurface(ctx: ServerContext, store: ResponseStore): ModelSurface {
  let extras: ResponsesExtras | undefined;
  const keep = (renderer: ResponsesRenderer, request: ChatRequest): void => {
    // A compaction answer is not kept: its one item is the state, and the client sends it back in `input`.
    if (!extras?.store || extras.compaction || renderer.error) return;
    const response = renderer.response();
    store.put({
      id: String(response.id),
      response,
      messages: [...request.messages, ...answerMessages(renderer)],
      reasoning: new Map(renderer.reasoning),
    });
  };
  return {
    name: 'responses',
    read(body, req: IncomingMessage) {
      const read = readResponsesRequest(body, readOptions(ctx, store, body, req));
      extras = read.extras;
      return { request: read.request, unknown: read.unknown };
    },
    newId: () => `resp_${randomHex(16)}`,
    renderer: (meta, request) => new ResponsesRenderer(meta, extras!, (r) => keep(r, request)),
    answer(events, meta, request) {
      const renderer = renderedWhole(new ResponsesRenderer(meta, extras!, (r) => keep(r, request)), events);
      if (renderer.error) return { error: renderer.error };
      return { body: renderer.response(), usage: renderer.usage };
    },
    errorBody: responsesErrorBody,
  };
}

/**
 * `POST /v1/responses/compact`: the summary request of compact.ts, answered whole as a compacted response
 * (the body is read with `stream: false`, so no renderer of a stream is ever asked for). Not stored.
 */
function compactSurface(ctx: ServerContext, store: ResponseStore): ModelSurface {
  let extras: ResponsesExtras | undefined;
  return {
    name: 'responses',
    read(body, req: IncomingMessage) {
      const read = readCompactRequest(body, readOptions(ctx, store, body, req));
      extras = read.extras;
      return { request: read.request, unknown: read.unknown };
    },
    newId: () => `resp_${randomHex(16)}`,
    renderer() {
      throw new SidecarError('internal_error', 'POST /v1/responses/compact does not stream');
    },
    answer(events, meta) {
      const renderer = renderedWhole(new ResponsesRenderer(meta, extras!), events);
      if (renderer.error) return { error: renderer.error };
      return { body: compactedResponse(renderer.response(), extras!.messages), usage: renderer.usage };
    },
    errorBody: responsesErrorBody,
  };
}

/** A whole answer: the renderer fed every event and ended (its `error`, or its response). */
function renderedWhole(renderer: ResponsesRenderer, events: readonly StreamEvent[]): ResponsesRenderer {
  renderer.push(events);
  renderer.end();
  return renderer;
}

/** The answer as the next turn's history: the assistant's text, signed reasoning and tool calls. */
function answerMessages(renderer: ResponsesRenderer): ChatMessage[] {
  const reasoning: ReasoningBlock[] = [];
  const order: AssistantBlockKind[] = [];
  const turn: AssistantMessage = { role: 'assistant', content: [], toolCalls: [], order };
  for (const item of renderer.output) {
    if (item.type === 'message') {
      const parts = item.content as Array<{ text: string }>;
      turn.content.push(...parts.map((p) => ({ type: 'text' as const, text: p.text })));
      order.push(...parts.map(() => 'text' as const));
    } else if (item.type === 'reasoning') {
      // Each reasoning item is one block, with its own signature, in the answer's order.
      const stored = renderer.reasoning.get(item.id);
      const block = stored?.redacted !== undefined ? { redacted: stored.redacted } : thinkingBlock(stored?.text, stored?.signature);
      if (block) {
        reasoning.push(block);
        order.push('reasoning');
      }
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const name = typeof item.namespace === 'string' ? `${item.namespace}__${String(item.name)}` : String(item.name);
      const args = item.type === 'function_call' ? String(item.arguments) : JSON.stringify({ input: item.input });
      turn.toolCalls.push({ id: String(item.call_id), name, arguments: args });
      order.push('tool');
    }
  }
  if (reasoning.length > 0) turn.reasoning = reasoning;
  return [turn];
}

const PREFIX = '/v1/responses/';

function idOf(req: IncomingMessage): string {
  const path = (req.url ?? '/').split('?')[0]!;
  return decodeURIComponent(path.slice(PREFIX.length));
}

function notFound(id: string): SidecarError {
  return new SidecarError(
    'not_found',
    `no stored response "${id}" in this sidecar (never stored, expired or evicted, or kept by another pod)`,
  );
}

function getStored(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const id = idOf(req);
  const stored = id.startsWith('resp_') ? storeOf(ctx).get(id) : undefined;
  if (!stored) {
    const e = notFound(id);
    sendError(res, e, errorBody(e));
    return;
  }
  sendJson(res, 200, stored.response);
}

function deleteStored(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const id = idOf(req);
  if (!id.startsWith('resp_') || !storeOf(ctx).delete(id)) {
    const e = notFound(id);
    sendError(res, e, errorBody(e));
    return;
  }
  sendJson(res, 200, { id, object: 'response', deleted: true });
}

/** The Responses spelling of the neutral parameters it names differently (`clientNamed`); `max_tokens` sent as such is named as sent. */
const CLIENT_NAMES: Readonly<Record<string, string>> = {
  reasoning_effort: 'reasoning.effort',
  max_tokens: 'max_output_tokens',
  response_format: 'text.format',
};

export function responsesErrorBody(error: SidecarError): { error: Record<string, unknown> } {
  const body = errorBody(error, 'input');
  const named = clientNamed(error, CLIENT_NAMES);
  return named === undefined ? body : { error: { ...body.error, ...named } };
}

const surfaceInfo = { name: 'responses' as const, errorBody: responsesErrorBody };

export const responsesRoutes: Record<string, RouteEntry> = {
  '/v1/responses': {
    methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, responsesSurface(ctx, storeOf(ctx)), req, res, requestId) },
    auth: true,
    surface: surfaceInfo,
    refuseWhileDraining: true,
  },
  '/v1/responses/compact': {
    methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, compactSurface(ctx, storeOf(ctx)), req, res, requestId) },
    auth: true,
    surface: surfaceInfo,
    refuseWhileDraining: true,
  },
  '/responses': {
    methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, responsesSurface(ctx, storeOf(ctx)), req, res, requestId) },
    auth: true,
    surface: surfaceInfo,
    refuseWhileDraining: true,
  },
  '/responses/compact': {
    methods: { POST: (ctx, req, res, requestId) => serveModelCall(ctx, compactSurface(ctx, storeOf(ctx)), req, res, requestId) },
    auth: true,
    surface: surfaceInfo,
    refuseWhileDraining: true,
  },
};

/** `/v1/responses/{id}`: served by prefix (src/surfaces/index.ts). */
export const responsesByIdRoute: RouteEntry = {
  methods: { GET: getStored, DELETE: deleteStored },
  auth: true,
  surface: surfaceInfo,
  lookup: true,
};
export const RESPONSES_BY_ID_PREFIX = PREFIX;
