/**
 * Claude's InvokeModelWithResponseStream answer from the neutral events (docs/contract.md#bedrock-native,
 * docs/bedrock-wire.md#anthropic-claude): Claude's Messages events — the core the Messages surface renders too
 * (src/surfaces/anthropic-events.ts) — one per `chunk` frame, its JSON base64 in `bytes`, as Bedrock carries
 * them. `message_delta`'s usage is the output tokens; `message_stop` carries Bedrock's
 * `amazon-bedrock-invocationMetrics`. A failure after the commit is one exception frame the AWS SDK raises
 * (Claude Code then retries on /invoke), and nothing after it. InvokeModel's whole body is Claude's message
 * (`anthropicMessage`).
 */
import type { StreamEvent, Usage } from '../../pipeline/events.ts';
import type { AnswerMeta } from '../../server/surface.ts';
import { AnthropicEventStream, type AnthropicOut } from '../anthropic-events.ts';
import { INVOKE_STREAM_EXCEPTIONS } from './errors.ts';
import { chunkOut, EventStreamRenderer, type NativeOut, type NativeStreamCore } from './frames.ts';

/** Claude's events, each as Bedrock's `chunk` event. */
class ClaudeChunks implements NativeStreamCore {
  readonly #claude: AnthropicEventStream;

  constructor(meta: AnswerMeta, latencyMs: () => number) {
    this.#claude = new AnthropicEventStream(meta, {
      asBedrock: true,
      deltaUsage: (usage) => ({ output_tokens: usage?.outputTokens ?? 0, ...(usage?.iterations ? { iterations: usage.iterations } : {}) }),
      stopMembers: (usage) => (usage ? { 'amazon-bedrock-invocationMetrics': invocationMetrics(usage, latencyMs()) } : {}),
    });
  }

  get done(): boolean {
    return this.#claude.done;
  }

  /** Nothing: `message_start` goes out with the first batch (it carries the prompt usage Claude reports first). */
  start(): NativeOut[] {
    return [];
  }

  push(events: readonly StreamEvent[]): NativeOut[] {
    return this.#claude.push(events).map(chunk);
  }

  end(): NativeOut[] {
    return this.#claude.end().map(chunk);
  }
}

function chunk(out: AnthropicOut): NativeOut {
  return 'error' in out ? out : chunkOut(out.event);
}

/** Bedrock's `amazon-bedrock-invocationMetrics` on an invoke stream's last chunk. */
export function invocationMetrics(usage: Usage, latencyMs: number): Record<string, number> {
  return {
    inputTokenCount: usage.inputTokens,
    outputTokenCount: usage.outputTokens,
    invocationLatency: latencyMs,
    cacheReadInputTokenCount: usage.cacheReadTokens,
    cacheWriteInputTokenCount: usage.cacheWriteTokens,
  };
}

/** One InvokeModelWithResponseStream of Claude. */
export class ClaudeStreamRenderer extends EventStreamRenderer {
  constructor(meta: AnswerMeta, latencyMs: () => number) {
    super(new ClaudeChunks(meta, latencyMs), INVOKE_STREAM_EXCEPTIONS);
  }
}
