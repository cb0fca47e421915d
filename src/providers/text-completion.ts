/**
 * The stream and response shape of the completion-style invoke families (Titan Text, Llama, Mistral's
 * prompt models, DeepSeek R1): every chunk carries a piece of text and, on the last one, the stop reason.
 * Each family supplies three readers; this module turns them into internal events.
 *
 * Terminal event: the chunk whose stop reason is set (docs/contract.md#streaming-and-errors). It emits any text it
 * carries, then `finish`, then `usage` (Bedrock's `amazon-bedrock-invocationMetrics` on that chunk, else the family's own
 * counts). Text may pass through a `ReasoningSplitter` (DeepSeek R1's `<think>` block).
 */
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { requireAnswer } from './answer.ts';
import { finishEvent, guardrailIntervenedIn, interventionEnd } from './finish.ts';
import { ReasoningSplitter, type ReasoningTags } from './reasoning-tags.ts';
import { joinText, sameText, type ChatRequest } from './request.ts';
import type { ResponseHeaders, StreamMapper } from './types.ts';
import { completeUsage, readInvocationMetrics, usageFromHeaders } from './usage.ts';

type Json = Record<string, unknown>;

export interface CompletionReaders {
  /** Text carried by one stream chunk, or by the whole response. */
  text(event: Json): string | undefined;
  /** The stop reason, when this chunk (or the response) carries one. */
  stopReason(event: Json): string | undefined;
  /** Token counts the family itself reports in the chunk or response. */
  usage(event: Json): Partial<Usage>;
}

export interface CompletionShape {
  chunk: CompletionReaders;
  response: CompletionReaders;
  /** What a whole answer must carry (`results[0].outputText`), and whose answer it is, for the 502 naming it. */
  answer: { what: string; family: string; has(body: Json): boolean };
  reasoning?: ReasoningTags;
}

/**
 * A native InvokeModel client's own body of `format` (the family's `RouteAdapter.ownBodyFormat`), a copy to
 * send as it is; its prompt (`key`) becomes the neutral user text where an input guardrail's mask changed it.
 * Undefined when the request carries no such body (every other client: the family builds one).
 */
export function ownPromptBody(request: ChatRequest, format: string, key: string): Json | undefined {
  const native = request.invokeBody;
  if (native?.format !== format) return undefined;
  if (sameText(native.messages, request.messages)) return { ...native.body };
  return { ...native.body, [key]: request.messages.map((m) => joinText(m.content)).join('') };
}

export function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A string field of a provider event (a tool's id or name), or '' when absent or not a string. */
export function stringOrEmpty(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function countOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** First element of an array member (`outputs[0]`, `choices[0]`, `results[0]`), or an empty object. */
export function first(event: Json, key: string): Json {
  const list = event[key];
  const item: unknown = Array.isArray(list) ? list[0] : undefined;
  return typeof item === 'object' && item !== null ? (item as Json) : {};
}

function finishEvents(stop: string, intervened: boolean, usage: Usage | undefined): StreamEvent[] {
  const out: StreamEvent[] = [finishEvent(stop, intervened)];
  if (usage) out.push({ kind: 'usage', usage });
  return out;
}

export class CompletionStreamMapper implements StreamMapper {
  terminated = false;
  private readonly splitter: ReasoningSplitter | undefined;
  private familyUsage: Partial<Usage> = {};
  private intervened = false;

  constructor(private readonly shape: CompletionShape) {
    this.splitter = shape.reasoning ? new ReasoningSplitter(shape.reasoning) : undefined;
  }

  push(event: Json): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (guardrailIntervenedIn(event)) this.intervened = true;
    const text = this.shape.chunk.text(event);
    if (text !== undefined && text !== '') out.push(...(this.splitter ? this.splitter.push(text) : [{ kind: 'text', text } as const]));
    Object.assign(this.familyUsage, this.shape.chunk.usage(event));
    const stop = this.shape.chunk.stopReason(event);
    if (stop === undefined) return out;
    this.terminated = true;
    if (this.splitter) out.push(...this.splitter.end());
    out.push(...finishEvents(stop, this.intervened, completeUsage(this.familyUsage, readInvocationMetrics(event))));
    return out;
  }

  end(): StreamEvent[] | undefined {
    if (!this.intervened) return undefined;
    this.terminated = true;
    return [...(this.splitter ? this.splitter.end() : []), ...interventionEnd(completeUsage(this.familyUsage))];
  }
}

export function parseCompletion(shape: CompletionShape, body: Json, headers: ResponseHeaders | undefined): StreamEvent[] {
  requireAnswer(shape.answer.has(body), shape.answer.what, shape.answer.family);
  const out: StreamEvent[] = [];
  const text = shape.response.text(body) ?? '';
  if (shape.reasoning) {
    const splitter = new ReasoningSplitter(shape.reasoning);
    out.push(...splitter.push(text), ...splitter.end());
  } else if (text !== '') {
    out.push({ kind: 'text', text });
  }
  const stop = shape.response.stopReason(body) ?? 'stop';
  out.push(...finishEvents(stop, guardrailIntervenedIn(body), completeUsage(usageFromHeaders(headers), shape.response.usage(body))));
  return out;
}

/** Input/output counts a family reports in its own fields (null or absent counts are left out). */
export function counts(input: unknown, output: unknown): Partial<Usage> {
  const out: Partial<Usage> = {};
  const i = countOf(input);
  const o = countOf(output);
  if (i !== undefined) out.inputTokens = i;
  if (o !== undefined) out.outputTokens = o;
  return out;
}
