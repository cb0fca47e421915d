/**
 * Amazon Titan Text (`amazon.titan-text-*`) on the invoke route (docs/bedrock-wire.md#amazon-titan-text): one
 * `inputText` prompt in Titan's `User: …\nBot:` chat form and `textGenerationConfig`. No tools, no images, no system
 * role (the system text leads the prompt). Stream chunks carry `outputText`; the terminal one carries
 * `completionReason` (real answers say FINISH; the docs list FINISHED, LENGTH, STOP_CRITERIA_MET,
 * CONTENT_FILTERED …) and the invocation metrics. Counts may be floats (`28.0`) and keys that do not apply
 * may be absent rather than null. A stream a guardrail blocked ends on a chunk marked
 * `amazon-bedrock-guardrailAction: INTERVENED` without `completionReason` (text-completion.ts `end`).
 */
import type { ChatRequest, ParamName } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter } from './types.ts';
import { titanPrompt } from './chat-template.ts';
import { mergeExtraFields, refuseImages } from './policy.ts';
import {
  CompletionStreamMapper,
  counts,
  first,
  ownPromptBody,
  parseCompletion,
  stringOrUndefined,
  type CompletionShape,
} from './text-completion.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>(['max_tokens', 'temperature', 'top_p', 'stop', 'user', 'metadata']);
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['textGenerationConfig']);

/** A native InvokeModel client's own Titan Text body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'titan-text';

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownPromptBody(request, OWN_BODY_FORMAT, 'inputText');
  if (own) {
    mergeExtraFields(own, ctx, EXTRA_FIELDS, 'Titan Text on invoke');
    return own;
  }
  refuseImages(request, 'Titan Text');
  const p = request.params;
  const body: Record<string, unknown> = { inputText: titanPrompt(request.messages) };
  const config: Record<string, unknown> = {};
  if (p.max_tokens !== undefined) config.maxTokenCount = p.max_tokens;
  if (p.temperature !== undefined) config.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) config.topP = p.top_p;
  if (p.stop !== undefined) config.stopSequences = p.stop;
  if (Object.keys(config).length > 0) body.textGenerationConfig = config;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Titan body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Titan Text on invoke');
  return body;
}

const SHAPE: CompletionShape = {
  answer: {
    what: '`results[0].outputText`',
    family: 'a Titan Text answer',
    has: (e) => typeof first(e, 'results').outputText === 'string',
  },
  chunk: {
    text: (e) => stringOrUndefined(e.outputText),
    stopReason: (e) => stringOrUndefined(e.completionReason),
    usage: (e) => counts(e.inputTextTokenCount, e.totalOutputTextTokenCount),
  },
  response: {
    text: (e) => stringOrUndefined(first(e, 'results').outputText),
    stopReason: (e) => stringOrUndefined(first(e, 'results').completionReason),
    usage: (e) => counts(e.inputTextTokenCount, first(e, 'results').tokenCount),
  },
};

export const titanInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new CompletionStreamMapper(SHAPE),
  parseResponse: (body, headers) => parseCompletion(SHAPE, body, headers),
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const titan: ChatFamilySpec<'amazon-titan'> = {
  family: 'amazon-titan',
  kind: 'chat',
  modelIds: /^amazon\.titan-(text|tg1)/,
  providers: ['amazon'],
  aliases: ['titan', 'amazon.titan'],
  invoke: titanInvoke,
  // No system role on converse either: the system text leads the first user message.
  converse: { tools: false, images: false, documents: false, structured: false, extra: [], extraFields: [], foldsSystem: true },
};
