/**
 * The one internal event type that travels between pipeline stages, after the provider normaliser.
 * Providers map *into* it; the SSE encoder (and the non-streaming assembler) map *out* of it. Adding a
 * model family never touches the encoder.
 *
 * Order on a well-formed stream: text / reasoning / tool events in model order, then exactly one
 * `finish`, then at most one `usage`. A failed stream ends with one `error` instead of `finish` (usage may
 * not follow an error). Nothing follows `error`.
 */
import type { SidecarError } from '../errors.ts';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  /** Uncached input tokens as Bedrock counts them. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /**
   * Of `cacheWriteTokens`, those written with a one-hour ttl (which cost twice the five-minute rate), where Bedrock
   * says: converse's `cacheDetails`, Claude's `cache_creation`. Absent: Bedrock gave no split.
   */
  cacheWrite1hTokens?: number;
  /**
   * Claude's `usage.iterations` where it sends them (a request that compacted: one `compaction` sampling pass, then
   * the `message` one), as Claude wrote them: the counts above exclude the compaction pass, the iterations bill it.
   */
  iterations?: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export type StreamEvent =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'reasoning'; readonly text: string }
  /**
   * The signature that closes a reasoning block (Claude's `signature_delta`): opaque, handed back byte for
   * byte on the next turn. A reasoning event after it starts a new block. Surfaces without signed reasoning
   * render nothing for it.
   */
  | { readonly kind: 'reasoning_signature'; readonly signature: string }
  /** A reasoning block the model returned encrypted (Claude's `redacted_thinking`): opaque data, handed back as is. */
  | { readonly kind: 'reasoning_redacted'; readonly data: string }
  /**
   * A context compaction Claude did before answering (its `compaction` block, whole: the summary it wrote and the
   * opaque `encryptedContent` the client hands back byte for byte). `content` null: the compaction failed. Surfaces
   * that cannot hand the block back (Chat Completions, Responses) render nothing for it.
   */
  | { readonly kind: 'compaction'; readonly content: string | null; readonly encryptedContent?: string | null }
  /**
   * What Claude's context management did to this request (its `context_management` member: `applied_edits`), as
   * Claude wrote it; the last one counts. Rendered by the Claude surfaces only.
   */
  | { readonly kind: 'context_management'; readonly value: Readonly<Record<string, unknown>> }
  /** A new tool call; `index` is dense and 0-based per response, whatever Bedrock's block index. */
  | { readonly kind: 'tool_start'; readonly index: number; readonly id: string; readonly name: string }
  | { readonly kind: 'tool_delta'; readonly index: number; readonly arguments: string }
  /**
   * The model's end. `guardrailIntervened`: Bedrock reported that a guardrail applied inside the model call
   * intervened (invoke `amazon-bedrock-guardrailAction: INTERVENED`, converse `guardrail_intervened`).
   */
  | { readonly kind: 'finish'; readonly reason: FinishReason; readonly upstreamReason?: string; readonly guardrailIntervened?: boolean }
  /**
   * `servedTier`: the service tier Bedrock says served the call, where it says so only at the end (converse's
   * trailing `metadata`); an invoke stream's tier comes with the response headers (AnswerMeta.serviceTier).
   */
  | { readonly kind: 'usage'; readonly usage: Usage; readonly servedTier?: string }
  /**
   * The prompt-side counts a model reports before its output (Claude's `message_start`): at most one, before
   * any other event. The final `usage` repeats them; a surface that shows usage only at the end ignores it.
   */
  | { readonly kind: 'prompt_usage'; readonly usage: Usage }
  | { readonly kind: 'error'; readonly error: SidecarError };

/** The cache writes split by ttl, where Bedrock said how (`cacheWrite1hTokens`), else undefined. */
export function cacheWritesByTtl(usage: Usage | undefined): { fiveMinutes: number; oneHour: number } | undefined {
  if (usage?.cacheWrite1hTokens === undefined) return undefined;
  const oneHour = Math.min(usage.cacheWriteTokens, usage.cacheWrite1hTokens);
  return { fiveMinutes: usage.cacheWriteTokens - oneHour, oneHour };
}

/** Sum of all prompt-side tokens, as OpenAI's `prompt_tokens` counts them (docs/contract.md#streaming-and-errors). */
export function promptTokens(usage: Usage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
}
