/**
 * Cohere Command R / R+ (`cohere.command-r*`) on the invoke route: the Cohere Chat v1 body (bedrock-wire
 * §5.6). The last user message is `message`, earlier turns `chat_history` (USER / CHATBOT with
 * `tool_calls` / TOOL with `tool_results`), system text the `preamble`; tools take Cohere's flat
 * `parameter_definitions`, so a JSON schema is reduced to its top-level properties. Trailing tool
 * results go in `tool_results` (with `message: ""`), each paired with the call it answers.
 *
 * Stream events by `event_type`: `text-generation` (text), `tool-calls-chunk` (`tool_call_delta`
 * fragments) or `tool-calls-generation` (whole calls), and the terminal `stream-end` (`is_finished`,
 * `finish_reason`, the whole `response`, Bedrock's invocation metrics). Cohere calls carry no id: one is
 * made from the generation id. `finish_reason: ERROR` is a failure, never a finish. A native InvokeModel
 * client's own body (`ChatRequest.invokeBody`) is sent as it is, the alias's extra fields merged.
 */
import { SidecarError } from '../errors.ts';
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { requireAnswer, wholeToolCall } from './answer.ts';
import { finishEvent, guardrailIntervenedIn, interventionEnd, mapFinishReason } from './finish.ts';
import {
  joinText,
  ownInvokeBody,
  parseArguments,
  type ChatMessage,
  type ChatRequest,
  type ParamName,
  type ToolCall,
  type ToolDefinition,
} from './request.ts';
import type { BuildContext, ChatFamilySpec, ResponseHeaders, RouteAdapter, StreamMapper } from './types.ts';
import { callAt, messageAt } from './paths.ts';
import { parseJsonText } from './json-text.ts';
import { mergeExtraFields, refuseImages, rejectParam } from './policy.ts';
import { counts } from './text-completion.ts';
import { completeUsage, readInvocationMetrics, usageFromHeaders } from './usage.ts';
import { own } from '../own.ts';

type Json = Record<string, unknown>;

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'user',
  'metadata',
]);
const EXTRA_FIELDS: ReadonlySet<string> = new Set([
  'documents',
  'search_queries_only',
  'prompt_truncation',
  'return_prompt',
  'raw_prompting',
  'k',
  'p',
  'seed',
]);

const JSON_TYPE_TO_COHERE: Record<string, string> = {
  string: 'str',
  integer: 'int',
  number: 'float',
  boolean: 'bool',
  array: 'list',
  object: 'dict',
};

/** A JSON schema's top-level properties as Cohere's parameter_definitions. */
export function parameterDefinitions(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties)) {
    const type = typeof prop?.type === 'string' ? (own(JSON_TYPE_TO_COHERE, prop.type) ?? prop.type) : 'str';
    out[name] = {
      ...(typeof prop?.description === 'string' ? { description: prop.description } : {}),
      type,
      required: required.has(name),
    };
  }
  return out;
}

function cohereTools(tools: readonly ToolDefinition[]): Json[] {
  return tools.map((t) => ({ name: t.name, description: t.description ?? '', parameter_definitions: parameterDefinitions(t.parameters) }));
}

/** A tool's text output as Cohere's `outputs` list (a list of objects). */
function toolOutputs(text: string): Json[] {
  // JSON nested deeper than a body may be (json-text.ts) is plain text too.
  const parsed = parseJsonText(text);
  const value = parsed.ok ? parsed.value : undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) return value as Json[];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return [value as Json];
  return [{ result: text }];
}

function callsById(messages: readonly ChatMessage[]): Map<string, { call: ToolCall; at: string }> {
  const byId = new Map<string, { call: ToolCall; at: string }>();
  messages.forEach((m, i) => {
    if (m.role === 'assistant') m.toolCalls.forEach((call, j) => byId.set(call.id, { call, at: callAt(m, i, j) }));
  });
  return byId;
}

function toolResult(m: Extract<ChatMessage, { role: 'tool' }>, i: number, calls: ReturnType<typeof callsById>): Json {
  const found = calls.get(m.toolCallId);
  if (!found) {
    throw new SidecarError(
      'invalid_request_error',
      `${messageAt(m, i)}: tool result "${m.toolCallId}" answers no earlier assistant tool call (Cohere pairs each result with its call)`,
      { param: messageAt(m, i) },
    );
  }
  return { call: { name: found.call.name, parameters: parseArguments(found.call, found.at) }, outputs: toolOutputs(joinText(m.content)) };
}

/** A native InvokeModel client's own Cohere body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'cohere-chat';

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownInvokeBody(request, OWN_BODY_FORMAT);
  if (own) {
    mergeExtraFields(own, ctx, EXTRA_FIELDS, 'Cohere Command R on invoke');
    return own;
  }
  refuseImages(request, 'Cohere Command R');
  const p = request.params;
  const calls = callsById(request.messages);
  const turns = request.messages.map((m, i) => ({ m, i })).filter(({ m }) => m.role !== 'system');
  // The request's own turn: trailing tool results, else the last user message.
  let tail = turns.length;
  while (tail > 0 && turns[tail - 1]!.m.role === 'tool') tail--;
  const trailingTools = turns.slice(tail);
  if (trailingTools.length === 0 && tail > 0 && turns[tail - 1]!.m.role === 'user') tail--;
  const last = turns[tail]?.m;

  const history: Json[] = [];
  for (const { m, i } of turns.slice(0, tail)) {
    if (m.role === 'user') history.push({ role: 'USER', message: joinText(m.content) });
    else if (m.role === 'assistant') {
      const entry: Json = { role: 'CHATBOT', message: joinText(m.content) };
      if (m.toolCalls.length > 0) {
        entry.tool_calls = m.toolCalls.map((c, j) => ({ name: c.name, parameters: parseArguments(c, callAt(m, i, j)) }));
      }
      history.push(entry);
    } else if (m.role === 'tool') {
      history.push({ role: 'TOOL', tool_results: [toolResult(m, i, calls)] });
    }
  }

  const body: Record<string, unknown> = {
    message: trailingTools.length === 0 && last?.role === 'user' ? joinText(last.content) : '',
  };
  if (history.length > 0) body.chat_history = history;
  const system = request.messages
    .filter((m) => m.role === 'system')
    .map((m) => joinText(m.content))
    .filter(Boolean);
  if (system.length > 0) body.preamble = system.join('\n\n');
  if (p.tools !== undefined && p.tools.length > 0) {
    if (p.tool_choice?.type === 'none' && trailingTools.length === 0) ctx.note('tool_choice "none": tools not sent');
    else body.tools = cohereTools(p.tools);
    if (p.tool_choice?.type === 'required' || p.tool_choice?.type === 'function') {
      rejectParam(
        ctx,
        'tool_choice',
        `"${p.tool_choice.type}" cannot be honoured: Cohere Command R has no forced tool choice (with drop_params the tools are only offered)`,
      );
    }
  }
  if (trailingTools.length > 0)
    body.tool_results = trailingTools.map(({ m, i }) => toolResult(m as Extract<ChatMessage, { role: 'tool' }>, i, calls));
  if (p.max_tokens !== undefined) body.max_tokens = p.max_tokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.top_p !== undefined) body.p = p.top_p;
  if (p.top_k !== undefined) body.k = p.top_k;
  if (p.stop !== undefined) body.stop_sequences = p.stop;
  if (p.seed !== undefined) body.seed = p.seed;
  if (p.frequency_penalty !== undefined) body.frequency_penalty = p.frequency_penalty;
  if (p.presence_penalty !== undefined) body.presence_penalty = p.presence_penalty;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Cohere body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Cohere Command R on invoke');
  return body;
}

function billedUsage(response: unknown): Partial<Usage> {
  const meta = (response as Json | undefined)?.meta as Json | undefined;
  const billed = meta?.billed_units as Json | undefined;
  return billed ? counts(billed.input_tokens, billed.output_tokens) : {};
}

/** The end of a Cohere answer: `ERROR` is a failure; a finish that followed tool calls is `tool_calls`. */
function endEvents(reason: string, tools: boolean, intervened: boolean, usage: Usage | undefined): StreamEvent[] {
  if (reason.toUpperCase() === 'ERROR') {
    return [{ kind: 'error', error: new SidecarError('upstream_error', 'Cohere ended the generation with finish_reason ERROR') }];
  }
  let mapped = mapFinishReason(reason);
  if (mapped === 'stop' && tools) mapped = 'tool_calls';
  const out: StreamEvent[] = [finishEvent(reason, intervened, mapped)];
  if (usage) out.push({ kind: 'usage', usage });
  return out;
}

function wholeCalls(list: unknown, idPrefix: string, start: number, out: StreamEvent[]): number {
  let n = start;
  if (!Array.isArray(list)) return n;
  for (const raw of list) {
    const call = raw as Json;
    if (typeof call?.name !== 'string') continue;
    const index = n++;
    out.push(...wholeToolCall(index, `${idPrefix}_${index}`, call.name, call.parameters));
  }
  return n;
}

class CohereStreamMapper implements StreamMapper {
  terminated = false;
  private idPrefix = 'call_cohere';
  private tools = 0;
  /** `tool-calls-chunk` index → dense index, once fragments were seen the whole-call event is a repeat */
  private readonly chunked = new Map<number, number>();
  private intervened = false;

  push(event: Json): StreamEvent[] {
    if (guardrailIntervenedIn(event)) this.intervened = true;
    const out: StreamEvent[] = [];
    switch (event.event_type) {
      case 'stream-start':
        if (typeof event.generation_id === 'string' && event.generation_id !== '') this.idPrefix = `call_${event.generation_id}`;
        return out;
      case 'text-generation':
        if (typeof event.text === 'string' && event.text !== '') out.push({ kind: 'text', text: event.text });
        return out;
      case 'tool-calls-chunk': {
        const delta = event.tool_call_delta as Json | undefined;
        if (!delta || typeof delta.index !== 'number') {
          return out; // a text fragment of the tool plan: nothing for the client
        }
        let index = this.chunked.get(delta.index);
        if (index === undefined && typeof delta.name === 'string') {
          index = this.tools++;
          this.chunked.set(delta.index, index);
          out.push({ kind: 'tool_start', index, id: `${this.idPrefix}_${index}`, name: delta.name });
        }
        if (index !== undefined && typeof delta.parameters === 'string' && delta.parameters !== '') {
          out.push({ kind: 'tool_delta', index, arguments: delta.parameters });
        }
        return out;
      }
      case 'tool-calls-generation':
        if (this.chunked.size === 0) this.tools = wholeCalls(event.tool_calls, this.idPrefix, this.tools, out);
        return out;
      case 'stream-end': {
        this.terminated = true;
        const reason = typeof event.finish_reason === 'string' ? event.finish_reason : 'COMPLETE';
        out.push(
          ...endEvents(reason, this.tools > 0, this.intervened, completeUsage(billedUsage(event.response), readInvocationMetrics(event))),
        );
        return out;
      }
      default:
        // is_finished without an event type is the end too (older Cohere streams)
        if (event.is_finished === true) {
          this.terminated = true;
          const reason = typeof event.finish_reason === 'string' ? event.finish_reason : 'COMPLETE';
          out.push(...endEvents(reason, this.tools > 0, this.intervened, completeUsage(readInvocationMetrics(event))));
        }
        return out;
    }
  }

  end(): StreamEvent[] | undefined {
    if (!this.intervened) return undefined;
    this.terminated = true;
    return interventionEnd(undefined);
  }
}

function parseResponse(body: Json, headers?: ResponseHeaders): StreamEvent[] {
  requireAnswer(typeof body.text === 'string', '`text`', 'a Cohere Command R answer');
  const out: StreamEvent[] = [];
  if (typeof body.text === 'string' && body.text !== '') out.push({ kind: 'text', text: body.text });
  const prefix = typeof body.generation_id === 'string' && body.generation_id !== '' ? `call_${body.generation_id}` : 'call_cohere';
  const tools = wholeCalls(body.tool_calls, prefix, 0, out);
  const reason = typeof body.finish_reason === 'string' ? body.finish_reason : 'COMPLETE';
  out.push(...endEvents(reason, tools > 0, guardrailIntervenedIn(body), completeUsage(usageFromHeaders(headers), billedUsage(body))));
  return out;
}

export const cohereInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new CohereStreamMapper(),
  parseResponse,
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const cohere: ChatFamilySpec<'cohere'> = {
  family: 'cohere',
  kind: 'chat',
  modelIds: /^cohere\.command-r/,
  providers: ['cohere'],
  aliases: [],
  invoke: cohereInvoke,
  converse: {
    tools: true,
    images: false,
    documents: true,
    structured: false,
    extra: ['top_k', 'seed', 'presence_penalty', 'frequency_penalty'],
    extraFields: [
      'k',
      'seed',
      'presence_penalty',
      'frequency_penalty',
      'documents',
      'search_queries_only',
      'prompt_truncation',
      'return_prompt',
      'raw_prompting',
    ],
    topK: (k) => ({ k }),
  },
};
