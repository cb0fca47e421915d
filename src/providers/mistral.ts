/**
 * Mistral AI on the invoke route, in its two documented styles (docs/bedrock-wire.md#mistral):
 * - prompt models (Mistral 7B Instruct, Mixtral 8x7B, Mistral Large 24.02, Mistral Small): one `prompt` in
 *   the `<s>[INST] … [/INST]` template with `max_tokens`, `stop`, `temperature`, `top_p`, `top_k`; answers
 *   `{"outputs":[{"text","stop_reason"}]}` per chunk. No tools.
 * - chat models (Mistral Large 2 24.07 and later, Pixtral, Magistral): OpenAI-like `messages`, `tools`,
 *   `tool_choice` ("auto" | "any" | "none"), `max_tokens`, `top_p`, `temperature`; answers
 *   `{"choices":[{"message",…,"stop_reason"}]}` (AWS's page says `stop_reason`; callers that met real answers
 *   read `finish_reason` too, so both are read), streamed as such chunks with a partial `message`.
 * The style comes from the model id; the stream mapper also recognises the shape of the first chunk. What
 * only one style takes is refused per model in the body builder (400 `unsupported_parameter`, or dropped). A
 * native InvokeModel client's own body of the style the model takes is sent as it is (`ownBodyFormats`).
 */
import { ownInvokeBody, type ChatRequest, type ParamName, type ToolDefinition } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter, StreamMapper } from './types.ts';
import { MISTRAL_TOOL_IDS } from './tool-ids.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import { mistralPrompt } from './chat-template.ts';
import { OpenAiStreamMapper, openAiMessages, openAiTools, parseOpenAiResponse } from './openai-compatible.ts';
import { mergeExtraFields, refuseImages, rejectParam } from './policy.ts';
import {
  CompletionStreamMapper,
  first,
  ownPromptBody,
  parseCompletion,
  stringOrUndefined,
  type CompletionShape,
} from './text-completion.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'metadata',
]);
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['top_k']);

/**
 * The vision models (either route): Pixtral, Mistral Large 3, Magistral and Ministral 3 (3B, 8B, 14B), each
 * listed with the IMAGE input modality by Bedrock's ListFoundationModels (us-east-1 readback, 2026-09-27).
 */
function mistralVision(modelId: string): boolean {
  return /pixtral|mistral-large-3|magistral|ministral-3/.test(modelId.toLowerCase());
}

/** Whether a Mistral model id speaks the chat-completion body. */
export function isMistralChat(modelId: string): boolean {
  return /mistral\.(mistral-large-(2407|3)|pixtral|magistral|ministral|voxtral)/.test(modelId.toLowerCase());
}

function buildPromptBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const p = request.params;
  refuseImages(request, ctx.target.modelId);
  if (p.tools !== undefined)
    rejectParam(ctx, 'tools', `is not supported by ${ctx.target.modelId} (a prompt-style Mistral model; Mistral Large 2 takes tools)`);
  const body: Record<string, unknown> = { prompt: mistralPrompt(request.messages) };
  if (p.max_tokens !== undefined) body.max_tokens = p.max_tokens;
  if (p.stop !== undefined) body.stop = p.stop;
  if (p.temperature !== undefined) body.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.top_k !== undefined) body.top_k = p.top_k;
  return body;
}

/** Mistral's tool_choice has no "this function": force a call ("any") with only that tool offered. */
function chatTools(tools: readonly ToolDefinition[], request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const choice = request.params.tool_choice;
  if (choice?.type === 'function') {
    const only = tools.filter((t) => t.name === choice.name);
    ctx.note(`tool_choice function "${choice.name}": sent as "any" with only that tool`);
    return { tools: openAiTools(only.length > 0 ? only : tools), tool_choice: 'any' };
  }
  const out: Record<string, unknown> = { tools: openAiTools(tools) };
  if (choice?.type === 'required') out.tool_choice = 'any';
  else if (choice?.type === 'auto' || choice?.type === 'none') out.tool_choice = choice.type;
  return out;
}

function buildChatBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const p = request.params;
  const images = mistralVision(ctx.target.modelId);
  if (!images) refuseImages(request, ctx.target.modelId);
  for (const key of ['stop', 'top_k'] as const) {
    if (p[key] !== undefined)
      rejectParam(ctx, key, `is not supported by ${ctx.target.modelId} (Mistral's chat-completion body has no ${key})`);
  }
  const body: Record<string, unknown> = { messages: openAiMessages(request.messages, { images, toolCallType: false }) };
  if (p.tools !== undefined && p.tools.length > 0) Object.assign(body, chatTools(p.tools, request, ctx));
  if (p.max_tokens !== undefined) body.max_tokens = p.max_tokens;
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.temperature !== undefined) body.temperature = Math.min(p.temperature, 1);
  return body;
}

/** A native InvokeModel client's own Mistral body of either style, sent as it is (`ownBodyFormats`). */
const PROMPT_FORMAT = 'mistral-prompt';
const CHAT_FORMAT = 'mistral-chat';

/**
 * The chat models AWS documents taking the chat-completion body on InvokeModel: Mistral Large 2 (24.07,
 * model-parameters-mistral-large-2407) and Pixtral Large (25.02, model-parameters-mistral-pixtral-large). Its other
 * chat models' invoke bodies (Large 3, Magistral, Ministral) no AWS page shows, so no native body of theirs is read.
 */
function documentedChat(modelId: string): boolean {
  return /mistral\.(mistral-large-2407|pixtral-large)/.test(modelId.toLowerCase());
}

function ownFormat(modelId: string): string | undefined {
  if (!isMistralChat(modelId)) return PROMPT_FORMAT;
  return documentedChat(modelId) ? CHAT_FORMAT : undefined;
}

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  // An app's own body goes only to a model that takes its style; another (a fallback) gets the neutral reading.
  const format = ownFormat(ctx.target.modelId);
  const body =
    (format === PROMPT_FORMAT ? ownPromptBody(request, PROMPT_FORMAT, 'prompt') : undefined) ??
    (format === CHAT_FORMAT ? ownInvokeBody(request, CHAT_FORMAT) : undefined) ??
    (isMistralChat(ctx.target.modelId) ? buildChatBody(request, ctx) : buildPromptBody(request, ctx));
  if (request.params.parallel_tool_calls !== undefined) ctx.note('parallel_tool_calls: Mistral has no setting for it; dropped');
  if (request.params.user !== undefined || request.params.metadata !== undefined)
    ctx.note('user/metadata dropped: the Mistral body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Mistral on invoke');
  return body;
}

const PROMPT_READERS = {
  text: (e: Record<string, unknown>) => stringOrUndefined(first(e, 'outputs').text),
  stopReason: (e: Record<string, unknown>) => stringOrUndefined(first(e, 'outputs').stop_reason),
  usage: () => ({}),
};
const PROMPT_SHAPE: CompletionShape = {
  answer: {
    what: '`outputs[0].text`',
    family: 'a Mistral text-completion answer',
    has: (e) => typeof first(e, 'outputs').text === 'string',
  },
  chunk: PROMPT_READERS,
  response: PROMPT_READERS,
};

/** Picks the style from the first chunk's shape: `outputs` (prompt models) or `choices` (chat models). */
class MistralStreamMapper implements StreamMapper {
  private inner: StreamMapper | undefined;

  get terminated(): boolean {
    return this.inner?.terminated ?? false;
  }

  push(event: Record<string, unknown>): StreamEvent[] {
    this.inner ??= 'outputs' in event ? new CompletionStreamMapper(PROMPT_SHAPE) : new OpenAiStreamMapper();
    return this.inner.push(event);
  }

  end(): StreamEvent[] | undefined {
    return this.inner?.end?.();
  }
}

export const mistralInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  refusesExtraField: (key, modelId) =>
    key === 'top_k' && isMistralChat(modelId) ? "Mistral's chat-completion body has no top_k" : undefined,
  buildBody,
  createStreamMapper: () => new MistralStreamMapper(),
  parseResponse: (body, headers) => ('outputs' in body ? parseCompletion(PROMPT_SHAPE, body, headers) : parseOpenAiResponse(body, headers)),
  ownBodyFormats: { all: [PROMPT_FORMAT, CHAT_FORMAT], of: ownFormat },
  // "Tool call id was a but must be a-z, A-Z, 0-9, with a length of 9." (tool-ids.ts)
  toolIds: MISTRAL_TOOL_IDS,
};

/** Mistral 7B and Mixtral take neither tools nor a system prompt on Bedrock. */
function isSmallMistral(modelId: string): boolean {
  return /mistral-7b|mixtral/.test(modelId.toLowerCase());
}

export const mistral: ChatFamilySpec<'mistral'> = {
  family: 'mistral',
  kind: 'chat',
  modelIds: /^mistral\./,
  providers: ['mistral'],
  aliases: [],
  invoke: mistralInvoke,
  converse: {
    tools: true,
    images: mistralVision,
    documents: true,
    structured: false,
    extra: ['top_k'],
    extraFields: ['top_k'],
    refusesTools: (modelId) => (isSmallMistral(modelId) ? 'Mistral 7B and Mixtral take no tools' : undefined),
    // Bedrock hands converse's top_k to the model's own body, and the chat models' body has none (400).
    refusesTopK: (modelId) => (isMistralChat(modelId) ? "Mistral's chat models take no top_k" : undefined),
    foldsSystem: isSmallMistral,
    // Mistral's chat models refuse any other tool-call id in the history, on Converse too: "Tool call id was a but
    // must be a-z, A-Z, 0-9, with a length of 9." (opencode #48843, 2026-09; vercel/ai #11802, #16606).
    toolIds: MISTRAL_TOOL_IDS,
    // "Conversation blocks and tool result blocks cannot be provided in the same turn." (browser-use #710,
    // 2025-02, Mistral Large).
    toolResultsAlone: true,
  },
};
