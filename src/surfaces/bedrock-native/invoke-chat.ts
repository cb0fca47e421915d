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
 * the path names the model, which may be an alias.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FinishReason, StreamEvent } from '../../pipeline/events.ts';
import { ownBodyParams } from '../../providers/index.ts';
import type { ChatParams, ChatRequest, ParamName } from '../../providers/request.ts';
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
  /** Top-level members Bedrock takes. */
  readonly keys: readonly string[];
  /** Reasoning inline in the family's text (gpt-oss on invoke), else the family's answers carry none. */
  readonly reasoningTags?: { open: string; close: string };
  /** Its stream chunks, stamped with the answer's id, time and model. */
  chunks(meta: AnswerMeta): ChunkShape;
  /** Its whole answer from the Chat Completions one the events make (reasoning already inline). */
  whole(completion: Json, meta: AnswerMeta): Json;
}

/** OpenAI's finish reasons (the neutral ones are OpenAI's). */
const OPENAI_STOPS: ReadonlySet<string> = new Set(['stop', 'length', 'tool_calls', 'content_filter']);

/** The Chat Completions chunk shape: `delta` pieces, the last with the finish reason and the usage. */
function openAiChunks(meta: AnswerMeta, reasoningTags: ChatFamily['reasoningTags']): ChunkShape {
  const base = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model };
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
  reasoningTags: { open: '<reasoning>', close: '</reasoning>' },
  chunks: (meta) => openAiChunks(meta, OPENAI_CHAT.reasoningTags),
  whole: (completion) => completion,
};

export const CHAT_FAMILIES: readonly ChatFamily[] = [OPENAI_CHAT];

/** The body as the neutral request; the body rides along as the family's own. */
export function readChatInvoke(
  family: ChatFamily,
  body: unknown,
  model: string,
  stream: boolean,
  headers: IncomingHttpHeaders,
): SurfaceRequest {
  const { raw, sidecar } = readOwnBody(body, family.keys, ['messages']);
  if (raw.model !== undefined && typeof raw.model !== 'string') throw invalid('model: must be a string', 'model');
  if (raw.stream !== undefined && raw.stream !== stream)
    throw invalid(
      `The stream field in the request body must be ${stream} (or omitted) for ${stream ? 'InvokeModelWithResponseStream' : 'InvokeModel'}.`,
      'stream',
    );
  const { model: _model, stream: _stream, ...own } = raw;
  const fields = readChatFields(own);
  const params = neutralParams(fields.params, family.format);
  const request: ChatRequest = {
    model,
    stream,
    messages: fields.messages,
    params,
    sidecar,
    ...(fields.hints.length > 0 ? { hints: fields.hints } : {}),
    invokeBody: { format: family.format, body: own, messages: fields.messages },
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
function inlineReasoning(events: readonly StreamEvent[], tags: ChatFamily['reasoningTags']): StreamEvent[] {
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

/** A chat family's whole InvokeModel answer. */
export function chatAnswer(family: ChatFamily, events: readonly StreamEvent[], meta: AnswerMeta): WholeAnswer {
  const completion = assembleCompletion(inlineReasoning(events, family.reasoningTags), meta);
  if ('error' in completion) return completion;
  return { body: family.whole(completion.body, meta), usage: completion.usage };
}
