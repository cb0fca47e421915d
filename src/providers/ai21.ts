/**
 * AI21 Jamba (`ai21.jamba-*`) on the invoke route (docs/bedrock-wire.md#ai21-jamba): an OpenAI-like chat body —
 * `messages` (system, user, assistant with `tool_calls`, tool), `tools`, `response_format`
 * (`json_object` only), `max_tokens`, `temperature`, `top_p`, `stop`, penalties — answered with OpenAI-like
 * `choices` and `usage`. Stream chunks carry `choices[0].delta`; the terminal one carries
 * `finish_reason`, `usage` and the invocation metrics. No images; no forced tool choice in the body. A native
 * InvokeModel client's own body (`ChatRequest.invokeBody`) is sent as it is, the alias's extra fields merged.
 */
import { ownInvokeBody, type ChatRequest, type ParamName } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter } from './types.ts';
import { OpenAiStreamMapper, openAiMessages, openAiTools, parseOpenAiResponse } from './openai-compatible.ts';
import { mergeExtraFields, refuseImages, rejectParam } from './policy.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'presence_penalty',
  'frequency_penalty',
  'user',
  'metadata',
]);
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['documents']);

/** A native InvokeModel client's own AI21 Jamba body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'jamba-chat';

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownInvokeBody(request, OWN_BODY_FORMAT);
  if (own) {
    mergeExtraFields(own, ctx, EXTRA_FIELDS, 'AI21 Jamba on invoke');
    return own;
  }
  refuseImages(request, 'AI21 Jamba');
  const p = request.params;
  const body: Record<string, unknown> = { messages: openAiMessages(request.messages, { images: false, toolCallType: true }) };
  if (p.tools !== undefined && p.tools.length > 0) {
    if (p.tool_choice?.type === 'none') ctx.note('tool_choice "none": tools not sent');
    else body.tools = openAiTools(p.tools);
    if (p.tool_choice?.type === 'required' || p.tool_choice?.type === 'function') {
      rejectParam(ctx, 'tool_choice', `"${p.tool_choice.type}" is not supported by AI21 Jamba (no forced tool choice)`);
    }
  }
  if (p.response_format !== undefined && p.response_format.type !== 'text') {
    if (p.response_format.type === 'json_object') body.response_format = { type: 'json_object' };
    else rejectParam(ctx, 'response_format', 'json_schema is not supported by AI21 Jamba (json_object is)');
  }
  if (p.max_tokens !== undefined) body.max_tokens = p.max_tokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.stop !== undefined) body.stop = p.stop;
  if (p.frequency_penalty !== undefined) body.frequency_penalty = p.frequency_penalty;
  if (p.presence_penalty !== undefined) body.presence_penalty = p.presence_penalty;
  if (p.parallel_tool_calls !== undefined) ctx.note('parallel_tool_calls: Jamba has no setting for it; dropped');
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Jamba body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'AI21 Jamba on invoke');
  return body;
}

export const ai21Invoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new OpenAiStreamMapper(),
  parseResponse: (body, headers) => parseOpenAiResponse(body, headers),
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const ai21: ChatFamilySpec<'ai21'> = {
  family: 'ai21',
  kind: 'chat',
  modelIds: /^ai21\.jamba/,
  providers: ['ai21'],
  aliases: ['jamba'],
  invoke: ai21Invoke,
  converse: {
    tools: false,
    images: false,
    documents: false,
    structured: false,
    extra: ['presence_penalty', 'frequency_penalty'],
    extraFields: ['presence_penalty', 'frequency_penalty'],
  },
};
