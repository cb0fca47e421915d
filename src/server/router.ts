/**
 * HTTP routing for both listeners (docs/contract.md#surfaces). The proxy listener serves the OpenAI surface, probes and
 * metrics; the admin listener only probes and metrics, never a model call. Every answer carries
 * `x-request-id`; with `server.auth_token` set, proxy routes other than the probes need the bearer
 * token (compared in constant time). Unknown paths are 404 and wrong methods 405, both JSON.
 *
 * Every request the router itself turns away (401, 404, 405, 431, 503 while draining) still gets its
 * one `request completed` log line (docs/contract.md#observability), and one on the chat path also counts in
 * `sidecar_requests_total` (model `unknown`, route `none`). Probes and scrapes that succeed are not
 * logged: the kubelet calls them every few seconds. While draining, chat and the model list answer 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { SidecarError, toSidecarError } from '../errors.ts';
import type { App } from '../app.ts';
import { parseRoute } from '../models/route.ts';
import { handleChat } from './chat.ts';
import { handleEmbeddings } from '../surfaces/embeddings/handler.ts';
import { sendError, sendJson } from './respond.ts';

type Handler = (app: App, req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> | void;

interface RouteEntry { methods: Record<string, Handler>; auth: boolean }

const probes: Record<string, RouteEntry> = {
  '/healthz': { methods: { GET: health, HEAD: health }, auth: false },
  '/readyz': { methods: { GET: readiness, HEAD: readiness }, auth: false },
  '/metrics': { methods: { GET: metrics }, auth: true },
};

const proxyRoutes: Record<string, RouteEntry> = {
  ...probes,
  '/v1/chat/completions': { methods: { POST: chat }, auth: true },
  '/chat/completions': { methods: { POST: chat }, auth: true },
  '/v1/embeddings': { methods: { POST: embeddings }, auth: true },
  '/embeddings': { methods: { POST: embeddings }, auth: true },
  '/v1/models': { methods: { GET: models }, auth: true },
  '/models': { methods: { GET: models }, auth: true },
};

const adminRoutes: Record<string, RouteEntry> = {
  ...probes,
  '/metrics': { methods: { GET: metrics }, auth: false },
};

export function handleProxy(app: App, req: IncomingMessage, res: ServerResponse): void {
  dispatch(app, proxyRoutes, req, res, true);
}

export function handleAdmin(app: App, req: IncomingMessage, res: ServerResponse): void {
  dispatch(app, adminRoutes, req, res, false);
}

/** Most request headers accepted; more is a 431 (the header block's size is bounded by Node: 16 KiB). */
export const MAX_HEADERS = 100;

function dispatch(app: App, routes: Record<string, RouteEntry>, req: IncomingMessage, res: ServerResponse, proxy: boolean): void {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  const path = (req.url ?? '/').split('?')[0]!;
  const reject = (error: SidecarError, headers?: Record<string, string>): void => {
    sendError(res, error, headers);
    rejected(app, req, path, requestId, error);
  };
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400 (Node's own answer to it has no body).
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    reject(new SidecarError('invalid_request_error', 'an HTTP/1.1 request needs a Host header'), { connection: 'close' });
    return;
  }
  if (req.rawHeaders.length / 2 > MAX_HEADERS) {
    reject(new SidecarError('request_header_fields_too_large', `more than ${MAX_HEADERS} request headers`), { connection: 'close' });
    return;
  }
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (!route) {
    reject(new SidecarError('not_found', `no route for ${req.method} ${path}`));
    return;
  }
  const handler = route.methods[req.method ?? ''];
  if (!handler) {
    const allow = Object.keys(route.methods).join(', ');
    reject(new SidecarError('method_not_allowed', `${req.method} is not allowed on ${path} (allowed: ${allow})`), { allow });
    return;
  }
  if (proxy && route.auth && !authorized(app.config.server.authToken, req.headers.authorization)) {
    reject(new SidecarError('authentication_error', 'missing or wrong bearer token (Authorization: Bearer <server.auth_token>)'),
      { 'www-authenticate': 'Bearer' });
    return;
  }
  let result: Promise<void> | void;
  try {
    result = handler(app, req, res, requestId);
  } catch (error) {
    fail(app, res, error);
    return;
  }
  if (result) result.catch((error: unknown) => fail(app, res, error));
}

/** Paths whose turned-away requests still count in sidecar_requests_total (model calls, every surface). */
/** A request turned away before routing (an Expect the server does not meet): the JSON error, logged. */
export function refuseRequest(app: App, req: IncomingMessage, res: ServerResponse, error: SidecarError, headers?: Record<string, string>): void {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  sendError(res, error, headers);
  rejected(app, req, (req.url ?? '/').split('?')[0]!, requestId, error);
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions', '/v1/embeddings', '/embeddings']);

/** docs/contract.md#operations: once draining, new requests get 503 (probes and scrapes still answer). */
function refuseWhileDraining(app: App, req: IncomingMessage, requestId: string, res: ServerResponse): void {
  const error = new SidecarError('unavailable', 'the sidecar is draining and takes no new requests');
  sendError(res, error, { connection: 'close' });
  rejected(app, req, (req.url ?? '/').split('?')[0]!, requestId, error);
}

/** The fields (docs/contract.md#observability) of a request line for a request no model work was done for (same shape as chat's). */
export const UNSERVED_FIELDS = {
  alias: null, modelId: null, route: null, ttfbMs: null, durationMs: 0, chunks: 0,
  inputTokens: null, outputTokens: null, guardrail: 'none', retries: 0, cancelled: false,
} as const;

/** The log line (and, on the chat path, the request count) of a request turned away before any handler. */
function rejected(app: App, req: IncomingMessage, path: string, requestId: string, error: SidecarError): void {
  if (CHAT_PATHS.has(path)) app.metrics.requests.inc({ model: 'unknown', route: 'none', status: String(error.status) });
  app.log.info({
    requestId,
    ...UNSERVED_FIELDS,
    method: req.method,
    path,
    status: error.status,
    error: { type: error.type, message: error.message },
  }, 'request completed');
}

function fail(app: App, res: ServerResponse, error: unknown): void {
  app.log.error({ err: error }, 'unhandled error in a request');
  if (!res.headersSent) sendError(res, toSidecarError(error));
  else res.destroy();
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function authorized(token: string, header: string | undefined): boolean {
  if (token === '') return true;
  // The scheme is case-insensitive (RFC 9110 §11.1), the token is not.
  const match = /^bearer +(.*)$/i.exec(header ?? '');
  if (!match) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const given = createHash('sha256').update(match[1]!.trim()).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

function health(_app: App, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

function readiness(app: App, _req: IncomingMessage, res: ServerResponse): void {
  const { ready, ...body } = app.readiness();
  sendJson(res, ready ? 200 : 503, body);
}

async function metrics(app: App, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { contentType, body } = await app.metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function models(app: App, req: IncomingMessage, res: ServerResponse, requestId: string): void {
  if (app.draining) {
    refuseWhileDraining(app, req, requestId, res);
    return;
  }
  const created = Math.floor(app.now() / 1000);
  const { config, models: registry } = app.generation;
  const served = new Map(registry.list().map((m) => [m.name, m]));
  sendJson(res, 200, {
    object: 'list',
    // Every configured alias, in file order: one that waits for a provider: or a region (requests to it
    // answer 400 saying what to set) is listed too, with what the file says about it.
    data: config.models.map((alias) => {
      const m = served.get(alias.name);
      const route = m ? { route: m.route, modelId: m.modelId } : parsedOrNull(alias.model);
      return {
        id: alias.name,
        object: 'model',
        created,
        owned_by: m?.family ?? 'bedrock',
        family: m?.family ?? null,
        route: route?.route ?? null,
        model_id: route?.modelId ?? null,
      };
    }),
  });
}

function parsedOrNull(routeString: string): { route: string; modelId: string } | undefined {
  try {
    return parseRoute(routeString);
  } catch {
    return undefined;
  }
}

/**
 * Load shedding (docs/contract.md#failover-and-overload): at most `server.max_inflight` model requests at
 * once, over every surface; the next one is answered 503 `overloaded` at once, with `retry-after`, rather
 * than queued. Requests in flight are untouched.
 */
function admit(app: App): SidecarError | undefined {
  const max = app.config.server.maxInflight;
  if (app.active < max) return undefined;
  return new SidecarError('overloaded', `the sidecar is serving server.max_inflight (${max}) requests already; retry shortly`,
    { retryAfterS: 1 });
}

function chat(app: App, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> | void {
  if (app.draining) {
    refuseWhileDraining(app, req, requestId, res);
    return;
  }
  const generation = app.generation;
  const overload = admit(app);
  if (overload) {
    sendError(res, overload);
    rejected(app, req, (req.url ?? '/').split('?')[0]!, requestId, overload);
    return;
  }
  app.active++;
  return handleChat({
    config: generation.config,
    models: generation.models,
    client: generation.client,
    guardrails: generation.guardrails,
    failover: generation.failover,
    metrics: app.metrics,
    log: app.log,
    track: (stream) => app.track(stream),
    now: app.now,
    budget: app.budget,
  }, req, res, requestId).finally(() => {
    app.active--;
  });
}

function embeddings(app: App, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> | void {
  if (app.draining) {
    refuseWhileDraining(app, req, requestId, res);
    return;
  }
  const generation = app.generation;
  app.active++;
  return handleEmbeddings({
    config: generation.config,
    models: generation.models,
    client: generation.client,
    guardrails: generation.guardrails,
    metrics: app.metrics,
    log: app.log,
    now: app.now,
    budget: app.budget,
  }, req, res, requestId).finally(() => {
    app.active--;
  });
}
