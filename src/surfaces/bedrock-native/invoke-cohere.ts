/**
 * Cohere Command R / R+'s own InvokeModel body and answers on the native surface (docs/contract.md#bedrock-native,
 * docs/bedrock-wire.md#cohere-command-r): Cohere Chat v1 — `message` (required), `chat_history` (USER, CHATBOT
 * with `tool_calls`, SYSTEM, TOOL with `tool_results`), `preamble`, `documents`, `tools` (`parameter_definitions`),
 * `tool_results`, `max_tokens`, `temperature`, `p`, `k`, `stop_sequences`, `seed`, penalties and Cohere's own
 * switches. Its neutral reading: the preamble a system message, the history and `message` the turns, Cohere's
 * id-less tool calls given ids and each result paired with its call (a result whose call the history does not
 * carry gets it, as Cohere's second turn sends only the results); `documents` and the switches travel in the
 * body only, so a target other than Cohere on invoke is refused a body that has them. The answers are Cohere's:
 * `text-generation` chunks, the calls whole in `tool-calls-generation`, and `stream-end` with the whole
 * `response` (its `meta` with the counts) and Bedrock's `amazon-bedrock-invocationMetrics`; the whole answer is
 * `{response_id, text, generation_id, chat_history, finish_reason, tool_calls}`.
 */
import { randomUUID } from 'node:crypto';
import type { ModelTarget } from '../../models/resolve.ts';
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import { ownInvokeBodyFormat } from '../../providers/index.ts';
import type { ChatMessage, ChatParams, ToolCall, ToolDefinition } from '../../providers/request.ts';
import type { AnswerMeta, SurfaceRequest, WholeAnswer } from '../../server/surface.ts';
import { invalid, isObject } from './converse-request.ts';
import type { ChatFamily } from './invoke-chat.ts';
import { stopOf, type ChunkShape } from './invoke-prompt.ts';
import { own } from '../../own.ts';

type Json = Record<string, unknown>;

const FORMAT = 'cohere-chat';
/** Members only Cohere reads: a body with one goes to Cohere on invoke only. */
const COHERE_ONLY = ['documents', 'search_queries_only', 'prompt_truncation', 'return_prompt', 'raw_prompting'];
const STOPS: ReadonlySet<string> = new Set(['COMPLETE', 'MAX_TOKENS', 'ERROR_TOXIC', 'ERROR_LIMIT', 'USER_CANCEL', 'STOP_SEQUENCE']);
const TYPES: Readonly<Record<string, string>> = {
  str: 'string',
  int: 'integer',
  float: 'number',
  bool: 'boolean',
  list: 'array',
  dict: 'object',
};

const text = (value: unknown, at: string): string => {
  if (typeof value !== 'string') throw invalid(`${at}: must be a string`, at);
  return value;
};
const num = (value: unknown, at: string): number => {
  if (typeof value !== 'number') throw invalid(`${at}: must be a number`, at);
  return value;
};

/** Cohere's id-less tool calls, given ids, and the results paired with them. */
class Calls {
  readonly #open: ToolCall[] = [];
  #next = 0;

  /** A CHATBOT turn's calls. */
  called(list: unknown, at: string): ToolCall[] {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw invalid(`${at}: must be a list`, at);
    return list.map((call: unknown, i) => {
      if (!isObject(call) || typeof call.name !== 'string') throw invalid(`${at}.${i}: must be {name, parameters}`, `${at}.${i}`);
      const made: ToolCall = {
        id: `cohere_call_${this.#next++}`,
        name: call.name,
        arguments: JSON.stringify(call.parameters ?? {}),
        at: `${at}.${i}`,
      };
      this.#open.push(made);
      return made;
    });
  }

  /** Tool results as tool messages, after an assistant turn carrying the calls the history did not. */
  results(list: unknown, at: string): ChatMessage[] {
    if (!Array.isArray(list)) throw invalid(`${at}: must be a list`, at);
    const missing: ToolCall[] = [];
    const answers = list.map((result: unknown, i): ChatMessage => {
      const where = `${at}.${i}`;
      if (!isObject(result) || !isObject(result.call) || typeof result.call.name !== 'string' || !Array.isArray(result.outputs))
        throw invalid(`${where}: must be {call: {name, parameters}, outputs: [...]}`, where);
      const args = JSON.stringify(result.call.parameters ?? {});
      const name = result.call.name;
      const found = this.#open.findIndex((c) => c.name === name && c.arguments === args);
      const index = found >= 0 ? found : this.#open.findIndex((c) => c.name === name);
      let call: ToolCall;
      if (index >= 0) call = this.#open.splice(index, 1)[0]!;
      else {
        call = { id: `cohere_call_${this.#next++}`, name, arguments: args, at: `${where}.call` };
        missing.push(call);
      }
      return {
        role: 'tool',
        toolCallId: call.id,
        content: [{ type: 'text', text: JSON.stringify(result.outputs), at: `${where}.outputs` }],
        at: where,
      };
    });
    return missing.length > 0 ? [{ role: 'assistant', content: [], toolCalls: missing, at }, ...answers] : answers;
  }
}

function readHistory(history: unknown, calls: Calls): ChatMessage[] {
  if (history === undefined) return [];
  if (!Array.isArray(history)) throw invalid('chat_history: must be a list', 'chat_history');
  return history.flatMap((turn: unknown, i): ChatMessage[] => {
    const at = `chat_history.${i}`;
    if (!isObject(turn)) throw invalid(`${at}: must be an object`, at);
    const said = turn.message === undefined ? '' : text(turn.message, `${at}.message`);
    const content = said === '' ? [] : [{ type: 'text' as const, text: said, at: `${at}.message` }];
    switch (turn.role) {
      case 'USER':
        return [{ role: 'user', content, at }];
      case 'SYSTEM':
        return [{ role: 'system', content, at }];
      case 'CHATBOT':
        return [{ role: 'assistant', content, toolCalls: calls.called(turn.tool_calls, `${at}.tool_calls`), at }];
      case 'TOOL':
        return calls.results(turn.tool_results ?? [], `${at}.tool_results`);
      default:
        throw invalid(`${at}.role: must be USER, CHATBOT, SYSTEM or TOOL`, `${at}.role`);
    }
  });
}

/** Cohere's flat `parameter_definitions` as a JSON schema. */
function readTools(tools: unknown): ToolDefinition[] {
  if (!Array.isArray(tools)) throw invalid('tools: must be a list', 'tools');
  return tools.map((tool: unknown, i): ToolDefinition => {
    const at = `tools.${i}`;
    if (!isObject(tool) || typeof tool.name !== 'string') throw invalid(`${at}: must be an object with a name`, at);
    const definitions = isObject(tool.parameter_definitions) ? tool.parameter_definitions : {};
    const properties: Json = {};
    const required: string[] = [];
    for (const [name, definition] of Object.entries(definitions)) {
      const d = isObject(definition) ? definition : {};
      properties[name] = {
        type: typeof d.type === 'string' ? (own(TYPES, d.type) ?? d.type) : 'string',
        ...(typeof d.description === 'string' ? { description: d.description } : {}),
      };
      if (d.required === true) required.push(name);
    }
    return {
      name: tool.name,
      description: typeof tool.description === 'string' ? tool.description : undefined,
      parameters: { type: 'object', properties, ...(required.length > 0 ? { required } : {}) },
    };
  });
}

function readCohere(raw: Json): { messages: ChatMessage[]; params: ChatParams } {
  const messages: ChatMessage[] = [];
  if (raw.preamble !== undefined && text(raw.preamble, 'preamble') !== '')
    messages.push({ role: 'system', content: [{ type: 'text', text: raw.preamble as string, at: 'preamble' }], at: 'preamble' });
  const calls = new Calls();
  messages.push(...readHistory(raw.chat_history, calls));
  if (raw.tool_results !== undefined) messages.push(...calls.results(raw.tool_results, 'tool_results'));
  const message = text(raw.message, 'message');
  if (message !== '') messages.push({ role: 'user', content: [{ type: 'text', text: message, at: 'message' }], at: 'message' });
  const params: ChatParams = {};
  if (raw.max_tokens !== undefined) params.max_tokens = num(raw.max_tokens, 'max_tokens');
  if (raw.temperature !== undefined) params.temperature = num(raw.temperature, 'temperature');
  if (raw.p !== undefined) params.top_p = num(raw.p, 'p');
  if (raw.k !== undefined) params.top_k = num(raw.k, 'k');
  if (raw.seed !== undefined) params.seed = num(raw.seed, 'seed');
  if (raw.frequency_penalty !== undefined) params.frequency_penalty = num(raw.frequency_penalty, 'frequency_penalty');
  if (raw.presence_penalty !== undefined) params.presence_penalty = num(raw.presence_penalty, 'presence_penalty');
  if (raw.stop_sequences !== undefined) {
    if (!Array.isArray(raw.stop_sequences) || raw.stop_sequences.some((s) => typeof s !== 'string'))
      throw invalid('stop_sequences: must be a list of strings', 'stop_sequences');
    if (raw.stop_sequences.length > 0) params.stop = raw.stop_sequences as string[];
  }
  if (raw.tools !== undefined) {
    const tools = readTools(raw.tools);
    if (tools.length > 0) params.tools = tools;
  }
  return { messages, params };
}

/** A body with members only Cohere reads goes to Cohere on invoke only. */
function checkCohereTarget(read: SurfaceRequest, target: ModelTarget): void {
  if (target.route === 'invoke' && ownInvokeBodyFormat(target.family, target.modelId) === FORMAT) return;
  const own = read.request.invokeBody?.body ?? {};
  const only = COHERE_ONLY.find((key) => own[key] !== undefined);
  if (only !== undefined)
    throw invalid(
      `${only}: only Cohere Command R on invoke reads it, and "${target.name}" is ${target.family ?? 'of an unknown family'} on the ${target.route} route`,
      only,
    );
}

const cohereStop = (reason: FinishReason): string =>
  reason === 'length' ? 'MAX_TOKENS' : reason === 'content_filter' ? 'ERROR_TOXIC' : 'COMPLETE';

interface Said {
  text: string;
  calls: Array<{ name: string; args: string }>;
}

function parameters(args: string): unknown {
  try {
    return JSON.parse(args === '' ? '{}' : args) as unknown;
  } catch {
    return args; // not JSON: as the model wrote it
  }
}

/** The whole `response` (the whole answer, and the stream's last chunk's). */
function response(said: Said, stop: string, meta: AnswerMeta, history: unknown[], usage: Usage | undefined, generationId: string): Json {
  const calls = said.calls.map((c) => ({ name: c.name, parameters: parameters(c.args) }));
  const counts = usage ? { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens } : undefined;
  return {
    response_id: meta.id,
    text: said.text,
    generation_id: generationId,
    chat_history: [...history, { role: 'CHATBOT', message: said.text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }],
    finish_reason: stop,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...(counts ? { meta: { api_version: { version: '1' }, billed_units: counts, tokens: counts } } : {}),
  };
}

/** The conversation as Cohere's answer repeats it: the body's history and its message. */
function historyOf(own: Json | undefined): unknown[] {
  const history = Array.isArray(own?.chat_history) ? (own.chat_history as unknown[]) : [];
  return typeof own?.message === 'string' && own.message !== '' ? [...history, { role: 'USER', message: own.message }] : history;
}

function cohereChunks(meta: AnswerMeta, own: Json | undefined): ChunkShape {
  const said: Said = { text: '', calls: [] };
  const generationId = randomUUID();
  return {
    stopReasons: STOPS,
    stop: cohereStop,
    chunk: (piece) => {
      said.text += piece;
      return { is_finished: false, event_type: 'text-generation', text: piece };
    },
    tool: (event) => {
      if (event.kind === 'tool_start') said.calls[event.index] = { name: event.name, args: '' };
      else if (said.calls[event.index]) said.calls[event.index]!.args += event.arguments;
      return undefined; // Cohere sends its calls whole, once generated
    },
    held: () =>
      said.calls.length > 0
        ? [
            {
              is_finished: false,
              event_type: 'tool-calls-generation',
              tool_calls: said.calls.map((c) => ({ name: c.name, parameters: parameters(c.args) })),
            },
          ]
        : [],
    last: (stop, usage) => ({
      is_finished: true,
      event_type: 'stream-end',
      response: response(said, stop, meta, historyOf(own), usage, generationId),
      finish_reason: stop,
    }),
  };
}

function cohereWhole(events: readonly StreamEvent[], meta: AnswerMeta, own: Json | undefined): WholeAnswer {
  const said: Said = { text: '', calls: [] };
  let stop: string | undefined;
  let usage: Usage | undefined;
  for (const event of events) {
    if (event.kind === 'text') said.text += event.text;
    else if (event.kind === 'tool_start') said.calls[event.index] = { name: event.name, args: '' };
    else if (event.kind === 'tool_delta' && said.calls[event.index]) said.calls[event.index]!.args += event.arguments;
    else if (event.kind === 'finish') stop ??= stopOf({ stopReasons: STOPS, stop: cohereStop }, event);
    else if (event.kind === 'usage') usage = event.usage;
    else if (event.kind === 'error') return { error: event.error };
  }
  // Bedrock's whole Cohere answer carries no counts (they travel in its token-count headers).
  const { meta: _counts, ...body } = response(said, stop ?? 'COMPLETE', meta, historyOf(own), usage, randomUUID());
  return { body, usage };
}

export const COHERE_CHAT: ChatFamily = {
  format: FORMAT,
  keys: [
    'message',
    'chat_history',
    'preamble',
    'max_tokens',
    'temperature',
    'p',
    'k',
    'frequency_penalty',
    'presence_penalty',
    'seed',
    'tools',
    'tool_results',
    'stop_sequences',
    ...COHERE_ONLY,
  ],
  required: ['message'],
  read: (raw) => ({ ...readCohere(raw), own: raw }),
  check: checkCohereTarget,
  chunks: (meta, request) => cohereChunks(meta, request.invokeBody?.body),
  whole: (events, meta, request) => cohereWhole(events, meta, request.invokeBody?.body),
};
