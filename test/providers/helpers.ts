/** Shared by the provider tests: a ModelTarget for a route and model id, as the registry would build it. */
import type { Route } from '../../src/config/schema.ts';
import { inspectModelId } from '../../src/models/route.ts';
import type { ModelTarget } from '../../src/models/resolve.ts';

export function targetFor(c: { route: Route; modelId: string }, alias?: ModelTarget['alias']): ModelTarget {
  return {
    name: c.modelId,
    alias,
    route: c.route,
    modelId: c.modelId,
    family: inspectModelId(c.modelId).family,
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    apiKey: undefined,
  };
}
