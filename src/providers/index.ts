/**
 * The routes each family of the registry (families.ts) serves, and the one parameter policy every route and
 * family goes through (docs/contract.md#parameters): a parameter the family cannot take is a 400
 * `unsupported_parameter` naming it, or, with drop_params, dropped and logged at debug.
 */
import { SidecarError } from '../errors.ts';
import type { Route } from '../config/schema.ts';
import type { RouteSupport } from '../models/resolve.ts';
import { isEmbeddingFamily, parseRoute } from '../models/route.ts';
import { converseAdapter, flagFor, UNKNOWN_FAMILY_TRAITS } from './converse.ts';
import { checkEmbeddingAlias } from './embeddings/index.ts';
import { preparePromptCache } from './caching.ts';
import { prepareDocuments } from './documents.ts';
import { ownMessagesBody } from './anthropic-native.ts';
import { FAMILY_SPECS, type Family } from './families.ts';
import { isHintValue } from './hints.ts';
import { relabelImages } from './image-format.ts';
import { limitMedia, mediaRule } from './media-limit.ts';
import { checkExtraFields, checkToolResults, disallowedExtraField, withoutBlankStops } from './policy.ts';
import type { ChatParams, ChatRequest, ParamName } from './request.ts';
import { isKnownUnsupported, sendsOwnBody } from './request.ts';
import { aliasToolIds } from './tool-ids.ts';
import { renameTools } from './tool-names.ts';
import type { CacheSupport, RouteAdapter } from './types.ts';

/**
 * Today's request rules every body builder relies on (docs/contract.md#request-rules), applied once before
 * any family builds its body: documents the model can read on this route, tool results beyond text only where
 * the route takes them (`checkToolResults`; a tool's images moved beside its result for a model that reads images
 * only in a user turn), prompt-cache points it can take
 * (with Bedrock's limits), tool names it can carry (renamed, the caller told how to name them back: a client's
 * own InvokeModel body keeps its own), tool-call ids it can carry (tool-ids.ts: replaced in calls and results alike), images labelled as their bytes are (image-format.ts), no more images and
 * documents than the model takes (media-limit.ts). A builder then renders what it is given and never sees what it cannot render.
 */
function withRequestRules(adapter: RouteAdapter, caching?: (modelId: string) => CacheSupport | undefined): RouteAdapter {
  return {
    ...adapter,
    buildBody: (request, ctx) => {
      const { family, route, modelId } = ctx.target;
      const what = `${family ?? 'this model'} on the ${route} route`;
      const drop = ctx.dropsToolResultParts === true ? (message: string) => ctx.note(message) : undefined;
      // A model that reads images in a user turn gets a tool's images there, beside the result (policy.ts).
      const beside = flagFor(adapter.userImages, modelId) ? (message: string) => ctx.note(message) : undefined;
      const results = checkToolResults(request, flagFor(adapter.richToolResults, modelId), what, drop, beside);
      // Claude's own Messages body goes as the client sent it: Bedrock judges its documents, as on a direct call.
      const ownMessages = adapter.anthropicMessages === true && ownMessagesBody(request) !== undefined;
      // A stop of whitespace only, which Converse refuses for every model and Claude's body too (policy.ts).
      const stops =
        !ownMessages && (route === 'converse' || adapter.anthropicMessages === true) ? withoutBlankStops(results, ctx) : results;
      const documents = ownMessages ? results : prepareDocuments(stops, adapter.documents, what);
      const format = ownFormatOf(adapter, modelId);
      const ownBody = format !== undefined && sendsOwnBody(request, format);
      const renamed = adapter.toolNames && !ownBody ? renameTools(documents, adapter.toolNames) : undefined;
      if (renamed) {
        ctx.note(`tool names ${what} cannot take renamed: ${[...renamed.names].map(([sent, own]) => `${own} → ${sent}`).join(', ')}`);
        ctx.renamedTools?.(renamed.names);
      }
      // Claude's own Messages body has its ids replaced by its builder (anthropic-native.ts), and says so there.
      const aliased =
        adapter.toolIds && !ownBody && !ownMessages ? aliasToolIds(renamed?.request ?? documents, adapter.toolIds) : undefined;
      if (aliased)
        ctx.note(`tool-call ids ${what} cannot take replaced: ${[...aliased.aliases].map(([own, sent]) => `${own} → ${sent}`).join(', ')}`);
      // Claude's own Messages body is relabelled and held to the model's media limit by its builder (anthropic-native.ts).
      const named = aliased?.request ?? renamed?.request ?? documents;
      const note = (message: string): void => ctx.note(message);
      const within = ownMessages
        ? named
        : limitMedia(relabelImages(named, note), mediaRule(family, modelId), `${modelId} on Bedrock`, note);
      return adapter.buildBody(preparePromptCache(within, ctx, caching?.(modelId)), ctx);
    },
  };
}

/** Each chat family's routes: its own invoke adapter, and converse built from its converse traits. */
const ROUTES = new Map<Family, Partial<Record<Route, RouteAdapter>>>();
for (const spec of FAMILY_SPECS) {
  if (spec.kind !== 'chat') continue;
  const converse = withRequestRules(converseAdapter(spec.converse, spec.family), spec.caching);
  ROUTES.set(spec.family, spec.invoke ? { invoke: withRequestRules(spec.invoke, spec.caching), converse } : { converse });
}
const UNKNOWN_FAMILY_CONVERSE = withRequestRules(converseAdapter(UNKNOWN_FAMILY_TRAITS));

export function adapterFor(route: Route, family: Family | undefined): RouteAdapter | undefined {
  if (!family) return route === 'converse' ? UNKNOWN_FAMILY_CONVERSE : undefined;
  return ROUTES.get(family)?.[route];
}

/** Whether the route's body for this family is Anthropic's Messages body (Claude on invoke). */
export function takesAnthropicMessages(route: Route, family: Family | undefined): boolean {
  return adapterFor(route, family)?.anthropicMessages === true;
}

/** The native body format a model takes whose client body the adapter sends as it is (`ownBodyFormat(s)`). */
function ownFormatOf(adapter: RouteAdapter, modelId: string): string | undefined {
  return adapter.ownBodyFormats ? adapter.ownBodyFormats.of(modelId) : adapter.ownBodyFormat;
}

/**
 * The invoke body format whose client body the family's invoke adapter sends as it is to this model
 * (`RouteAdapter.ownBodyFormat`, or per model `ownBodyFormats`).
 */
export function ownInvokeBodyFormat(family: Family | undefined, modelId: string): string | undefined {
  const adapter = adapterFor('invoke', family);
  return adapter && ownFormatOf(adapter, modelId);
}

/**
 * The parameters the invoke adapter that sends a client's own body of `format` takes (`ownBodyFormat`): what a
 * native reading of that body keeps as neutral parameters. Empty when no adapter takes that format.
 */
export function ownBodyParams(format: string): ReadonlySet<ParamName> {
  for (const { invoke } of ROUTES.values())
    if (invoke && (invoke.ownBodyFormat === format || invoke.ownBodyFormats?.all.includes(format))) return invoke.params;
  return new Set();
}

export const routeSupport: RouteSupport = {
  // Embedding models answer InvokeModel only (Converse generates text).
  supports: (route, family) => (isEmbeddingFamily(family) ? route === 'invoke' : adapterFor(route, family) !== undefined),
  // A bare model id whose invoke body is the Messages body (Claude) goes on invoke: nothing is translated.
  prefersInvoke: (family) => takesAnthropicMessages('invoke', family),
  checkAlias: (route, family, alias) => {
    const embedding = checkEmbeddingAlias(family, alias);
    if (embedding) return embedding;
    const adapter = adapterFor(route, family);
    const fields = alias.additionalModelRequestFields;
    if (!adapter || !fields) return undefined;
    const what = `${family ?? 'this model'} on the ${route} route`;
    const problem = checkExtraFields(fields, adapter.extraFields, what);
    const key = disallowedExtraField(fields, adapter.extraFields);
    // The key path goes in front of the message (models[2].additional_model_request_fields.top_k: …).
    if (problem && key !== undefined)
      return { path: ['additional_model_request_fields', key], message: problem.replace(/^additional_model_request_fields: /, '') };
    // A key the family takes that this model does not: Bedrock would refuse every request through the alias.
    const { modelId } = parseRoute(alias.model);
    for (const field of Object.keys(fields)) {
      const why = adapter.refusesExtraField?.(field, modelId);
      if (why !== undefined) {
        return {
          path: ['additional_model_request_fields', field],
          message: `alias "${alias.name}": ${why} (${modelId} on the ${route} route), so Bedrock would refuse every request through it`,
        };
      }
    }
    return undefined;
  },
};

/**
 * Applies the family's allow-list to a request: returns the parameters that go on, having thrown for (or,
 * with dropParams, dropped) every parameter the family cannot take, including unknown ones; one in `keep`
 * is thrown for even with dropParams.
 */
export function applyParamPolicy(
  request: ChatRequest,
  unknown: readonly string[],
  adapter: RouteAdapter,
  dropParams: boolean,
  describeTarget: string,
  note: (message: string) => void,
  keep?: ReadonlySet<string>,
): ChatRequest {
  const kept: ChatParams = {};
  const rejected: string[] = [...unknown];
  if (request.params.n !== undefined) {
    // n > 1 (n: 1 never gets here): no family can take it, whatever its own body allows, since an answer
    // here is always one choice.
    const why = 'must be 1: Bedrock returns one choice per request';
    if (!dropParams) {
      throw new SidecarError('unsupported_parameter', `"n" ${why}; remove it, or set drop_params: true to drop unsupported parameters`, {
        param: 'n',
      });
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
    if (!dropParams || keep?.has(key) === true) {
      // A key no surface reads is named as the client sent it (SidecarError `paramAsSent`).
      const known = isKnownUnsupported(key) || request.params[key as ParamName] !== undefined;
      const why = known ? `is not supported by ${describeTarget}` : 'is not a parameter the sidecar knows';
      throw new SidecarError(
        'unsupported_parameter',
        `"${key}" ${why}; remove it, or set drop_params: true to drop unsupported parameters`,
        { param: key, paramAsSent: !known },
      );
    }
    note(`parameter "${key}" dropped (drop_params): not supported by ${describeTarget}`);
  }
  return { ...request, params: kept };
}
