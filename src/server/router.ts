/**
 * HTTP routing for both listeners (SPEC §3). The proxy listener serves the OpenAI surface, probes and
 * metrics; the admin listener only probes and metrics, never a model call. Every answer carries
 * `x-request-id`; with `server.auth_token` set, proxy routes other than the probes need the bearer
 * token (compared in constant time). Unknown paths are 404 and wrong methods 405, both JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { SidecarError, toSidecarError } from '../errors.ts';
import type { App } from '../app.ts';
import { handleChat } from './chat.ts';
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
  if (req.rawHeaders.length / 2 > MAX_HEADERS) {
    sendError(res, new SidecarError('request_header_fields_too_large', `more than ${MAX_HEADERS} request headers`), { connection: 'close' });
    return;
  }
  const path = (req.url ?? '/').split('?')[0]!;
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (!route) {
    sendError(res, new SidecarError('not_found', `no route for ${req.method} ${path}`));
    return;
  }
  const handler = route.methods[req.method ?? ''];
  if (!handler) {
    const allow = Object.keys(route.methods).join(', ');
    sendError(res, new SidecarError('method_not_allowed', `${req.method} is not allowed on ${path} (allowed: ${allow})`), { allow });
    return;
  }
  if (proxy && route.auth && !authorized(app.config.server.authToken, req.headers.authorization)) {
    sendError(res, new SidecarError('authentication_error', 'missing or wrong bearer token (Authorization: Bearer <server.auth_token>)'),
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
  if (!header || !header.startsWith('Bearer ')) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const given = createHash('sha256').update(header.slice('Bearer '.length).trim()).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}

function health(_app: App, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

function readiness(app: App, _req: IncomingMessage, res: ServerResponse): void {
  if (app.ready && !app.draining) sendJson(res, 200, { status: 'ready' });
  else sendJson(res, 503, { status: app.draining ? 'draining' : 'starting' });
}

async function metrics(app: App, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { contentType, body } = await app.metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function models(app: App, _req: IncomingMessage, res: ServerResponse): void {
  const created = Math.floor(app.now() / 1000);
  sendJson(res, 200, {
    object: 'list',
    data: app.generation.models.list().map((m) => ({
      id: m.name,
      object: 'model',
      created,
      owned_by: m.family ?? 'bedrock',
      family: m.family ?? null,
      route: m.route,
      model_id: m.modelId,
    })),
  });
}

function chat(app: App, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> | void {
  if (app.draining) {
    sendError(res, new SidecarError('unavailable', 'the sidecar is draining and takes no new requests'), { connection: 'close' });
    return;
  }
  const generation = app.generation;
  app.active++;
  return handleChat({
    config: generation.config,
    models: generation.models,
    client: generation.client,
    guardrails: generation.guardrails,
    metrics: app.metrics,
    log: app.log,
    track: (stream) => app.track(stream),
    now: app.now,
  }, req, res, requestId).finally(() => {
    app.active--;
  });
}
