/**
 * Amazon Nova understanding models (`amazon.nova-*`, Nova 1 and Nova 2) on the invoke route: the
 * messages-v1 body (docs/bedrock-wire.md#amazon-nova) — converse-shaped messages with base64 images, `inferenceConfig`,
 * `toolConfig` — and a native stream of converse-like events keyed by name. Reasoning (`reasoningConfig`
 * in `inferenceConfig`) exists on Nova 2 only. The stream's last chunk is `metadata` (usage and Bedrock's
 * invocation metrics); the finish seen in `messageStop` is held until it, or until the stream ends without it
 * (see `ConverseEventMapper`).
 * The converse route is the shared one (converse.ts). A native InvokeModel client's own body
 * (`ChatRequest.invokeBody`) is sent as it is, the alias's extra fields merged.
 */
import { ownInvokeBody, type ChatRequest, type ParamName, type ReasoningEffort } from './request.ts';
import type { BuildContext, CacheSupport, ChatFamilySpec, ConverseTraits, RouteAdapter } from './types.ts';
import { ConverseEventMapper, converseMessages, converseSystem, converseToolConfig, parseConverseResponse } from './converse.ts';
import { EVERY_DOCUMENT } from './documents.ts';
import { mergeExtraFields, rejectParam, threeLevelEffort } from './policy.ts';
import { NOVA_TOOL_NAMES } from './tool-names.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning_effort',
  'user',
  'metadata',
]);

/** The invoke body's `schemaVersion`: the format of a native InvokeModel client's own body sent as it is. */
const OWN_BODY_FORMAT = 'messages-v1';

/** Native top-level keys an alias may add (objects merge one level deep: `{inferenceConfig:{topK:20}}`). */
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['inferenceConfig', 'schemaVersion']);

function isNova2(modelId: string): boolean {
  return /amazon\.nova-2-/.test(modelId.toLowerCase());
}

/** `reasoning_effort` → Nova's `reasoningConfig` (the same object on both routes), or undefined: Nova 2 only. */
function reasoningConfig(ctx: BuildContext, effort: ReasoningEffort): Record<string, unknown> | undefined {
  if (!isNova2(ctx.target.modelId)) {
    rejectParam(ctx, 'reasoning_effort', `is not supported by ${ctx.target.modelId} (reasoning needs Nova 2)`);
    return undefined;
  }
  const level = threeLevelEffort(ctx, effort, true);
  return level === undefined ? undefined : { type: 'enabled', maxReasoningEffort: level };
}

/**
 * Whether a Nova model reads images: all but Nova Micro, which is text only (ListFoundationModels' `inputModalities`,
 * us-east-1, 2026-09-27; Bedrock refuses its image with "This model doesn't support the image field for user
 * messages"). An image for it is the sidecar's 400 naming the part, as for every text-only model.
 */
function novaReadsImages(modelId: string): boolean {
  return !/nova-micro/.test(modelId.toLowerCase());
}

/** Nova's understanding models cache the system prompt and messages, 5 minutes, no points in tools. */
function novaCaching(modelId: string): CacheSupport | undefined {
  return /nova-(canvas|reel|sonic)|embed/.test(modelId.toLowerCase()) ? undefined : { hourTtl: false, toolPoints: false };
}

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownInvokeBody(request, OWN_BODY_FORMAT);
  if (own) return ownBody(own, ctx);
  const p = request.params;
  const body: Record<string, unknown> = {};
  const system = converseSystem(request.messages);
  if (system.length > 0) body.system = system;
  // Nova refuses reasoning handed back ("User messages cannot contain reasoning content": oh-my-pi #9086).
  body.messages = converseMessages(request.messages, novaReadsImages(ctx.target.modelId), false, (message) => ctx.note(message));
  const inference: Record<string, unknown> = {};
  if (p.max_tokens !== undefined) inference.maxTokens = p.max_tokens;
  if (p.temperature !== undefined) inference.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) inference.topP = p.top_p;
  if (p.top_k !== undefined) inference.topK = p.top_k;
  if (p.stop !== undefined) inference.stopSequences = p.stop;
  if (p.reasoning_effort !== undefined) {
    const reasoning = reasoningConfig(ctx, p.reasoning_effort);
    if (reasoning) inference.reasoningConfig = reasoning;
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const toolConfig = converseToolConfig(request, ctx);
  if (toolConfig) body.toolConfig = toolConfig;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Nova invoke body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Nova on invoke');
  return body;
}

/**
 * The client's own Nova body (the native surface's InvokeModel), with only the sidecar's rules applied: the
 * alias's extra fields merged into it, as into a built body. Bedrock judges the rest, as it would have.
 */
function ownBody(body: Record<string, unknown>, ctx: BuildContext): Record<string, unknown> {
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Nova on invoke');
  return body;
}

export const novaInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new ConverseEventMapper('invoke'),
  parseResponse: (body) => parseConverseResponse(body),
  documents: EVERY_DOCUMENT,
  richToolResults: true,
  ownBodyFormat: OWN_BODY_FORMAT,
  toolNames: NOVA_TOOL_NAMES,
};

const CONVERSE: ConverseTraits = {
  tools: true,
  images: novaReadsImages,
  documents: true,
  structured: false,
  extra: ['top_k', 'reasoning_effort'],
  extraFields: ['inferenceConfig', 'reasoningConfig'],
  toolResults: true,
  toolNames: NOVA_TOOL_NAMES,
  topK: (topK) => ({ inferenceConfig: { topK } }),
  reasoning: (request, ctx, effort) => {
    const reasoning = reasoningConfig(ctx, effort);
    return { request, fields: reasoning ? { reasoningConfig: reasoning } : {} };
  },
};

export const nova: ChatFamilySpec<'amazon-nova'> = {
  family: 'amazon-nova',
  kind: 'chat',
  // The chat models; Nova's embedding model is a family of its own (embeddings/nova.ts).
  modelIds: /^amazon\.nova-(?!.*-embeddings-)/,
  providers: ['amazon'],
  aliases: ['nova', 'amazon.nova'],
  invoke: novaInvoke,
  converse: CONVERSE,
  caching: novaCaching,
};
