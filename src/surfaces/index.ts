/**
 * Route registration: every surface's paths on the proxy listener, in one table the router serves
 * (src/server/router.ts). Adding a surface adds one line here (see README.md beside this file).
 */
import { errorBody } from '../errors.ts';
import type { RouteEntry } from '../server/surface.ts';
import { handleEmbeddings } from './embeddings/handler.ts';
import { nativeRoute } from './bedrock-native/index.ts';
import { modelRoutes } from './models/index.ts';
import { chatRoutes } from './openai-chat/index.ts';

const embeddings: RouteEntry = {
  methods: {
    POST: (ctx, req, res, requestId) => {
      const { config, models, client, guardrails } = ctx.generation();
      return handleEmbeddings({
        config, models, client, guardrails, metrics: ctx.metrics, log: ctx.log, now: () => ctx.now(), budget: ctx.budget,
      }, req, res, requestId);
    },
  },
  auth: true,
  surface: { name: 'embeddings', errorBody },
  refuseWhileDraining: true,
};

export const surfaceRoutes: Readonly<Record<string, RouteEntry>> = {
  ...chatRoutes,
  '/v1/embeddings': embeddings,
  '/embeddings': embeddings,
  ...modelRoutes,
};

/** A path with parameters in it (Bedrock's `/model/{modelId}/{operation}`), matched when no exact path does. */
export function surfaceRouteFor(path: string): RouteEntry | undefined {
  return nativeRoute(path);
}
