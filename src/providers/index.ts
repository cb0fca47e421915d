/**
 * The family registry: which routes each family serves, and the one parameter policy every route and
 * family goes through (docs/contract.md#parameters): a parameter the family cannot take is a 400
 * `unsupported_parameter` naming it, or, with drop_params, dropped and logged at debug.
 */
import { SidecarError } from '../errors.ts';
import type { Route } from '../config/schema.ts';
import { CHAT_FAMILIES, isEmbeddingFamily, type Family } from '../models/route.ts';
import type { RouteSupport } from '../models/resolve.ts';
import { ai21 } from './ai21.ts';
import { anthropic } from './anthropic.ts';
import { cohere } from './cohere.ts';
import { converseAdapter } from './converse.ts';
import { checkEmbeddingAlias } from './embeddings/index.ts';
import { deepseek } from './deepseek.ts';
import { llama } from './llama.ts';
import { mistral } from './mistral.ts';
import { moonshot } from './moonshot.ts';
import { nova } from './nova.ts';
import { openai } from './openai.ts';
import { preparePromptCache } from './caching.ts';
import { prepareDocuments } from './documents.ts';
import { isHintValue } from './hints.ts';
import { checkExtraFields, disallowedExtraField } from './policy.ts';
import { qwen } from './qwen.ts';
import { titan } from './titan.ts';
import type { ChatParams, ChatRequest, ParamName } from './request.ts';
import { isKnownUnsupported } from './request.ts';
import type { FamilyProvider, RouteAdapter } from './types.ts';

/**
 * Today's request rules every body builder relies on (docs/contract.md#request-rules), applied once before
 * any family builds its body: documents the model can read on this route, prompt-cache points it can take
 * (with Bedrock's limits). A builder then renders what it is given and never sees what it cannot render.
 */
function withRequestRules(adapter: RouteAdapter): RouteAdapter {
  return {
    ...adapter,
    buildBody: (request, ctx) => {
      const documents = prepareDocuments(request, ctx.target.family, ctx.target.route);
      return adapter.buildBody(preparePromptCache(documents, ctx), ctx);
    },
  };
}

function withRules(provider: FamilyProvider): FamilyProvider {
  const routes: FamilyProvider['routes'] = {};
  for (const [route, adapter] of Object.entries(provider.routes) as Array<[Route, RouteAdapter]>) routes[route] = withRequestRules(adapter);
  return { family: provider.family, routes };
}

const PROVIDERS = new Map<Family, FamilyProvider>(
  [anthropic, nova, titan, llama, mistral, cohere, ai21, deepseek, openai, qwen, moonshot].map((p) => [p.family, withRules(p)]),
);
for (const family of CHAT_FAMILIES) {
  if (!PROVIDERS.has(family)) PROVIDERS.set(family, withRules({ family, routes: { converse: converseAdapter(family) } }));
}
const OTHER_CONVERSE = withRequestRules(converseAdapter('other'));

export function adapterFor(route: Route, family: Family | undefined): RouteAdapter | undefined {
  if (family === undefined) return route === 'converse' ? OTHER_CONVERSE : undefined;
  return PROVIDERS.get(family)?.routes[route];
}

export const routeSupport: RouteSupport = {
  // Embedding models answer InvokeModel only (Converse generates text).
  supports: (route, family) => (isEmbeddingFamily(family) ? route === 'invoke' : adapterFor(route, family) !== undefined),
  checkAlias: (route, family, alias) => {
    const embedding = checkEmbeddingAlias(family, alias);
    if (embedding) return embedding;
    const adapter = adapterFor(route, family);
    const fields = alias.additionalModelRequestFields;
    if (!adapter || !fields) return undefined;
    const problem = checkExtraFields(fields, adapter.extraFields, `${family ?? 'this model'} on the ${route} route`);
    const key = disallowedExtraField(fields, adapter.extraFields);
    if (!problem || key === undefined) return undefined;
    // The key path goes in front of the message (models[2].additional_model_request_fields.top_k: …).
    return { path: ['additional_model_request_fields', key], message: problem.replace(/^additional_model_request_fields: /, '') };
  },
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
  if (request.params.n !== undefined) {
    // n > 1 (n: 1 never gets here): no family can take it, whatever its own body allows, since an answer
    // here is always one choice.
    const why = 'must be 1: Bedrock returns one choice per request';
    if (!dropParams) {
      throw new SidecarError('unsupported_parameter', `"n" ${why}; remove it, or set drop_params: true to drop unsupported parameters`, { param: 'n' });
    }
    note(`parameter "n" dropped (drop_params): ${why}`);
  }
  for (const [key, value] of Object.entries(request.params) as Array<[ParamName, unknown]>) {
    if (key === 'n') continue;
    // Every family on every route takes a service tier (converse serviceTier, invoke header: serving.ts).
    if (key === 'service_tier') {
      kept.service_tier = request.params.service_tier;
      continue;
    }
    if (adapter.params.has(key)) (kept as Record<string, unknown>)[key] = value;
    else rejected.push(key);
  }
  // tool_choice / parallel_tool_calls without tools configure nothing: dropped silently, never a 400.
  if (kept.tools === undefined || kept.tools.length === 0) {
    delete kept.tool_choice;
    delete kept.parallel_tool_calls;
  }
  for (const hint of request.hints ?? []) note(hint);
  for (const key of rejected) {
    if (key === 'tool_choice' || key === 'parallel_tool_calls') {
      if (request.params.tools === undefined) continue;
    }
    // seed, and penalties of 0, ask nothing a family without them must honour: hints (hints.ts).
    if (isHintValue(key, request.params[key as ParamName])) {
      note(`parameter "${key}" dropped: ${describeTarget} has no such setting, and this value asks for nothing it must honour`);
      continue;
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
