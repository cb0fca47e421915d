/**
 * The model lists (docs/contract.md#surfaces): `GET /v1/models` (and `/models`), every configured alias in
 * file order, and `GET /v1/models/{id}`, one of them (404 for an id no alias has). OpenAI's shape, or
 * Anthropic's when the request carries an `anthropic-version` header (what Anthropic clients send):
 * `{type: "model", id, display_name, created_at}` entries, `has_more`, `first_id`, `last_id`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, SidecarError } from '../../errors.ts';
import type { ModelAliasConfig } from '../../config/schema.ts';
import { parseRoute } from '../../models/route.ts';
import type { ServerContext } from '../../server/context.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import type { RouteEntry } from '../../server/surface.ts';

type Entry = (alias: ModelAliasConfig) => Record<string, unknown>;

function entries(ctx: ServerContext, req: IncomingMessage): { anthropic: boolean; aliases: readonly ModelAliasConfig[]; entry: Entry } {
  const now = ctx.now();
  const created = Math.floor(now / 1000);
  const { config, models: registry } = ctx.generation();
  const served = new Map(registry.list().map((m) => [m.name, m]));
  const anthropic = req.headers['anthropic-version'] !== undefined;
  const entry: Entry = anthropic
    ? (alias) => ({ type: 'model', id: alias.name, display_name: alias.name, created_at: new Date(created * 1000).toISOString() })
    : (alias) => {
        // An alias that waits for a provider: or a region (requests to it answer 400 saying what to set) is
        // listed too, with what the file says about it.
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
      };
  return { anthropic, aliases: config.models, entry };
}

function list(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const { anthropic, aliases, entry } = entries(ctx, req);
  const data = aliases.map(entry);
  if (anthropic) {
    sendJson(res, 200, { data, has_more: false, first_id: aliases[0]?.name ?? null, last_id: aliases.at(-1)?.name ?? null });
  } else {
    sendJson(res, 200, { object: 'list', data });
  }
}

function one(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  let id: string;
  try {
    id = decodeURIComponent(path.slice('/v1/models/'.length));
  } catch {
    id = path.slice('/v1/models/'.length);
  }
  const { anthropic, aliases, entry } = entries(ctx, req);
  const alias = aliases.find((a) => a.name === id);
  if (alias) {
    sendJson(res, 200, entry(alias));
    return;
  }
  // The unknown model of every other answer (docs/contract.md#streaming-and-errors): 404 model_not_found.
  const error = new SidecarError('model_not_found', `no model "${id}" is configured`, { param: 'model' });
  sendError(res, error, anthropic ? { type: 'error', error: { type: 'not_found_error', message: error.message } } : errorBody(error));
}

function parsedOrNull(routeString: string): { route: string; modelId: string } | undefined {
  try {
    return parseRoute(routeString);
  } catch {
    return undefined;
  }
}

const listEntry: RouteEntry = {
  methods: { GET: (ctx, req, res) => list(ctx, req, res) },
  auth: true,
  refuseWhileDraining: true,
};

export const modelRoutes: Record<string, RouteEntry> = {
  '/v1/models': listEntry,
  '/models': listEntry,
  '/v1/models/': { methods: { GET: (ctx, req, res) => one(ctx, req, res) }, auth: true, refuseWhileDraining: true, prefix: true },
};
