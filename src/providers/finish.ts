/**
 * Bedrock stop reasons (every family's spelling) → OpenAI finish reasons (docs/contract.md#streaming-and-errors).
 */
import type { FinishReason, StreamEvent } from '../pipeline/events.ts';

const TABLE: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  stop: 'stop',
  eos: 'stop',
  complete: 'stop',
  finished: 'stop',
  stop_criteria_met: 'stop',
  endoftext: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  length: 'length',
  model_context_window_exceeded: 'length',
  max_tokens_reached: 'length',
  tool_use: 'tool_calls',
  tool_calls: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
  content_filter: 'content_filter', // OpenAI's own spelling (gpt-oss, Qwen)
  refusal: 'content_filter',
  error_toxic: 'content_filter',
  error_limit: 'length',
  user_cancel: 'stop',
};

/** Unknown reasons map to `stop`: the model did finish, and the raw reason is kept for logs. */
export function mapFinishReason(reason: unknown): FinishReason {
  if (typeof reason !== 'string') return 'stop';
  const key = reason.toLowerCase();
  return Object.hasOwn(TABLE, key) ? TABLE[key]! : 'stop';
}

/** Bedrock-level member of invoke answers and chunks when a guardrail ran inside the call (docs/bedrock-wire.md#guardrails-inside-invoke). */
export const GUARDRAIL_ACTION = 'amazon-bedrock-guardrailAction';

export function guardrailIntervenedIn(event: Record<string, unknown>): boolean {
  return event[GUARDRAIL_ACTION] === 'INTERVENED';
}

/** The `finish` event for a Bedrock stop reason; a guardrail intervention is flagged for the guardrail stage. */
export function finishEvent(stop: string | undefined, intervened = false, reason: FinishReason = mapFinishReason(stop)): StreamEvent {
  return {
    kind: 'finish',
    reason,
    ...(stop ? { upstreamReason: stop } : {}),
    ...(intervened || stop === 'guardrail_intervened' ? { guardrailIntervened: true } : {}),
  };
}
