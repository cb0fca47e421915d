/**
 * Claude's Messages events from the neutral events, written once for the two surfaces that show them
 * (docs/contract.md#anthropic-messages, docs/contract.md#bedrock-native): the Anthropic Messages stream sends
 * each as a server-sent event, the native InvokeModelWithResponseStream inside a `chunk` frame, as Bedrock
 * carries Claude's events. Each surface only encodes what this core emits, and keeps its own keep-alive.
 *
 * Anthropic's order: `message_start`, then per content block `content_block_start` /
 * `content_block_delta`… / `content_block_stop`, then `message_delta` (stop reason and usage) and
 * `message_stop`. Blocks follow the events: a change of kind closes the open block and opens the next (text,
 * thinking, redacted thinking, one per tool call); a reasoning signature is its thinking block's last delta
 * (`signature_delta`) and closes it, as Claude does. A compaction is a block of its own in Anthropic's shape:
 * `content_block_start` `{type: "compaction", content: null}`, one `compaction_delta` with the whole summary and
 * `encrypted_content`, `content_block_stop`. What context management did (`context_management`) rides in
 * `message_delta`, as Claude's own stream carries it.
 *
 * `message_start` waits for the first batch, so that the prompt usage Claude reports first (`prompt_usage`)
 * is in it, as Bedrock sent it; `open()` sends it with zero usage when a surface must write before any batch.
 *
 * The ending: the `finish` is held until the `usage` that follows it (or the end of input), which then renders
 * `message_delta` and `message_stop`. An `error` before that is the stream's one in-band error (the surface
 * encodes it) and nothing after it; an error after the finish keeps the answer whole. Input that ends with
 * neither is a protocol error.
 */
import { SidecarError } from '../errors.ts';
import { cacheWritesByTtl, type FinishReason, type StreamEvent, type Usage } from '../pipeline/events.ts';
import type { AnswerMeta, WholeAnswer } from '../server/surface.ts';

/** One of Claude's streaming events, as JSON. */
export type AnthropicEvent = { readonly type: string } & Readonly<Record<string, unknown>>;

/** What the core emits: Claude's events in order, or the stream's one in-band error (then nothing more). */
export type AnthropicOut = { readonly event: AnthropicEvent } | { readonly error: SidecarError };

const STOP_REASONS: ReadonlySet<string> = new Set([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
  'compaction', // pause_after_compaction: the answer is the compaction block alone (the client's loop goes on)
]);
const FROM_FINISH: Readonly<Record<FinishReason, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
};

type Finish = { reason: FinishReason; upstreamReason?: string; guardrailIntervened?: boolean };

/**
 * Claude's stop_reason: Bedrock's own when it is one of Claude's, else the neutral reason's. A guardrail that
 * intervened inside the model call (an alias's `bedrock_native`) is a content-filter stop on every surface, so
 * on the Messages surface it is `refusal` whatever the model said; Bedrock's own Claude answer
 * (`asBedrock`: the native InvokeModel) keeps what Claude said, as Bedrock does.
 */
export function stopReason(event: Finish, asBedrock: boolean): string {
  if (event.guardrailIntervened && !asBedrock) return FROM_FINISH.content_filter;
  // Where Bedrock's word and the answer disagree on tool use (GPT's `end_turn` after its tool calls: the
  // provider's finish says which), the answer decides, but for Bedrock's own answer.
  const contradicts = !asBedrock && (event.upstreamReason === 'tool_use') !== (event.reason === 'tool_calls');
  return event.upstreamReason !== undefined && STOP_REASONS.has(event.upstreamReason) && !contradicts
    ? event.upstreamReason
    : FROM_FINISH[event.reason];
}

/**
 * Claude's `usage` object, with `cache_creation` (the writes by ttl, which cost differently) where Bedrock said how
 * they split: Claude Code's cost reads it.
 */
export function usageJson(usage: Usage | undefined): Record<string, unknown> {
  const byTtl = cacheWritesByTtl(usage);
  return {
    input_tokens: usage?.inputTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheWriteTokens ?? 0,
    cache_read_input_tokens: usage?.cacheReadTokens ?? 0,
    ...(byTtl ? { cache_creation: { ephemeral_5m_input_tokens: byTtl.fiveMinutes, ephemeral_1h_input_tokens: byTtl.oneHour } } : {}),
    output_tokens: usage?.outputTokens ?? 0,
    ...(usage?.iterations ? { iterations: usage.iterations } : {}),
  };
}

export interface AnthropicStreamOptions {
  /** `message_delta`'s usage (the Messages API repeats every count; Bedrock's invoke stream the output tokens). */
  deltaUsage(usage: Usage | undefined): Record<string, unknown>;
  /** Members `message_stop` carries beside its type (Bedrock's `amazon-bedrock-invocationMetrics`). */
  stopMembers?(usage: Usage | undefined): Record<string, unknown>;
  /** Bedrock's own Claude stream (the native InvokeModel): `stopReason`'s `asBedrock`. */
  asBedrock?: boolean;
}

/** One stream's Claude events: neutral event batches in, `AnthropicOut`s out. */
export class AnthropicEventStream {
  readonly #meta: AnswerMeta;
  readonly #options: AnthropicStreamOptions;
  #started = false;
  #done = false;
  /** Index of the next content block. */
  #next = 0;
  /** The open block's kind (a text or thinking block takes more deltas of its kind) and index. */
  #open: 'text' | 'thinking' | 'tool' | undefined;
  #openIndex = -1;
  /** Neutral tool index → content-block index. */
  readonly #tools = new Map<number, number>();
  #finish: Finish | undefined;
  /** Claude's `context_management` (applied edits), for `message_delta`. */
  #contextManagement: Readonly<Record<string, unknown>> | undefined;

  constructor(meta: AnswerMeta, options: AnthropicStreamOptions) {
    this.#meta = meta;
    this.#options = options;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Whether the ending (message_stop, or the error) has been emitted. */
  get done(): boolean {
    return this.#done;
  }

  /** `message_start`, if it has not gone out yet. */
  open(usage?: Usage): AnthropicOut[] {
    if (this.#started || this.#done) return [];
    this.#started = true;
    return [
      {
        event: {
          type: 'message_start',
          message: {
            id: this.#meta.id,
            type: 'message',
            role: 'assistant',
            model: this.#meta.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: usageJson(usage),
          },
        },
      },
    ];
  }

  push(events: readonly StreamEvent[]): AnthropicOut[] {
    if (this.#done) return [];
    const first = events[0];
    const out = this.open(first?.kind === 'prompt_usage' ? first.usage : undefined);
    for (const event of events) {
      this.#render(event, out);
      if (this.#done) break;
    }
    return out;
  }

  /** End of input: the ending, if it has not been emitted. */
  end(): AnthropicOut[] {
    if (this.#done) return [];
    const out = this.open();
    if (this.#finish) this.#ending(undefined, out);
    else this.#fail(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'), out);
    return out;
  }

  #render(event: StreamEvent, out: AnthropicOut[]): void {
    switch (event.kind) {
      case 'text':
        this.#into('text', { type: 'text', text: '' }, out);
        this.#delta({ type: 'text_delta', text: event.text }, out);
        return;
      case 'reasoning':
        this.#into('thinking', { type: 'thinking', thinking: '' }, out);
        this.#delta({ type: 'thinking_delta', thinking: event.text }, out);
        return;
      case 'reasoning_signature':
        // The signature closes its thinking block, byte for byte as Bedrock sent it.
        this.#into('thinking', { type: 'thinking', thinking: '' }, out);
        this.#delta({ type: 'signature_delta', signature: event.signature }, out);
        this.#close(out);
        return;
      case 'reasoning_redacted':
        this.#close(out);
        this.#block({ type: 'redacted_thinking', data: event.data }, out);
        this.#close(out);
        return;
      case 'compaction':
        this.#close(out);
        this.#block({ type: 'compaction', content: null }, out);
        this.#delta(compactionDelta(event), out);
        this.#close(out);
        return;
      case 'context_management':
        this.#contextManagement = event.value;
        return;
      case 'tool_start':
        this.#close(out);
        this.#block({ type: 'tool_use', id: event.id, name: event.name, input: {} }, out);
        this.#open = 'tool';
        this.#tools.set(event.index, this.#openIndex);
        return;
      case 'tool_delta': {
        const index = this.#tools.get(event.index);
        if (index !== undefined)
          out.push({ event: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.arguments } } });
        return;
      }
      case 'finish':
        this.#finish = event;
        this.#close(out);
        return;
      case 'usage':
        if (this.#finish) this.#ending(event.usage, out);
        return;
      case 'prompt_usage':
        return; // in message_start when it came first
      case 'error':
        // After the model's finish the answer is whole: it keeps its one ending (the error is still logged).
        if (this.#finish) this.#ending(undefined, out);
        else this.#fail(event.error, out);
        return;
    }
  }

  #into(kind: 'text' | 'thinking', block: Record<string, unknown>, out: AnthropicOut[]): void {
    if (this.#open === kind) return;
    this.#close(out);
    this.#block(block, out);
    this.#open = kind;
  }

  #block(block: Record<string, unknown>, out: AnthropicOut[]): void {
    this.#openIndex = this.#next++;
    this.#open = undefined;
    out.push({ event: { type: 'content_block_start', index: this.#openIndex, content_block: block } });
  }

  #delta(delta: Record<string, unknown>, out: AnthropicOut[]): void {
    out.push({ event: { type: 'content_block_delta', index: this.#openIndex, delta } });
  }

  #close(out: AnthropicOut[]): void {
    if (this.#openIndex === -1) return;
    out.push({ event: { type: 'content_block_stop', index: this.#openIndex } });
    this.#openIndex = -1;
    this.#open = undefined;
  }

  #ending(usage: Usage | undefined, out: AnthropicOut[]): void {
    this.#close(out);
    out.push({
      event: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(this.#finish!, this.#options.asBedrock ?? false), stop_sequence: null },
        usage: this.#options.deltaUsage(usage),
        ...(this.#contextManagement ? { context_management: this.#contextManagement } : {}),
      },
    });
    out.push({ event: { type: 'message_stop', ...this.#options.stopMembers?.(usage) } });
    this.#done = true;
  }

  #fail(error: SidecarError, out: AnthropicOut[]): void {
    this.#done = true;
    out.push({ error });
  }
}

type Block = Record<string, unknown>;

/** A compaction's one `compaction_delta`: the whole summary and its `encrypted_content`, as Claude sent them. */
function compactionDelta(event: { content: string | null; encryptedContent?: string | null }): Block {
  return {
    type: 'compaction_delta',
    content: event.content,
    ...(event.encryptedContent !== undefined ? { encrypted_content: event.encryptedContent } : {}),
  };
}

/**
 * The whole Claude message from the same events, blocks formed as the stream forms them: the Messages
 * answer and InvokeModel's body. A tool call whose input the model broke keeps `{}` as its input.
 */
export function anthropicMessage(events: readonly StreamEvent[], meta: AnswerMeta, asBedrock = false): WholeAnswer {
  const content: Block[] = [];
  const tools = new Map<number, { block: Block; json: string }>();
  let finish: Finish | undefined;
  let usage: Usage | undefined;
  let contextManagement: Readonly<Record<string, unknown>> | undefined;
  let signed = false;
  const last = (): Block | undefined => content[content.length - 1];
  for (const event of events) {
    switch (event.kind) {
      case 'text': {
        const block = last();
        if (block?.type === 'text') block.text = `${String(block.text)}${event.text}`;
        else content.push({ type: 'text', text: event.text });
        break;
      }
      case 'reasoning': {
        const block = last();
        if (block?.type === 'thinking' && !signed) block.thinking = `${String(block.thinking)}${event.text}`;
        else content.push({ type: 'thinking', thinking: event.text, signature: '' });
        signed = false;
        break;
      }
      case 'reasoning_signature': {
        const block = last();
        if (block?.type === 'thinking' && !signed) block.signature = event.signature;
        else content.push({ type: 'thinking', thinking: '', signature: event.signature });
        signed = true;
        break;
      }
      case 'reasoning_redacted':
        content.push({ type: 'redacted_thinking', data: event.data });
        break;
      case 'compaction': {
        const { type: _delta, ...block } = compactionDelta(event);
        content.push({ type: 'compaction', ...block });
        break;
      }
      case 'context_management':
        contextManagement = event.value;
        break;
      case 'tool_start': {
        const block: Block = { type: 'tool_use', id: event.id, name: event.name, input: {} };
        content.push(block);
        tools.set(event.index, { block, json: '' });
        break;
      }
      case 'tool_delta': {
        const tool = tools.get(event.index);
        if (tool) tool.json += event.arguments;
        break;
      }
      case 'prompt_usage':
        break; // the final usage repeats it
      case 'finish':
        finish = event;
        break;
      case 'usage':
        usage = event.usage;
        break;
      case 'error':
        return { error: event.error };
    }
  }
  for (const { block, json } of tools.values()) {
    try {
      block.input = json.trim() === '' ? {} : JSON.parse(json);
    } catch {
      block.input = {}; // a model's broken JSON: the call stands, its arguments cannot be read
    }
  }
  return {
    body: {
      id: meta.id,
      type: 'message',
      role: 'assistant',
      model: meta.model,
      content,
      stop_reason: finish ? stopReason(finish, asBedrock) : 'end_turn',
      stop_sequence: null,
      usage: usageJson(usage),
      ...(contextManagement ? { context_management: contextManagement } : {}),
    },
    usage,
  };
}
