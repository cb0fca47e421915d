/**
 * Route registration: every surface's paths on the proxy listener, in one table the router serves
 * (src/server/router.ts). Adding a surface adds one line here (see README.md beside this file).
 */
import type { RouteEntry } from '../server/surface.ts';
import { messagesRoutes } from './anthropic-messages/index.ts';
import { nativeRoute } from './bedrock-native/index.ts';
import { embeddingsRoutes } from './embeddings/index.ts';
import { modelRoutes } from './models/index.ts';
import { chatRoutes } from './openai-chat/index.ts';

export const surfaceRoutes: Readonly<Record<string, RouteEntry>> = {
  ...chatRoutes,
  ...messagesRoutes,
  ...embeddingsRoutes,
  ...modelRoutes,
};

/** A path with parameters in it (Bedrock's `/model/{modelId}/{operation}`), matched when no exact path does. */
export function surfaceRouteFor(path: string): RouteEntry | undefined {
  return nativeRoute(path);
}
