/**
 * The one interface every checking guardrail type implements (`regex.ts`, `bedrock.ts`; a webhook would
 * be one more module): judge some segments of text, answer a `Verdict`. A check never rejects — a
 * guardrail that cannot judge (timeout, 5xx, network, a malformed answer) answers `failed`, and the caller
 * applies the guardrail's `on_error`. Checks may be synchronous (regex) or asynchronous (an HTTP call):
 * callers handle both without forcing a microtask on the synchronous path.
 *
 * `bedrock_native` is not a checker: Bedrock applies it inside the model call (see `native.ts`).
 */
import type { GuardrailConfig, Route } from '../config/schema.ts';
import type { SidecarError } from '../errors.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { OutputGuard } from '../pipeline/guardrail.ts';
import type { ChatRequest } from '../providers/request.ts';

/** ApplyGuardrail's `source`: what the text is. */
export type CheckSource = 'INPUT' | 'OUTPUT';

/**
 * One piece of text to judge. `text` is new and may be rewritten by a mask; `context` is text just before
 * it that already passed (and may already be with the client): it is judged together with `text`, so a
 * match that straddles the boundary is found, but it is never rewritten.
 */
export interface Segment {
  readonly context: string;
  readonly text: string;
}

export type Verdict =
  | { readonly kind: 'pass' }
  /** `reason` is content-free (safe to log); `detail` may quote the text (logged only with logging.content). */
  | { readonly kind: 'block'; readonly reason: string; readonly detail?: string }
  /** One entry per segment: its masked `text`, or undefined when that segment is unchanged. */
  | { readonly kind: 'mask'; readonly texts: ReadonlyArray<string | undefined>; readonly reason: string; readonly detail?: string }
  | { readonly kind: 'failed'; readonly reason: string }
  /** The caller's signal aborted the check: nobody needs the answer any more. */
  | { readonly kind: 'cancelled' };

export interface TextGuardrail {
  readonly config: GuardrailConfig;
  /** How much already judged text (UTF-16 units) a streaming check wants as context before the new text. */
  readonly contextChars: number;
  check(source: CheckSource, segments: readonly Segment[], signal: AbortSignal): Verdict | Promise<Verdict>;
}

export const PASS: Verdict = { kind: 'pass' };
export const CANCELLED: Verdict = { kind: 'cancelled' };

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The guardrails of one request, as the hooks the model-call path calls (built by request.ts). */
export interface RequestGuards {
  /**
   * Input stage: resolves to the block (a `guardrail_violation` SidecarError), or undefined to go on. A
   * mask replaces `request.messages` with masked copies (the model is sent the masked text).
   */
  checkInput(request: ChatRequest, signal: AbortSignal): Promise<SidecarError | undefined>;
  /**
   * Input stage for plain texts (embedding inputs): the block (a `guardrail_violation`), or the texts to
   * send (masked where a mask applied). A `bedrock_native` guardrail cannot judge them (Bedrock applies
   * those inside text generation only), so it answers a 400 naming it: never skipped silently.
   */
  checkInputTexts(texts: readonly string[], signal: AbortSignal): Promise<{ error: SidecarError } | { texts: readonly string[] }>;
  /** bedrock_native on converse: adds `guardrailConfig` to the body (never anything else). */
  decorateBody(body: Record<string, unknown>, route: Route, stream: boolean): Record<string, unknown>;
  /** bedrock_native on invoke: the X-Amzn-Bedrock-Guardrail* headers. */
  upstreamHeaders(route: Route, stream: boolean): Record<string, string>;
  /** Output stage for a stream, or undefined when no output guardrail applies. */
  outputGuard(includeUsage: boolean): OutputGuard | undefined;
  /** Output stage for a whole (non-streaming) answer: the events to send, possibly ending in an error. */
  checkOutputWhole(events: StreamEvent[], signal: AbortSignal): Promise<{ events: StreamEvent[]; outcome: string }>;
  /** After a stream: `none`, `passed`, or `<stage>:<guardrail>:<action>[,…]` for the log line (recorder.ts). */
  streamOutcome(): string;
}
