/**
 * OpenAI gpt-oss (`openai.gpt-oss-*`) on the invoke route (docs/bedrock-wire.md#openai-gpt-oss): the OpenAI
 * chat-completions body, without `model` and `stream` (both optional and checked by Bedrock), with
 * `max_completion_tokens`, `reasoning_effort`, `tools`/`tool_choice`, `response_format`. InvokeModel puts the
 * reasoning first in the content, wrapped in `<reasoning>…</reasoning>`: it becomes `reasoning_content` deltas.
 * Stream chunks are `chat.completion.chunk` objects; the terminal one carries `finish_reason` (and the usage /
 * metrics).
 * Qwen (qwen.ts) uses the same body without the reasoning tags. A native InvokeModel client's own body
 * (`ChatRequest.invokeBody`) is sent as it is, the alias's extra fields merged.
 */
import { ownInvokeBody, type ChatParams, type ChatRequest, type ParamName, type ReasoningEffort } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter } from './types.ts';
import {
  OpenAiStreamMapper,
  openAiMessages,
  openAiToolChoice,
  openAiTools,
  parseOpenAiResponse,
  type OpenAiStreamOptions,
} from './openai-compatible.ts';
import { mergeExtraFields, reasoningEffortField, refuseImages, rejectParam, threeLevelEffort } from './policy.ts';
import { closedSchema } from './json-schema.ts';
import { threeLevelReasoning } from './converse.ts';

const EXTRA_FIELDS: ReadonlySet<string> = new Set(['seed', 'logit_bias', 'frequency_penalty', 'presence_penalty']);

export interface OpenAiChatOptions {
  family: string;
  extraFields: ReadonlySet<string>;
  /** How the max token count is named (gpt-oss documents max_completion_tokens). */
  maxTokensKey: 'max_completion_tokens' | 'max_tokens';
}

/** The OpenAI chat-completions body from the allow-listed parameters only. */
export function openAiChatBody(request: ChatRequest, ctx: BuildContext, options: OpenAiChatOptions): Record<string, unknown> {
  refuseImages(request, options.family);
  const p = request.params;
  const body: Record<string, unknown> = { messages: openAiMessages(request.messages, { images: false, toolCallType: true }) };
  if (p.max_tokens !== undefined) body[options.maxTokensKey] = p.max_tokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.stop !== undefined) body.stop = p.stop;
  if (p.tools !== undefined && p.tools.length > 0) {
    body.tools = openAiTools(p.tools);
    if (p.tool_choice !== undefined) body.tool_choice = openAiToolChoice(p.tool_choice);
    if (p.parallel_tool_calls !== undefined) body.parallel_tool_calls = p.parallel_tool_calls;
  }
  const format = p.response_format;
  if (format !== undefined && format.type !== 'text') {
    body.response_format =
      format.type === 'json_object'
        ? { type: 'json_object' }
        : {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              schema: closedSchema(format.schema),
              ...(format.description !== undefined ? { description: format.description } : {}),
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          };
  }
  if (p.reasoning_effort !== undefined) {
    const level = threeLevelEffort(ctx, p.reasoning_effort, false);
    if (level !== undefined) body.reasoning_effort = level;
  }
  if (p.seed !== undefined) body.seed = p.seed;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note(`user/metadata dropped: not sent to ${options.family} on invoke`);
  mergeExtraFields(body, ctx, options.extraFields, `${options.family} on invoke`);
  return body;
}

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'seed',
  'user',
  'metadata',
]);

const STREAM: OpenAiStreamOptions = { reasoningTags: { open: '<reasoning>', close: '</reasoning>' } };

/** A native InvokeModel client's own chat-completions body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'openai-chat';

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownInvokeBody(request, OWN_BODY_FORMAT);
  if (!own) return openAiChatBody(request, ctx, { family: 'gpt-oss', extraFields: EXTRA_FIELDS, maxTokensKey: 'max_completion_tokens' });
  mergeExtraFields(own, ctx, EXTRA_FIELDS, 'gpt-oss on invoke');
  return own;
}

export const openaiInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new OpenAiStreamMapper(STREAM),
  parseResponse: (body, headers) => parseOpenAiResponse(body, headers, STREAM),
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const openai: ChatFamilySpec<'openai'> = {
  family: 'openai',
  kind: 'chat',
  modelIds: /^openai\./,
  providers: ['openai'],
  aliases: ['gpt-oss'],
  invoke: openaiInvoke,
  // reasoning_effort: gpt-oss takes the three levels flat in additionalModelRequestFields (converse.ts's
  // default); OpenAI's own GPT-5.x and GPT-6 take Responses' `reasoning: {effort}` (gptReasoning).
  converse: {
    tools: true,
    // GPT-5.6 and GPT-6 read images in a user turn on Converse (anomalyco/opencode #49443 and #48069, microsoft
    // agent-framework #8682: probed on Bedrock, 2026-09, GPT-6 Astra, Sol and Luna, GPT-5.6 Sol, Luna and
    // Terra); inside a tool result Bedrock refuses them ("This model doesn't support the image field for user
    // messages."), as it does every rich tool result outside Claude and Nova. gpt-oss reads none.
    images: (modelId) => isGptFrontier(modelId),
    documents: false,
    structured: true,
    extra: ['reasoning_effort'],
    extraFields: ['reasoning_effort', 'reasoning'],
    reasoning: (request, ctx, effort) =>
      isGptFrontier(ctx.target.modelId) ? gptReasoning(request, ctx, effort) : threeLevelReasoning(request, ctx, effort),
    modelParams: (params, ctx) => (isGptFrontier(ctx.target.modelId) ? gptMaxTokensFloor(params, ctx) : params),
  },
};

/** OpenAI's own models on Bedrock (GPT-5.x, GPT-6), as opposed to the open-weight gpt-oss. */
function isGptFrontier(modelId: string): boolean {
  return /(^|\.)openai\.gpt-(?!oss)/.test(modelId.toLowerCase());
}

/**
 * GPT-5.6 and GPT-6 on Converse refuse the flat `reasoning_effort` ("Unknown parameter: 'reasoning_effort'.")
 * and take `reasoning: {effort}` — none, low, medium, high, xhigh (max beyond) — where GPT-6 refuses `minimal`
 * (anomalyco/opencode #48195, stdapi-ai/stdapi.ai #283, litellm #38279, langchain-aws #1266; 2026-08/09, each
 * probed against Bedrock). `minimal` is sent as `low` on both. GPT-6 Sol and Luna take `none` on Converse
 * (stdapi.ai #283's probe of 2026-09-22), as does GPT-6.1 Terra; GPT-6 Astra refuses it (opencode #48195, probed
 * on Bedrock; models.dev #6578; OpenAI's own API, litellm-docs #1173 — against stdapi.ai #283, which lists it
 * with Sol and Luna), and GPT-6.1 Sol and GPT-6.2 refuse it (AWS's Bedrock client for Mac 2.0.5, 2026-11-23:
 * "Turning Thinking off no longer sends an Off effort to GPT-6.2 and GPT-6.1 Sol, which reject it"), and so are
 * taken the GPT-6 releases after them.
 */
function gptReasoning(
  request: ChatRequest,
  ctx: BuildContext,
  effort: ReasoningEffort,
): { request: ChatRequest; fields: Record<string, unknown> } {
  if (effort === 'none' && /gpt-6(-astra|\.1-sol|\.[2-9])/.test(ctx.target.modelId.toLowerCase())) {
    rejectParam(ctx, 'reasoning_effort', `"none" is not supported by ${ctx.target.modelId}: it always reasons`);
    return { request, fields: {} };
  }
  return { request, fields: reasoningEffortField(effort) };
}

/**
 * GPT-5.6 on Converse refuses a max_tokens below 16 ("Invalid 'max_output_tokens': integer below minimum value.
 * Expected a value >= 16, but got 1 instead.", a gateway's probe of 2026-09-04), and Claude Code sends
 * max_tokens 1 to check a model it switches to; raised to 16 (only ever more output), with a debug line.
 */
function gptMaxTokensFloor(params: ChatParams, ctx: BuildContext): ChatParams {
  if (params.max_tokens === undefined || params.max_tokens >= GPT_MIN_MAX_TOKENS) return params;
  ctx.note(`max_tokens ${params.max_tokens} raised to ${GPT_MIN_MAX_TOKENS}: ${ctx.target.modelId} takes no fewer`);
  return { ...params, max_tokens: GPT_MIN_MAX_TOKENS };
}

const GPT_MIN_MAX_TOKENS = 16;
