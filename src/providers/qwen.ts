/**
 * Qwen3 (`qwen.qwen3-*`) on the invoke route: no AWS model-parameters page documents it (bedrock-wire
 * §5.10); the body is the OpenAI chat-completions one, as third-party callers use it, built by the same
 * function as gpt-oss's. Reasoning arrives as `reasoning_content` deltas (the OpenAI-compatible Qwen
 * convention) or, from a thinking model, as a leading `<think>…</think>` block in the content.
 */
import type { ParamName } from './request.ts';
import type { ChatFamilySpec, RouteAdapter } from './types.ts';
import { OpenAiStreamMapper, parseOpenAiResponse, type OpenAiStreamOptions } from './openai-compatible.ts';
import { openAiChatBody } from './openai.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'seed',
  'user',
  'metadata',
]);
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['seed', 'frequency_penalty', 'presence_penalty']);
const STREAM: OpenAiStreamOptions = { reasoningTags: { open: '<think>', close: '</think>' } };

export const qwenInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody: (request, ctx) => openAiChatBody(request, ctx, { family: 'Qwen', extraFields: EXTRA_FIELDS, maxTokensKey: 'max_tokens' }),
  createStreamMapper: () => new OpenAiStreamMapper(STREAM),
  parseResponse: (body, headers) => parseOpenAiResponse(body, headers, STREAM),
};

export const qwen: ChatFamilySpec<'qwen'> = {
  family: 'qwen',
  kind: 'chat',
  modelIds: /^qwen\./,
  providers: ['qwen'],
  aliases: [],
  invoke: qwenInvoke,
  // Qwen3 VL reads images. `reasoning_config` ("high") in additionalModelRequestFields is taken on converse:
  // real Bedrock answered it with reasoning (test/fixtures/real-traffic/cv-qwen3-32b-reasoning, recorded by
  // pydantic-ai's Bedrock tests); no AWS page documents its values, so no Chat parameter is mapped onto it.
  converse: {
    tools: true,
    images: (modelId) => /qwen3-vl/.test(modelId.toLowerCase()),
    documents: false,
    structured: true,
    extra: [],
    extraFields: ['reasoning_config'],
  },
};
