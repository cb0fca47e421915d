/**
 * The route grammar `bedrock/[invoke/|converse/]MODEL_ID` and model-id understanding
 * (docs/contract.md#models-and-routes, docs/bedrock-wire.md#model-identifiers): geography prefixes of cross-region
 * inference profiles are never providers, ARNs carry their own region, and the provider family comes from the base
 * model id. The families, their model ids and their `provider:` names are the providers' registry
 * (src/providers/families.ts): nothing here names a family.
 */
import type { Route } from '../config/schema.ts';
import { FAMILY_SPECS, type ChatFamily, type EmbeddingFamily, type Family } from '../providers/families.ts';

export type { ChatFamily, EmbeddingFamily, Family };

/** Every family, in the registry's order. */
export const FAMILIES: readonly Family[] = FAMILY_SPECS.map((spec) => spec.family);
const EMBEDDING_FAMILIES: ReadonlySet<string> = new Set(
  FAMILY_SPECS.filter((spec) => spec.kind === 'embedding').map((spec) => spec.family),
);

export function isEmbeddingFamily(family: Family | undefined): family is EmbeddingFamily {
  return EMBEDDING_FAMILIES.has(family ?? '');
}

/** Geography prefixes of system-defined cross-region inference profiles (docs/bedrock-wire.md#cross-region-inference-profiles). */
export const GEO_PREFIXES = ['us', 'eu', 'apac', 'us-gov', 'jp', 'au', 'ca', 'global'] as const;

/** Bedrock providers with models but no family the sidecar serves (image, video, embedding-only, …). */
const OTHER_PROVIDERS = ['writer', 'twelvelabs', 'stability', 'luma'];
/** Providers whose base ids start with `<provider>.` (the text before the first dot of a base id). */
const PROVIDERS: ReadonlySet<string> = new Set([...FAMILY_SPECS.flatMap((spec) => spec.providers), ...OTHER_PROVIDERS]);

export interface ParsedRoute {
  route: Route;
  modelId: string;
  /** true when the request named a route segment explicitly */
  explicitRoute: boolean;
}

export class RouteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteError';
  }
}

/** Parses `bedrock/[invoke/|converse/]MODEL_ID`; the model id itself may contain `/` (ARNs). */
export function parseRoute(value: string): ParsedRoute {
  if (!value.startsWith('bedrock/')) {
    throw new RouteError(`"${value}" is not a route: expected bedrock/[invoke/|converse/]MODEL_ID`);
  }
  let rest = value.slice('bedrock/'.length);
  let route: Route = 'converse';
  let explicitRoute = false;
  for (const candidate of ['invoke', 'converse'] as const) {
    if (rest.startsWith(`${candidate}/`)) {
      route = candidate;
      explicitRoute = true;
      rest = rest.slice(candidate.length + 1);
      break;
    }
  }
  if (rest === '') throw new RouteError(`"${value}" names no model id after the route`);
  if (rest.length > 2048) throw new RouteError(`the model id in "${value.slice(0, 64)}…" is longer than 2048 characters`);
  if (/[\s?#%\\]/.test(rest) || /[^\x21-\x7e]/.test(rest)) {
    throw new RouteError(`"${value}" has a character a Bedrock model id cannot contain`);
  }
  if (!rest.startsWith('arn:') && rest.includes('/')) {
    throw new RouteError(`"${value}": a model id has no "/" unless it is an ARN (route segments are invoke/ or converse/)`);
  }
  // An ARN's structure (partition, region, resource) is checked, with its own messages, by inspectModelId.
  if (rest.startsWith('arn:') ? rest.split(/[/:]/).some((part, i) => i >= 5 && !ARN_PART.test(part)) : !PLAIN_ID.test(rest)) {
    throw new RouteError(
      `"${value}" is not a Bedrock model id: expected a model id (anthropic.claude-…), ` +
        'an inference profile id (us.anthropic.claude-…) or an ARN (arn:aws:bedrock:REGION:ACCOUNT:TYPE/ID)',
    );
  }
  return { route, modelId: rest, explicitRoute };
}

/**
 * The syntax of Bedrock's own model identifiers (InvokeModel's `modelId`), checked before any URL is built
 * from one: a base model id or an inference profile id is dot-separated words of letters, digits, `-`
 * and `_`, with an optional `:` version (`us.anthropic.claude-sonnet-4-20250514-v1:0`); a provisioned or
 * imported model's name is the same without dots. In an ARN's resource (after `arn:P:S:R:A:`) every part
 * between `/` and `:` is such a word, dots inside it allowed. No part is ever empty, `.` or `..`: a signed
 * request must never leave `/model/{id}/` (`bedrock/converse/..` used to reach `/converse-stream`).
 */
const WORD = '[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?';
const PLAIN_ID = new RegExp(`^${WORD}(?:\\.${WORD})*(?::${WORD})*$`);
const ARN_PART = new RegExp(`^${WORD}(?:\\.${WORD})*$`);

export interface ModelIdInfo {
  modelId: string;
  /** The base model id with any geography prefix removed, when the id reveals one. */
  baseModelId: string | undefined;
  /** The geography prefix of a cross-region inference profile, if any. */
  geography: string | undefined;
  /** The provider segment (`anthropic`, `amazon` …), when the id reveals it. */
  provider: string | undefined;
  family: Family | undefined;
  /** For ARNs: the ARN's region and resource type. */
  arn: { partition: string; region: string; account: string; resourceType: string; resource: string } | undefined;
}

/** Resource types whose id embeds a model id, so the family can be read offline. */
const TRANSPARENT_ARN_TYPES = new Set(['foundation-model', 'inference-profile', 'custom-model']);

export function inspectModelId(modelId: string): ModelIdInfo {
  if (modelId.startsWith('arn:')) {
    const parts = modelId.split(':');
    if (parts.length < 6 || !parts[1] || !parts[2] || !parts[3]) {
      throw new RouteError(`"${modelId}" is not a well-formed ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)`);
    }
    const [, partition, service, region, account] = parts as [string, string, string, string, string];
    const resourcePart = parts.slice(5).join(':');
    const slash = resourcePart.indexOf('/');
    const resourceType = slash === -1 ? resourcePart : resourcePart.slice(0, slash);
    const resource = slash === -1 ? '' : resourcePart.slice(slash + 1);
    if (!/^aws(-[a-z]+)*$/.test(partition)) throw new RouteError(`"${modelId}": unknown ARN partition "${partition}"`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new RouteError(`"${modelId}": "${region}" is not an AWS region`);
    if (!resource) throw new RouteError(`"${modelId}": the ARN names no resource id`);
    const arn = { partition, region, account, resourceType, resource };
    if (service === 'bedrock' && TRANSPARENT_ARN_TYPES.has(resourceType)) {
      // custom-model/{provider}.{model}/{suffix}: the base id is the first segment.
      const embedded = resourceType === 'custom-model' ? resource.split('/')[0]! : resource;
      return { ...inspectBaseId(embedded), modelId, arn };
    }
    return { modelId, baseModelId: undefined, geography: undefined, provider: undefined, family: undefined, arn };
  }
  return inspectBaseId(modelId);
}

function inspectBaseId(id: string): ModelIdInfo {
  const dot = id.indexOf('.');
  let geography: string | undefined;
  let base = id;
  if (dot > 0) {
    const first = id.slice(0, dot);
    const afterFirst = id.slice(dot + 1);
    const second = afterFirst.split('.')[0] ?? '';
    // A known geography, or an unknown short prefix in front of a known provider (a new geography).
    if (
      ((GEO_PREFIXES as readonly string[]).includes(first) && !PROVIDERS.has(first)) ||
      (!PROVIDERS.has(first) && PROVIDERS.has(second) && /^[a-z]{2,6}(-[a-z]+)?$/.test(first))
    ) {
      geography = first;
      base = afterFirst;
    }
  }
  const baseDot = base.indexOf('.');
  const provider = baseDot > 0 ? base.slice(0, baseDot) : undefined;
  return { modelId: id, baseModelId: base, geography, provider, family: familyOf(base), arn: undefined };
}

/** The family of a base model id (no geography prefix), or undefined when no family is known for it. */
export function familyOf(baseModelId: string): Family | undefined {
  const id = baseModelId.toLowerCase();
  return FAMILY_SPECS.find((spec) => spec.modelIds.test(id))?.family;
}

/** `provider:` names: each family's own name and its aliases (`claude`, `nova`, …). */
const BY_PROVIDER_NAME: ReadonlyMap<string, Family> = new Map(
  FAMILY_SPECS.flatMap((spec) => [spec.family, ...spec.aliases].map((name) => [name, spec.family] as const)),
);

/** Maps an alias's `provider:` value to a family (accepts family names and provider names). */
export function familyFromProvider(provider: string): Family | undefined {
  return BY_PROVIDER_NAME.get(provider.toLowerCase());
}
