/**
 * Amazon Nova understanding models (`amazon.nova-*`, Nova 1 and Nova 2) on the invoke route: the
 * messages-v1 body (docs/bedrock-wire.md#amazon-nova) — converse-shaped messages with base64 images, `inferenceConfig`,
 * `toolConfig` — and a native stream of converse-like events keyed by name. Reasoning (`reasoningConfig`
 * in `inferenceConfig`) exists on Nova 2 only. The stream's last chunk is `metadata` (usage and Bedrock's
 * invocation metrics); the finish seen in `messageStop` is held until it (see `ConverseEventMapper`).
 * The converse route is the shared one (converse.ts).
 */
import type { ParamName } from './request.ts';
import type { ChatRequest } from './request.ts';
import type { BuildContext, FamilyProvider, RouteAdapter } from './types.ts';
import { ConverseEventMapper, converseAdapter, converseMessages, converseSystem, converseToolConfig, isNova2, parseConverseResponse } from './converse.ts';
import { mergeExtraFields, rejectParam, threeLevelEffort } from './policy.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'tools', 'tool_choice', 'parallel_tool_calls',
  'reasoning_effort', 'user', 'metadata',
]);

/** Native top-level keys an alias may add (objects merge one level deep: `{inferenceConfig:{topK:20}}`). */
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['inferenceConfig', 'schemaVersion']);

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const p = request.params;
  const body: Record<string, unknown> = {};
  const system = converseSystem(request.messages);
  if (system.length > 0) body.system = system;
  body.messages = converseMessages(request.messages, true);
  const inference: Record<string, unknown> = {};
  if (p.max_tokens !== undefined) inference.maxTokens = p.max_tokens;
  if (p.temperature !== undefined) inference.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) inference.topP = p.top_p;
  if (p.top_k !== undefined) inference.topK = p.top_k;
  if (p.stop !== undefined) inference.stopSequences = p.stop;
  if (p.reasoning_effort !== undefined) {
    if (!isNova2(ctx.target.modelId)) {
      rejectParam(ctx, 'reasoning_effort', `is not supported by ${ctx.target.modelId} (reasoning needs Nova 2)`);
    } else {
      const level = threeLevelEffort(ctx, p.reasoning_effort, true);
      if (level !== undefined) inference.reasoningConfig = { type: 'enabled', maxReasoningEffort: level };
    }
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const toolConfig = converseToolConfig(request, ctx);
  if (toolConfig) body.toolConfig = toolConfig;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Nova invoke body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Nova on invoke');
  return body;
}

export const novaInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new ConverseEventMapper('invoke'),
  parseResponse: (body) => parseConverseResponse(body),
};

export const nova: FamilyProvider = {
  family: 'amazon-nova',
  routes: { invoke: novaInvoke, converse: converseAdapter('amazon-nova') },
};
