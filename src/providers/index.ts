/**
 * The family registry: which routes each family serves, and the one parameter policy every route and
 * family goes through (SPEC §5): a parameter the family cannot take is a 400 `unsupported_parameter`
 * naming it, or, with drop_params, dropped and logged at debug.
 */
import { SidecarError } from '../errors.ts';
import type { Route } from '../config/schema.ts';
import { FAMILIES, type Family } from '../models/route.ts';
import type { RouteSupport } from '../models/resolve.ts';
import { anthropic } from './anthropic.ts';
import { converseAdapter } from './converse.ts';
import type { ChatParams, ChatRequest, ParamName } from './request.ts';
import { isKnownUnsupported } from './request.ts';
import type { FamilyProvider, RouteAdapter } from './types.ts';

const PROVIDERS = new Map<Family, FamilyProvider>([[anthropic.family, anthropic]]);
for (const family of FAMILIES) {
  if (!PROVIDERS.has(family)) PROVIDERS.set(family, { family, routes: { converse: converseAdapter(family) } });
}
const OTHER_CONVERSE = converseAdapter('other');

export function adapterFor(route: Route, family: Family | undefined): RouteAdapter | undefined {
  if (family === undefined) return route === 'converse' ? OTHER_CONVERSE : undefined;
  return PROVIDERS.get(family)?.routes[route];
}

export const routeSupport: RouteSupport = {
  supports: (route, family) => adapterFor(route, family) !== undefined,
};

/**
 * Applies the family's allow-list to a request: returns the parameters that go on, having thrown for (or,
 * with dropParams, dropped) every parameter the family cannot take, including unknown ones.
 */
export function applyParamPolicy(
  request: ChatRequest,
  unknown: readonly string[],
  adapter: RouteAdapter,
  dropParams: boolean,
  describeTarget: string,
  note: (message: string) => void,
): ChatRequest {
  const kept: ChatParams = {};
  const rejected: string[] = [...unknown];
  for (const [key, value] of Object.entries(request.params) as Array<[ParamName, unknown]>) {
    if (adapter.params.has(key)) (kept as Record<string, unknown>)[key] = value;
    else rejected.push(key);
  }
  // tool_choice / parallel_tool_calls without tools configure nothing: dropped silently, never a 400.
  if (kept.tools === undefined || kept.tools.length === 0) {
    delete kept.tool_choice;
    delete kept.parallel_tool_calls;
  }
  for (const key of rejected) {
    if (key === 'tool_choice' || key === 'parallel_tool_calls') {
      if (request.params.tools === undefined) continue;
    }
    if (!dropParams) {
      const why = isKnownUnsupported(key) || request.params[key as ParamName] !== undefined
        ? `is not supported by ${describeTarget}`
        : `is not a parameter the sidecar knows`;
      throw new SidecarError('unsupported_parameter',
        `"${key}" ${why}; remove it, or set drop_params: true to drop unsupported parameters`, { param: key });
    }
    note(`parameter "${key}" dropped (drop_params): not supported by ${describeTarget}`);
  }
  return { ...request, params: kept };
}
