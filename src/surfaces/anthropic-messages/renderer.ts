/**
 * The Anthropic Messages renderer (docs/contract.md#anthropic-messages): neutral events → Anthropic's
 * server-sent events, each `event: <type>\ndata: <json>\n\n`, in Anthropic's order: `message_start`, then per
 * content block `content_block_start` / `content_block_delta`… / `content_block_stop`, then `message_delta`
 * (stop reason and usage) and `message_stop`. Blocks follow the events: a change of kind closes the open block
 * and opens the next (text, thinking, redacted thinking, one per tool call); a reasoning signature closes its
 * thinking block's deltas with a `signature_delta`. The keep-alive is Anthropic's `ping` event.
 *
 * `message_start` waits for the first batch, so that the prompt usage Claude reports first (`prompt_usage`)
 * is in it, as Bedrock sent it; a keep-alive due before any batch sends `message_start` (zero usage) instead
 * of a `ping`, so nothing ever comes before it.
 *
 * The ending: the `finish` is held until the `usage` that follows it (or the end of input), which then renders
 * `message_delta` and `message_stop`. An `error` before that is one `event: error` and nothing after it; an
 * error after the finish keeps the answer whole. Input that ends with neither is a protocol error event.
 */
import { SidecarError } from '../../errors.ts';
import type { Renderer } from '../../pipeline/encoder.ts';
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import type { AnswerMeta } from '../../server/surface.ts';
import { anthropicErrorBody } from './errors.ts';

export const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

const STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);
const FROM_FINISH: Readonly<Record<FinishReason, string>> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

/** Anthropic's stop_reason: Bedrock's own when it is one of Anthropic's, else the neutral reason's. */
export function stopReason(event: { reason: FinishReason; upstreamReason?: string }): string {
  return event.upstreamReason !== undefined && STOP_REASONS.has(event.upstreamReason) ? event.upstreamReason : FROM_FINISH[event.reason];
}

export function usageJson(usage: Usage | undefined): Record<string, number> {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheWriteTokens ?? 0,
    cache_read_input_tokens: usage?.cacheReadTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
  };
}

type Open = 'text' | 'thinking' | 'signed' | 'tool' | undefined;

export class MessagesRenderer implements Renderer {
  readonly #meta: AnswerMeta;
  #started = false;
  #done = false;
  #frames = 0;
  /** Index of the next content block. */
  #next = 0;
  #open: Open;
  #openIndex = -1;
  /** Neutral tool index → content-block index. */
  readonly #tools = new Map<number, number>();
  #finish: { reason: FinishReason; upstreamReason?: string } | undefined;

  constructor(meta: AnswerMeta) {
    this.#meta = meta;
  }

  get finished(): boolean {
    return this.#done;
  }

  get frames(): number {
    return this.#frames;
  }

  heartbeat(): string {
    return this.#started ? PING : this.#messageStart(undefined);
  }

  /** Nothing: `message_start` goes out with the first batch (see above). */
  start(): string {
    return '';
  }

  #messageStart(usage: Usage | undefined): string {
    if (this.#started || this.#done) return '';
    this.#started = true;
    return this.#event('message_start', {
      type: 'message_start',
      message: {
        id: this.#meta.id, type: 'message', role: 'assistant', model: this.#meta.model, content: [],
        stop_reason: null, stop_sequence: null, usage: usageJson(usage),
      },
    });
  }

  push(events: readonly StreamEvent[]): string {
    if (this.#done) return '';
    const first = events[0];
    let out = this.#messageStart(first?.kind === 'prompt_usage' ? first.usage : undefined);
    for (const event of events) {
      out += this.#render(event);
      if (this.#done) break;
    }
    return out;
  }

  end(): string {
    if (this.#done) return '';
    let out = this.#messageStart(undefined);
    if (this.#finish) out += this.#ending(undefined);
    else out += this.#error(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'));
    return out;
  }

  #render(event: StreamEvent): string {
    switch (event.kind) {
      case 'text':
        return this.#into('text', { type: 'text', text: '' }) + this.#delta({ type: 'text_delta', text: event.text });
      case 'reasoning':
        return this.#into('thinking', { type: 'thinking', thinking: '' }) + this.#delta({ type: 'thinking_delta', thinking: event.text });
      case 'reasoning_signature': {
        const out = this.#into('thinking', { type: 'thinking', thinking: '' }) + this.#delta({ type: 'signature_delta', signature: event.signature });
        this.#open = 'signed'; // a later reasoning event opens a new block
        return out;
      }
      case 'reasoning_redacted':
        return this.#close() + this.#block({ type: 'redacted_thinking', data: event.data }) + this.#close();
      case 'tool_start': {
        const out = this.#close() + this.#block({ type: 'tool_use', id: event.id, name: event.name, input: {} });
        this.#open = 'tool';
        this.#tools.set(event.index, this.#openIndex);
        return out;
      }
      case 'tool_delta': {
        const index = this.#tools.get(event.index);
        if (index === undefined) return '';
        return this.#event('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.arguments } });
      }
      case 'finish':
        this.#finish = event;
        return this.#close();
      case 'usage':
        return this.#finish ? this.#ending(event.usage) : '';
      case 'prompt_usage':
        return ''; // shown in message_start when it came first
      case 'error':
        // After the model's finish the answer is whole: it keeps its one ending.
        if (this.#finish) return this.#ending(undefined);
        return this.#error(event.error);
    }
  }

  #into(kind: 'text' | 'thinking', block: Record<string, unknown>): string {
    if (this.#open === kind) return '';
    const out = this.#close() + this.#block(block);
    this.#open = kind;
    return out;
  }

  #block(block: Record<string, unknown>): string {
    this.#openIndex = this.#next++;
    this.#open = undefined;
    return this.#event('content_block_start', { type: 'content_block_start', index: this.#openIndex, content_block: block });
  }

  #delta(delta: Record<string, unknown>): string {
    return this.#event('content_block_delta', { type: 'content_block_delta', index: this.#openIndex, delta });
  }

  #close(): string {
    if (this.#openIndex === -1) return '';
    const index = this.#openIndex;
    this.#openIndex = -1;
    this.#open = undefined;
    return this.#event('content_block_stop', { type: 'content_block_stop', index });
  }

  #ending(usage: Usage | undefined): string {
    const finish = this.#finish!;
    const out = this.#close() +
      this.#event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason(finish), stop_sequence: null }, usage: usageJson(usage) }) +
      this.#event('message_stop', { type: 'message_stop' });
    this.#done = true;
    return out;
  }

  #error(error: SidecarError): string {
    this.#done = true;
    return this.#event('error', anthropicErrorBody(error));
  }

  #event(type: string, data: unknown): string {
    this.#frames++;
    return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  }
}
