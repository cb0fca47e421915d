/**
 * The Anthropic Messages renderer (docs/contract.md#anthropic-messages): Claude's events (the shared core,
 * src/surfaces/anthropic-events.ts: order, blocks, the held finish, the one ending) as server-sent events,
 * each `event: <type>\ndata: <json>\n\n`. `message_delta` carries every usage count. An in-band error is one
 * `event: error` in Anthropic's error shape, and nothing after it. The keep-alive is Anthropic's `ping` event;
 * one due before any batch sends `message_start` (zero usage) instead, so nothing ever comes before it.
 */
import type { Renderer } from '../../pipeline/encoder.ts';
import type { StreamEvent } from '../../pipeline/events.ts';
import type { AnswerMeta } from '../../server/surface.ts';
import { AnthropicEventStream, usageJson, type AnthropicOut } from '../anthropic-events.ts';
import { anthropicErrorBody } from './errors.ts';

export const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

export class MessagesRenderer implements Renderer {
  readonly #stream: AnthropicEventStream;
  #frames = 0;

  constructor(meta: AnswerMeta) {
    this.#stream = new AnthropicEventStream(meta, { deltaUsage: usageJson });
  }

  get finished(): boolean {
    return this.#stream.done;
  }

  get frames(): number {
    return this.#frames;
  }

  heartbeat(): string {
    return this.#stream.started ? PING : this.#sse(this.#stream.open());
  }

  /** Nothing: `message_start` goes out with the first batch (it carries the prompt usage Claude reports first). */
  start(): string {
    return '';
  }

  push(events: readonly StreamEvent[]): string {
    return this.#sse(this.#stream.push(events));
  }

  end(): string {
    return this.#sse(this.#stream.end());
  }

  #sse(outs: readonly AnthropicOut[]): string {
    let text = '';
    for (const out of outs) {
      const [type, data] = 'event' in out ? [out.event.type, out.event] : ['error', anthropicErrorBody(out.error)];
      this.#frames++;
      text += `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    }
    return text;
  }
}
