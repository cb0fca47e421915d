/**
 * The model list (docs/contract.md#surfaces): `GET /v1/models` (and `/models`), every configured alias in
 * file order, in OpenAI's list shape.
 */
import type { ServerResponse } from 'node:http';
import { parseRoute } from '../../models/route.ts';
import type { ServerContext } from '../../server/context.ts';
import { sendJson } from '../../server/respond.ts';
import type { RouteEntry } from '../../server/surface.ts';

function list(ctx: ServerContext, res: ServerResponse): void {
  const created = Math.floor(ctx.now() / 1000);
  const { config, models: registry } = ctx.generation();
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

const entry: RouteEntry = {
  methods: { GET: (ctx, _req, res) => list(ctx, res) },
  auth: true,
  refuseWhileDraining: true,
};

export const modelRoutes: Record<string, RouteEntry> = {
  '/v1/models': entry,
  '/models': entry,
};
