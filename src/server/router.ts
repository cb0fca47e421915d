/**
 * HTTP routing for both listeners (docs/contract.md#surfaces). The proxy listener serves every surface's
 * paths (registered in src/surfaces/index.ts), probes and metrics; the admin listener only probes and
 * metrics, never a model call. Every answer carries `x-request-id`; with `server.auth_token` set, proxy
 * routes other than the probes need the bearer token (compared in constant time). Unknown paths are 404
 * and wrong methods 405, both JSON, in the path's surface's error shape: an unknown path in a surface's
 * namespace (Bedrock Runtime's `/model/…`, Anthropic's `/v1/messages/…`) takes that surface's, any other OpenAI's.
 *
 * Every request the router itself turns away (401, 404, 405, 431, 503 while draining) still gets its
 * one `request completed` log line (docs/contract.md#observability), and one on a surface's path also
 * counts in `sidecar_requests_total` (model `unknown`, route `none`). A request a handler answers without
 * model work (a lookup, a model list) gets its line when its response ends (`logAnswered`). Probes and
 * scrapes that succeed are not logged: the kubelet calls them every few seconds. While draining, model calls and the model list
 * answer 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { errorBody, SidecarError, toSidecarError } from '../errors.ts';
import { surfaceOwning, surfaceRouteFor, surfaceRoutes } from '../surfaces/index.ts';
import type { ServerContext } from './context.ts';
import { errorAnswered, sendError, sendJson } from './respond.ts';
import type { RouteEntry } from './surface.ts';
import { own } from '../own.ts';

const probes: Record<string, RouteEntry> = {
  '/healthz': { methods: { GET: health, HEAD: health }, auth: false, quiet: true },
  '/readyz': { methods: { GET: readiness, HEAD: readiness }, auth: false, quiet: true },
  '/metrics': { methods: { GET: metrics }, auth: true, quiet: true },
};

const proxyRoutes: Record<string, RouteEntry> = {
  ...probes,
  ...surfaceRoutes,
};

const adminRoutes: Record<string, RouteEntry> = {
  ...probes,
  '/metrics': { methods: { GET: metrics }, auth: false, quiet: true },
};

export function handleProxy(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  dispatch(ctx, proxyRoutes, req, res, true);
}

export function handleAdmin(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  dispatch(ctx, adminRoutes, req, res, false);
}

/** Most request headers accepted; more is a 431 (the header block's size is bounded by Node: 16 KiB). */
export const MAX_HEADERS = 100;

function dispatch(ctx: ServerContext, routes: Record<string, RouteEntry>, req: IncomingMessage, res: ServerResponse, proxy: boolean): void {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  const path = (req.url ?? '/').split('?')[0]!;
  const route = own(routes, path) ?? prefixRoute(routes, path) ?? (proxy ? surfaceRouteFor(path) : undefined);
  // A path no route serves may still lie in a surface's namespace: its refusal takes that surface's shape.
  const surface = route ? route.surface : proxy ? surfaceOwning(path) : undefined;
  // Bedrock names every answer with x-amzn-RequestId, which the AWS SDK reads into $metadata.requestId.
  if (surface?.name === 'native') res.setHeader('x-amzn-requestid', requestId);
  // Anthropic's API names every answer with request-id, which the Anthropic SDKs report as `_request_id` and put in
  // every error they raise ("request_id: …"): what a Claude Code or SDK user quotes is then greppable in our logs.
  else if (surface?.name === 'messages') res.setHeader('request-id', requestId);
  const shape = route?.errorShapeFor?.(req) ?? surface;
  const reject = (error: SidecarError, headers?: Record<string, string>): void => {
    sendError(res, error, (shape?.errorBody ?? errorBody)(error), { ...headers, ...shape?.errorHeaders?.(error) });
    rejected(ctx, req, path, surface, requestId, error);
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
  if (proxy && route.auth && !authorized(ctx.generation().config.server.authToken, req.headers.authorization, req.headers['x-api-key'])) {
    reject(
      new SidecarError(
        'authentication_error',
        'missing or wrong token (Authorization: Bearer <server.auth_token>, or x-api-key: <server.auth_token>)',
      ),
      { 'www-authenticate': 'Bearer' },
    );
    return;
  }
  // The drain (docs/contract.md#operations): new model requests and lists get 503; probes still answer.
  if (route.refuseWhileDraining && ctx.draining()) {
    reject(new SidecarError('unavailable', 'the sidecar is draining and takes no new requests'), { connection: 'close' });
    return;
  }
  const modelWork = route.surface !== undefined && route.lookup !== true;
  const overload = modelWork ? admit(ctx) : undefined;
  if (overload) {
    reject(overload);
    return;
  }
  // A model request writes its own line when it ends; a lookup or a model list gets it here.
  if (!modelWork && !route.quiet) logAnswered(ctx, req, res, path, route.surface, requestId);
  // A model request counts for the drain from its first byte read to its last written.
  const end = modelWork ? ctx.begin() : undefined;
  let result: Promise<void> | void;
  try {
    result = handler(ctx, req, res, requestId);
  } catch (error) {
    end?.();
    fail(ctx, res, error);
    return;
  }
  if (result) {
    result.catch((error: unknown) => fail(ctx, res, error)).finally(() => end?.());
  } else {
    end?.();
  }
}

/** The entry whose prefix key the path extends (the longest), if any. */
function prefixRoute(routes: Record<string, RouteEntry>, path: string): RouteEntry | undefined {
  let best: string | undefined;
  for (const [key, entry] of Object.entries(routes)) {
    if (entry.prefix && path.length > key.length && path.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : routes[best];
}

/**
 * Load shedding (docs/contract.md#failover-and-overload): at most `server.max_inflight` model requests at
 * once, over every surface; the next one is answered 503 `overloaded` at once, with `retry-after`, rather
 * than queued. Requests in flight are untouched.
 */
function admit(ctx: ServerContext): SidecarError | undefined {
  const max = ctx.generation().config.server.maxInflight;
  if (ctx.active() < max) return undefined;
  return new SidecarError('overloaded', `the sidecar is serving server.max_inflight (${max}) requests already; retry shortly`, {
    retryAfterS: 1,
  });
}

/** A request turned away before routing (an Expect the server does not meet): the JSON error, logged. */
export function refuseRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  error: SidecarError,
  headers?: Record<string, string>,
): void {
  const requestId = requestIdOf(req);
  res.setHeader('x-request-id', requestId);
  sendError(res, error, errorBody(error), headers);
  rejected(ctx, req, (req.url ?? '/').split('?')[0]!, undefined, requestId, error);
}

/** The fields of a request line for a request no model work was done for (same shape as a model call's). */
export const UNSERVED_FIELDS = {
  surface: null,
  alias: null,
  modelId: null,
  route: null,
  servedBy: null,
  ttfbMs: null,
  durationMs: 0,
  chunks: 0,
  inputTokens: null,
  outputTokens: null,
  guardrail: 'none',
  retries: 0,
  cancelled: false,
} as const;

/** The log line (and, on a surface's path, the request count) of a request turned away before any handler. */
function rejected(
  ctx: ServerContext,
  req: IncomingMessage,
  path: string,
  surface: RouteEntry['surface'],
  requestId: string,
  error: SidecarError,
): void {
  if (surface) ctx.metrics.requests.inc({ model: 'unknown', route: 'none', status: String(error.status), surface: surface.name });
  logUnserved(ctx, req, path, surface, requestId, { status: error.status, error });
}

/**
 * The one log line of a request a handler answers without model work (an inference-profile or stored-response
 * lookup, a model list), written when its response ends — the status whatever it was.
 */
function logAnswered(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  surface: RouteEntry['surface'],
  requestId: string,
): void {
  const started = ctx.now();
  res.once('close', () => {
    logUnserved(ctx, req, path, surface, requestId, {
      status: res.statusCode,
      durationMs: ctx.now() - started,
      cancelled: !res.writableFinished,
      error: errorAnswered(res),
    });
  });
}

/** The request line of a request no model work was done for: `UNSERVED_FIELDS` with what this one had. */
function logUnserved(
  ctx: ServerContext,
  req: IncomingMessage,
  path: string,
  surface: RouteEntry['surface'],
  requestId: string,
  answer: { status: number; durationMs?: number; cancelled?: boolean; error: SidecarError | undefined },
): void {
  const { error, ...rest } = answer;
  ctx.log.info(
    {
      requestId,
      ...UNSERVED_FIELDS,
      surface: surface?.name ?? null,
      method: req.method,
      path,
      ...rest,
      error: error ? { type: error.type, message: error.message } : null,
    },
    'request completed',
  );
}

function fail(ctx: ServerContext, res: ServerResponse, error: unknown): void {
  ctx.log.error({ err: error }, 'unhandled error in a request');
  if (!res.headersSent) {
    const e = toSidecarError(error);
    sendError(res, e, errorBody(e));
  } else res.destroy();
}

/** A client's id is kept when it is printable ASCII (spaces inside allowed: Node trims the ends) and bounded for the log. */
const REQUEST_ID = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Bearer (every SDK) or `x-api-key` (what Anthropic clients send), on every surface. */
function authorized(token: string, header: string | undefined, apiKey: string | string[] | undefined): boolean {
  if (token === '') return true;
  // The scheme is case-insensitive (RFC 9110 §11.1), the token is not.
  const match = /^bearer +(.*)$/i.exec(header ?? '');
  const presented = match ? match[1]!.trim() : typeof apiKey === 'string' ? apiKey.trim() : undefined;
  if (presented === undefined) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const given = createHash('sha256').update(presented).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

function health(_ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

function readiness(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): void {
  const { ready, ...body } = ctx.readiness();
  sendJson(res, ready ? 200 : 503, body);
}

async function metrics(ctx: ServerContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { contentType, body } = await ctx.metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
