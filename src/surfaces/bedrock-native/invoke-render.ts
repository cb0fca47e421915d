/**
 * Claude's InvokeModel answers from the neutral events (docs/contract.md#bedrock-native,
 * docs/bedrock-wire.md#anthropic-claude): the InvokeModelWithResponseStream event stream — one `chunk` frame
 * per Anthropic streaming event, its JSON base64 in `bytes` — and the whole Anthropic message. Events in
 * Anthropic's order: `message_start`, per content block `content_block_start` / `content_block_delta`… /
 * `content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop` (with Bedrock's
 * `amazon-bedrock-invocationMetrics`). The finish is held until the usage that follows it (or the end of input).
 * A failure after the commit is one exception frame the AWS SDK raises (Claude Code then retries on /invoke),
 * and nothing after it.
 */
import { SidecarError } from '../../errors.ts';
import type { Frames, Renderer } from '../../pipeline/encoder.ts';
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import type { AnswerMeta, WholeAnswer } from '../../server/surface.ts';
import { INVOKE_STREAM_EXCEPTIONS, streamExceptionType } from './errors.ts';
import { concatFrames, eventFrame, exceptionFrame } from './frames.ts';

const STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal']);
const FROM_FINISH: Readonly<Record<FinishReason, string>> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };

export function claudeStopReason(event: { reason: FinishReason; upstreamReason?: string }): string {
  return event.upstreamReason !== undefined && STOP_REASONS.has(event.upstreamReason) ? event.upstreamReason : FROM_FINISH[event.reason];
}

export function claudeUsage(usage: Usage | undefined): Record<string, number> {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    cache_creation_input_tokens: usage?.cacheWriteTokens ?? 0,
    cache_read_input_tokens: usage?.cacheReadTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
  };
}

type Open = 'text' | 'thinking' | 'tool' | undefined;

export class ClaudeStreamRenderer implements Renderer {
  readonly #meta: AnswerMeta;
  readonly #latencyMs: () => number;
  #started = false;
  #done = false;
  #frames = 0;
  #next = 0;
  #open: Open;
  #openIndex = -1;
  /** Neutral tool index → content-block index. */
  readonly #tools = new Map<number, number>();
  #finish: { reason: FinishReason; upstreamReason?: string } | undefined;

  constructor(meta: AnswerMeta, latencyMs: () => number) {
    this.#meta = meta;
    this.#latencyMs = latencyMs;
  }

  get finished(): boolean {
    return this.#done;
  }

  get frames(): number {
    return this.#frames;
  }

  heartbeat(): Frames {
    return ''; // Bedrock sends no keep-alive inside an invoke stream
  }

  start(): Frames {
    return joined(this.#start());
  }

  push(events: readonly StreamEvent[]): Frames {
    if (this.#done) return '';
    const out = this.#start();
    for (const event of events) {
      this.#render(event, out);
      if (this.#done) break;
    }
    return joined(out);
  }

  end(): Frames {
    if (this.#done) return '';
    const out = this.#start();
    if (this.#finish) this.#ending(undefined, out);
    else this.#fail(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'), out);
    return joined(out);
  }

  #start(): Uint8Array[] {
    if (this.#started || this.#done) return [];
    this.#started = true;
    return [this.#chunk({
      type: 'message_start',
      message: {
        id: this.#meta.id, type: 'message', role: 'assistant', model: this.#meta.model, content: [],
        stop_reason: null, stop_sequence: null, usage: claudeUsage(undefined),
      },
    })];
  }

  #render(event: StreamEvent, out: Uint8Array[]): void {
    switch (event.kind) {
      case 'text':
        this.#into('text', { type: 'text', text: '' }, out);
        out.push(this.#delta({ type: 'text_delta', text: event.text }));
        return;
      case 'reasoning':
        this.#into('thinking', { type: 'thinking', thinking: '' }, out);
        out.push(this.#delta({ type: 'thinking_delta', thinking: event.text }));
        return;
      case 'reasoning_signature':
        // Claude's signature closes its thinking block, byte for byte as Bedrock sent it.
        this.#into('thinking', { type: 'thinking', thinking: '' }, out);
        out.push(this.#delta({ type: 'signature_delta', signature: event.signature }));
        this.#close(out);
        return;
      case 'reasoning_redacted':
        this.#close(out);
        this.#block({ type: 'redacted_thinking', data: event.data }, out);
        this.#close(out);
        return;
      case 'prompt_usage':
        return; // message_start already carried the usage this family reports
      case 'tool_start':
        this.#close(out);
        this.#block({ type: 'tool_use', id: event.id, name: event.name, input: {} }, out);
        this.#open = 'tool';
        this.#tools.set(event.index, this.#openIndex);
        return;
      case 'tool_delta': {
        const index = this.#tools.get(event.index);
        if (index !== undefined) out.push(this.#chunk({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.arguments } }));
        return;
      }
      case 'finish':
        this.#finish = event;
        this.#close(out);
        return;
      case 'usage':
        if (this.#finish) this.#ending(event.usage, out);
        return;
      case 'error':
        // After the model's finish the answer is whole: it keeps its one ending (the error is still logged).
        if (this.#finish) this.#ending(undefined, out);
        else this.#fail(event.error, out);
        return;
    }
  }

  #into(kind: 'text' | 'thinking', block: Record<string, unknown>, out: Uint8Array[]): void {
    if (this.#open === kind) return;
    this.#close(out);
    this.#block(block, out);
    this.#open = kind;
  }

  #block(block: Record<string, unknown>, out: Uint8Array[]): void {
    this.#openIndex = this.#next++;
    this.#open = undefined;
    out.push(this.#chunk({ type: 'content_block_start', index: this.#openIndex, content_block: block }));
  }

  #delta(delta: Record<string, unknown>): Uint8Array {
    return this.#chunk({ type: 'content_block_delta', index: this.#openIndex, delta });
  }

  #close(out: Uint8Array[]): void {
    if (this.#openIndex === -1) return;
    out.push(this.#chunk({ type: 'content_block_stop', index: this.#openIndex }));
    this.#openIndex = -1;
    this.#open = undefined;
  }

  #ending(usage: Usage | undefined, out: Uint8Array[]): void {
    this.#close(out);
    out.push(this.#chunk({ type: 'message_delta', delta: { stop_reason: claudeStopReason(this.#finish!), stop_sequence: null }, usage: { output_tokens: usage?.outputTokens ?? 0 } }));
    const stop: Record<string, unknown> = { type: 'message_stop' };
    if (usage) {
      stop['amazon-bedrock-invocationMetrics'] = {
        inputTokenCount: usage.inputTokens, outputTokenCount: usage.outputTokens, invocationLatency: this.#latencyMs(),
        cacheReadInputTokenCount: usage.cacheReadTokens, cacheWriteInputTokenCount: usage.cacheWriteTokens,
      };
    }
    out.push(this.#chunk(stop));
    this.#done = true;
  }

  #fail(error: SidecarError, out: Uint8Array[]): void {
    this.#done = true;
    this.#frames++;
    out.push(exceptionFrame(streamExceptionType(error, INVOKE_STREAM_EXCEPTIONS), error.message));
  }

  #chunk(event: Record<string, unknown>): Uint8Array {
    this.#frames++;
    return eventFrame('chunk', { bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64') });
  }
}

function joined(frames: Uint8Array[]): Frames {
  return frames.length === 0 ? '' : concatFrames(frames);
}

/** The whole Anthropic message of an InvokeModel answer. */
export function claudeAnswer(events: readonly StreamEvent[], meta: AnswerMeta): WholeAnswer {
  const content: Array<Record<string, unknown>> = [];
  const tools = new Map<number, { block: Record<string, unknown>; input: string }>();
  let open: Record<string, unknown> | undefined;
  let finish: { reason: FinishReason; upstreamReason?: string } | undefined;
  let usage: Usage | undefined;
  for (const event of events) {
    switch (event.kind) {
      case 'text':
        if (open?.type !== 'text') content.push((open = { type: 'text', text: '' }));
        open.text = String(open.text) + event.text;
        break;
      case 'reasoning':
        if (open?.type !== 'thinking' || open.signature !== undefined) content.push((open = { type: 'thinking', thinking: '' }));
        open.thinking = String(open.thinking) + event.text;
        break;
      case 'reasoning_signature':
        if (open?.type !== 'thinking') content.push((open = { type: 'thinking', thinking: '' }));
        open.signature = event.signature;
        break;
      case 'reasoning_redacted':
        content.push((open = { type: 'redacted_thinking', data: event.data }));
        break;
      case 'prompt_usage':
        break;
      case 'tool_start': {
        open = { type: 'tool_use', id: event.id, name: event.name, input: {} };
        content.push(open);
        tools.set(event.index, { block: open, input: '' });
        break;
      }
      case 'tool_delta': {
        const tool = tools.get(event.index);
        if (tool) tool.input += event.arguments;
        break;
      }
      case 'finish': finish = event; break;
      case 'usage': usage = event.usage; break;
      case 'error': return { error: event.error };
    }
  }
  for (const { block, input } of tools.values()) {
    try {
      block.input = input.trim() === '' ? {} : JSON.parse(input) as unknown;
    } catch {
      return { error: new SidecarError('upstream_protocol_error', `the model's tool call "${String(block.name)}" has input that is not JSON`) };
    }
  }
  return {
    body: {
      id: meta.id, type: 'message', role: 'assistant', model: meta.model, content,
      stop_reason: finish ? claudeStopReason(finish) : 'end_turn', stop_sequence: null, usage: claudeUsage(usage),
    },
    usage,
  };
}
