/**
 * Route registration: every surface's paths on the proxy listener, in one table the router serves
 * (src/server/router.ts). Adding a surface adds one line here (see README.md beside this file).
 */
import type { RouteEntry } from '../server/surface.ts';
import { messagesRoutes, messagesSurface } from './anthropic-messages/index.ts';
import { nativeRoute, nativeUnserved } from './bedrock-native/index.ts';
import { embeddingsRoutes } from './embeddings/index.ts';
import { modelRoutes } from './models/index.ts';
import { chatRoutes } from './openai-chat/index.ts';
import { RESPONSES_BY_ID_PREFIX, responsesByIdRoute, responsesRoutes } from './openai-responses/index.ts';

export const surfaceRoutes: Readonly<Record<string, RouteEntry>> = {
  ...chatRoutes,
  ...responsesRoutes,
  ...messagesRoutes,
  ...embeddingsRoutes,
  ...withErrorShape(modelRoutes, (req) => (req.headers['anthropic-version'] === undefined ? undefined : messagesSurface)),
};

/**
 * The model lists answer an Anthropic client (it sends `anthropic-version`) in Anthropic's shape: their
 * refusals by the router (401, 405, 503 while draining) take that client's error shape too.
 */
function withErrorShape(routes: Record<string, RouteEntry>, errorShapeFor: RouteEntry['errorShapeFor']): Record<string, RouteEntry> {
  return Object.fromEntries(Object.entries(routes).map(([path, entry]) => [path, { ...entry, errorShapeFor }]));
}

/**
 * A path with parameters in it (Bedrock's `/model/{modelId}/{operation}`, `/v1/responses/{id}`), matched
 * when no exact path does.
 */
export function surfaceRouteFor(path: string): RouteEntry | undefined {
  if (
    path.startsWith(RESPONSES_BY_ID_PREFIX) &&
    path.length > RESPONSES_BY_ID_PREFIX.length &&
    !path.includes('/', RESPONSES_BY_ID_PREFIX.length)
  ) {
    return responsesByIdRoute;
  }
  return nativeRoute(path);
}

/** Anthropic's namespace under `/v1/messages` (count_tokens is the one path served there). */
const MESSAGES_PREFIX = '/v1/messages/';

/**
 * The error shape of the surface whose namespace holds a path no route serves (Bedrock Runtime's
 * `/model/{modelId}/frob`, Anthropic's `/v1/messages/frob`), so the router's 404 speaks that surface's
 * protocol; undefined elsewhere (OpenAI's).
 */
export function surfaceOwning(path: string): RouteEntry['surface'] {
  if (path.startsWith(MESSAGES_PREFIX)) return messagesSurface;
  return nativeUnserved(path);
}
