/**
 * The chat-shaped families' own InvokeModel bodies and answers on the native surface
 * (docs/contract.md#bedrock-native, docs/bedrock-wire.md#model-native-bodies): OpenAI's models (gpt-oss, and
 * OpenAI's own such as `us.openai.gpt-6-sol`) take OpenAI's Chat Completions body and answer a
 * `chat.completion`, streamed as `chat.completion.chunk`s with the reasoning inline in `<reasoning>…</reasoning>`
 * ahead of the text, as InvokeModel gives it. The body is read as the Chat surface reads one
 * (src/surfaces/chat-request.ts): the neutral reading is what guardrails read and what a converse alias or a
 * fallback of another family is sent, keeping the settings every family can be asked for; the family's own
 * invoke adapter is sent the app's body as it is (`ChatRequest.invokeBody`), with only the sidecar's rules
 * applied. A member the body does not take is Bedrock's 400 before any call. `model` and `stream`, which
 * Bedrock fills from the path and the operation, are checked (`stream` must match the operation) and left out:
 * the path names the model, which may be an alias. AI21 Jamba's OpenAI-like body is read the same way and
 * answered in Jamba's shapes (its `documents` refused for another target: `onlyOwnMembers`); Cohere's Chat v1
 * body is invoke-cohere.ts's. Each family says how its body reads (`ChatFamily.read`) and how it answers
 * (`chunks`, through the chunk core the prompt families use, and `whole`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FinishReason, StreamEvent } from '../../pipeline/events.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import { ownBodyParams, ownInvokeBodyFormat } from '../../providers/index.ts';
import type { ChatMessage, ChatParams, ChatRequest, ParamName } from '../../providers/request.ts';
import type { ReasoningTags } from '../../providers/reasoning-tags.ts';
import type { AnswerMeta, SurfaceRequest, WholeAnswer } from '../../server/surface.ts';
import { assembleCompletion } from '../chat-answer.ts';
import { readChatFields } from '../chat-request.ts';
import { chatUsage } from '../chat-usage.ts';
import { invalid } from './converse-request.ts';
import { readOwnBody, type ChunkShape } from './invoke-prompt.ts';
import { readServingHeaders } from './invoke-request.ts';

type Json = Record<string, unknown>;

/** What one chat family's body and answers are. */
export interface ChatFamily {
  /** Its format, as its invoke adapter names it (`ownBodyFormat`). */
  readonly format: string;
  /** Top-level members Bedrock takes, and those it needs. */
  readonly keys: readonly string[];
  readonly required: readonly string[];
  /**
   * The body (the sidecar's parameters out) as neutral messages and parameters, and the body to send as it is
   * (`own`: without what Bedrock fills itself). Throws Bedrock's 400 for what it refuses.
   */
  read(raw: Json, stream: boolean): { messages: ChatMessage[]; params: ChatParams; hints?: string[]; own: Json };
  /** A last check against a target other than the family on invoke (what only its own body carries); absent: none. */
  readonly check?: (read: SurfaceRequest, target: ModelTarget) => void;
  /** Its stream chunks, stamped with the answer's id, time and model. */
  chunks(meta: AnswerMeta, request: ChatRequest): ChunkShape;
  /** Its whole answer. */
  whole(events: readonly StreamEvent[], meta: AnswerMeta, request: ChatRequest): WholeAnswer;
}

/** OpenAI's finish reasons (the neutral ones are OpenAI's). */
const OPENAI_STOPS: ReadonlySet<string> = new Set(['stop', 'length', 'tool_calls', 'content_filter']);

/**
 * The Chat Completions chunk shape: `delta` pieces under `base` (each family's own members), the last with the
 * finish reason and the usage.
 */
function openAiChunks(base: Json, reasoningTags?: ReasoningTags): ChunkShape {
  const chunk = (delta: Json, finish: string | null = null): Json => ({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  return {
    stopReasons: OPENAI_STOPS,
    stop: (reason: FinishReason) => reason,
    opening: () => chunk({ role: 'assistant', content: '' }),
    chunk: (text) => chunk({ content: text }),
    tool: (event) =>
      chunk({
        tool_calls: [
          event.kind === 'tool_start'
            ? { index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }
            : { index: event.index, function: { arguments: event.arguments } },
        ],
      }),
    last: (stop, usage) => ({ ...chunk({}, stop), ...(usage ? { usage: chatUsage(usage) } : {}) }),
    ...(reasoningTags ? { reasoningOpen: reasoningTags.open, reasoningClose: reasoningTags.close } : {}),
  };
}

/**
 * OpenAI's body as Bedrock takes it: `model` and `stream` are Bedrock's to fill from the path and the operation
 * (`stream`, if sent, must match it); both are left out of what is sent, the path naming the model.
 */
function readOpenAiBody(raw: Json, stream: boolean): ReturnType<ChatFamily['read']> {
  if (raw.model !== undefined && typeof raw.model !== 'string') throw invalid('model: must be a string', 'model');
  if (raw.stream !== undefined && raw.stream !== stream)
    throw invalid(
      `The stream field in the request body must be ${stream} (or omitted) for ${stream ? 'InvokeModelWithResponseStream' : 'InvokeModel'}.`,
      'stream',
    );
  const { model: _model, stream: _stream, ...own } = raw;
  const { messages, params, hints } = readChatFields(own);
  return { messages, params, hints, own };
}

/** The Chat Completions answer the events make, the reasoning inline in the family's tags (or left out). */
function completionOf(events: readonly StreamEvent[], meta: AnswerMeta, tags: ReasoningTags | undefined): WholeAnswer {
  const completion = assembleCompletion(inlineReasoning(events, tags), meta);
  return 'error' in completion ? completion : { body: completion.body, usage: completion.usage };
}

const GPT_OSS_TAGS: ReasoningTags = { open: '<reasoning>', close: '</reasoning>' };

export const OPENAI_CHAT: ChatFamily = {
  format: 'openai-chat',
  // OpenAI's Create chat completion body, as Bedrock takes it for OpenAI's models.
  keys: [
    'messages',
    'model',
    'stream',
    'max_completion_tokens',
    'max_tokens',
    'temperature',
    'top_p',
    'n',
    'stop',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'response_format',
    'reasoning_effort',
    'seed',
    'frequency_penalty',
    'presence_penalty',
    'logit_bias',
    'logprobs',
    'top_logprobs',
    'user',
    'metadata',
  ],
  required: ['messages'],
  read: readOpenAiBody,
  chunks: (meta) => openAiChunks({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model }, GPT_OSS_TAGS),
  whole: (events, meta) => completionOf(events, meta, GPT_OSS_TAGS),
};

/**
 * A family's check of a target other than itself on invoke: a body carrying members only the family reads
 * (`keys`: AI21's and Cohere's `documents` …) is refused there, naming the member, rather than sent without it.
 */
export function onlyOwnMembers(format: string, keys: readonly string[], label: string): NonNullable<ChatFamily['check']> {
  return (read, target) => {
    if (target.route === 'invoke' && ownInvokeBodyFormat(target.family, target.modelId) === format) return;
    const own = read.request.invokeBody?.body ?? {};
    const key = keys.find((k) => own[k] !== undefined);
    if (key !== undefined)
      throw invalid(
        `${key}: only ${label} on invoke reads it, and "${target.name}" is ${target.family ?? 'of an unknown family'} on the ${target.route} route`,
        key,
      );
  };
}

const JAMBA_FORMAT = 'jamba-chat';

/** Jamba's whole answer: OpenAI's, with `tool_calls: null` when it called none, and its own few members. */
function jambaWhole(events: readonly StreamEvent[], meta: AnswerMeta): WholeAnswer {
  const answer = completionOf(events, meta, undefined);
  if ('error' in answer) return answer;
  const { id, model, choices, usage } = answer.body as Json;
  const choice = (choices as Json[])[0]!;
  const message = choice.message as Json;
  const tool_calls = message.tool_calls ?? null;
  return {
    body: {
      id,
      choices: [
        { index: 0, message: { role: 'assistant', content: message.content ?? '', tool_calls }, finish_reason: choice.finish_reason },
      ],
      ...(usage !== undefined ? { usage } : {}),
      model,
    },
    usage: answer.usage,
  };
}

/** AI21 Jamba's OpenAI-like body (`documents` its own), answered in its own shapes. */
export const JAMBA_CHAT: ChatFamily = {
  format: JAMBA_FORMAT,
  keys: [
    'messages',
    'documents',
    'tools',
    'response_format',
    'n',
    'temperature',
    'top_p',
    'max_tokens',
    'stop',
    'frequency_penalty',
    'presence_penalty',
  ],
  required: ['messages'],
  read: (raw) => ({ ...readChatFields(raw), own: raw }),
  check: onlyOwnMembers(JAMBA_FORMAT, ['documents'], 'AI21 Jamba'),
  chunks: (meta) => openAiChunks({ id: meta.id }),
  whole: jambaWhole,
};

/** The body as the neutral request; the body rides along as the family's own. */
export function readChatInvoke(
  family: ChatFamily,
  body: unknown,
  model: string,
  stream: boolean,
  headers: IncomingHttpHeaders,
): SurfaceRequest {
  const { raw, sidecar } = readOwnBody(body, family.keys, family.required);
  const { messages, params, hints, own } = family.read(raw, stream);
  const request: ChatRequest = {
    model,
    stream,
    messages,
    params: neutralParams(params, family.format),
    sidecar,
    ...(hints !== undefined && hints.length > 0 ? { hints } : {}),
    invokeBody: { format: family.format, body: own, messages },
  };
  readServingHeaders(headers, request);
  return { request, unknown: [] };
}

/**
 * The settings of the body the neutral reading keeps: those the family's own invoke adapter takes as parameters
 * (what a converse target or a fallback can be asked for too). The rest (penalties, `logit_bias` …) travel in the
 * family's own body only, which the parameter policy would refuse as parameters.
 */
function neutralParams(params: ChatParams, format: string): ChatParams {
  const takes = ownBodyParams(format);
  return Object.fromEntries(Object.entries(params).filter(([key]) => takes.has(key as ParamName)));
}

/** The events with reasoning as the family's text carries it: inline between its tags, or left out. */
function inlineReasoning(events: readonly StreamEvent[], tags: ReasoningTags | undefined): StreamEvent[] {
  const out: StreamEvent[] = [];
  let open = false;
  for (const event of events) {
    if (event.kind === 'reasoning') {
      if (!tags) continue;
      out.push({ kind: 'text', text: (open ? '' : tags.open) + event.text });
      open = true;
      continue;
    }
    if (open && (event.kind === 'text' || event.kind === 'tool_start' || event.kind === 'finish')) {
      out.push({ kind: 'text', text: tags!.close });
      open = false;
    }
    out.push(event);
  }
  return out;
}
