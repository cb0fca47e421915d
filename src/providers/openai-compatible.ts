/**
 * The OpenAI-chat-shaped invoke bodies and streams shared by gpt-oss, Qwen, AI21 Jamba and Mistral's chat
 * models: message translation, tool definitions, the `choices[0].delta` (or `.message`) stream mapper and
 * the non-streaming parser. Families differ in small ways, passed as options: Mistral names its finish
 * `stop_reason` and sends whole tool calls in one chunk; gpt-oss wraps reasoning in `<reasoning>` tags.
 *
 * Terminal event: the chunk whose `finish_reason` (or `stop_reason`) is set. It emits what it carries,
 * then `finish`, then `usage` (`amazon-bedrock-invocationMetrics` on that chunk, else the chunk's or an
 * earlier chunk's OpenAI `usage`). Tool-call fragments are keyed by their `index` (else their position)
 * and renumbered densely; a fragment that arrives before its call's name is held until the name comes,
 * so a client always sees id and name first.
 */
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { isRecord, requireAnswer } from './answer.ts';
import { finishEvent, guardrailIntervenedIn, interventionEnd, mapFinishReason } from './finish.ts';
import { ReasoningSplitter, type ReasoningTags } from './reasoning-tags.ts';
import { joinText, type ChatMessage, type ToolChoice, type ToolDefinition } from './request.ts';
import type { ResponseHeaders, StreamMapper } from './types.ts';
import { completeUsage, openAiUsageOf, readInvocationMetrics, usageFromHeaders } from './usage.ts';

type Json = Record<string, unknown>;

export interface OpenAiMessageOptions {
  /** Whether user images go as `image_url` data-URL parts (else the caller refused them already). */
  images: boolean;
  /** Add `type: "function"` to assistant tool calls (OpenAI does; Mistral's documented shape does not). */
  toolCallType: boolean;
}

/** OpenAI messages in the wire form a family takes: string content for text-only messages. */
export function openAiMessages(messages: readonly ChatMessage[], options: OpenAiMessageOptions): Json[] {
  return messages.map((m): Json => {
    switch (m.role) {
      case 'system':
        return { role: 'system', content: joinText(m.content) };
      case 'user':
        if (!options.images || m.content.every((p) => p.type === 'text')) return { role: 'user', content: joinText(m.content) };
        return {
          role: 'user',
          content: m.content.map((p) =>
            p.type === 'text'
              ? { type: 'text', text: p.text }
              : { type: 'image_url', image_url: { url: `data:${p.mediaType};base64,${p.data}` } },
          ),
        };
      case 'assistant': {
        const out: Json = { role: 'assistant', content: joinText(m.content) };
        if (m.toolCalls.length > 0) {
          out.tool_calls = m.toolCalls.map((c) => ({
            id: c.id,
            ...(options.toolCallType ? { type: 'function' } : {}),
            function: { name: c.name, arguments: c.arguments },
          }));
        }
        return out;
      }
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId, content: joinText(m.content) };
    }
  });
}

export function openAiTools(tools: readonly ToolDefinition[]): Json[] {
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters },
  }));
}

export function openAiToolChoice(choice: ToolChoice): unknown {
  return choice.type === 'function' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

export interface OpenAiStreamOptions {
  /** A leading reasoning block in the content (gpt-oss `<reasoning>`), split into reasoning deltas. */
  reasoningTags?: ReasoningTags;
}

/** Internal events for one `tool_calls` list (stream fragments or a whole response's calls). */
class ToolCallAssembler {
  private readonly calls = new Map<string, { index: number | undefined; pending: string }>();
  private next = 0;
  /** Whether any call was started (a model that called tools finished because of them). */
  get any(): boolean {
    return this.next > 0;
  }

  push(list: unknown, out: StreamEvent[]): void {
    if (!Array.isArray(list)) return;
    list.forEach((raw, position) => {
      if (typeof raw !== 'object' || raw === null) return;
      const call = raw as Json;
      const fn = (call.function ?? {}) as Json;
      const key =
        typeof call.index === 'number' ? `i${call.index}` : typeof call.id === 'string' && call.id !== '' ? `id${call.id}` : `p${position}`;
      let state = this.calls.get(key);
      if (!state) {
        state = { index: undefined, pending: '' };
        this.calls.set(key, state);
      }
      if (state.index === undefined && typeof fn.name === 'string' && fn.name !== '') {
        state.index = this.next++;
        const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${state.index}`;
        out.push({ kind: 'tool_start', index: state.index, id, name: fn.name });
      }
      const args =
        typeof fn.arguments === 'string'
          ? fn.arguments
          : fn.arguments !== undefined && fn.arguments !== null
            ? JSON.stringify(fn.arguments)
            : '';
      if (state.index === undefined) {
        state.pending += args;
        return;
      }
      const text = state.pending + args;
      state.pending = '';
      if (text !== '') out.push({ kind: 'tool_delta', index: state.index, arguments: text });
    });
  }
}

function finishOf(choice: Json): string | undefined {
  const reason = choice.finish_reason ?? choice.stop_reason;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

export function finishEvents(stop: string, tools: boolean, intervened: boolean, usage: Usage | undefined): StreamEvent[] {
  let reason = mapFinishReason(stop);
  // A few chat families say `stop` even when the turn ended in tool calls; the client needs `tool_calls`.
  if (reason === 'stop' && tools) reason = 'tool_calls';
  const out: StreamEvent[] = [finishEvent(stop, intervened, reason)];
  if (usage) out.push({ kind: 'usage', usage });
  return out;
}

export class OpenAiStreamMapper implements StreamMapper {
  terminated = false;
  private readonly splitter: ReasoningSplitter | undefined;
  private readonly tools = new ToolCallAssembler();
  private usage: Partial<Usage> = {};
  private intervened = false;

  constructor(options: OpenAiStreamOptions = {}) {
    this.splitter = options.reasoningTags ? new ReasoningSplitter(options.reasoningTags) : undefined;
  }

  push(event: Json): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (guardrailIntervenedIn(event)) this.intervened = true;
    if (event.usage) Object.assign(this.usage, openAiUsageOf(event.usage));
    const choice =
      Array.isArray(event.choices) && typeof event.choices[0] === 'object' && event.choices[0] !== null
        ? (event.choices[0] as Json)
        : undefined;
    if (choice) {
      // Mistral's chat models stream `message` where OpenAI streams `delta`.
      const delta = (choice.delta ?? choice.message ?? {}) as Json;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '') out.push({ kind: 'reasoning', text: reasoning });
      if (typeof delta.content === 'string' && delta.content !== '') {
        out.push(...(this.splitter ? this.splitter.push(delta.content) : [{ kind: 'text', text: delta.content } as const]));
      }
      this.tools.push(delta.tool_calls, out);
    }
    const stop = choice ? finishOf(choice) : undefined;
    if (stop === undefined) return out;
    this.terminated = true;
    if (this.splitter) out.push(...this.splitter.end());
    out.push(...finishEvents(stop, this.tools.any, this.intervened, completeUsage(this.usage, readInvocationMetrics(event))));
    return out;
  }

  end(): StreamEvent[] | undefined {
    if (!this.intervened) return undefined;
    this.terminated = true;
    return [...(this.splitter ? this.splitter.end() : []), ...interventionEnd(completeUsage(this.usage))];
  }
}

export function parseOpenAiResponse(body: Json, headers: ResponseHeaders | undefined, options: OpenAiStreamOptions = {}): StreamEvent[] {
  const out: StreamEvent[] = [];
  const first: unknown = Array.isArray(body.choices) ? body.choices[0] : undefined;
  requireAnswer(isRecord(first) && isRecord(first.message), '`choices[0].message`', 'an OpenAI-shaped chat answer');
  const choice = first as Json;
  const message = choice.message as Json;
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') out.push({ kind: 'reasoning', text: reasoning });
  if (typeof message.content === 'string' && message.content !== '') {
    if (options.reasoningTags) {
      const splitter = new ReasoningSplitter(options.reasoningTags);
      out.push(...splitter.push(message.content), ...splitter.end());
    } else {
      out.push({ kind: 'text', text: message.content });
    }
  }
  const tools = new ToolCallAssembler();
  tools.push(message.tool_calls, out);
  out.push(
    ...finishEvents(
      finishOf(choice) ?? 'stop',
      tools.any,
      guardrailIntervenedIn(body),
      completeUsage(usageFromHeaders(headers), openAiUsageOf(body.usage)),
    ),
  );
  return out;
}
