/**
 * Bedrock stop reasons (every family's spelling) → OpenAI finish reasons (docs/contract.md#streaming-and-errors).
 * Every reason a family documents or real Bedrock answers were seen sending is named here; the lookup is
 * case-insensitive, so Titan's `FINISH` and Cohere's `MAX_TOKENS` are rows like any other.
 */
import { SidecarError } from '../errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../pipeline/events.ts';
import type { StreamMapper } from './types.ts';
import { own } from '../own.ts';

const TABLE: Record<string, FinishReason> = {
  // converse and Nova (`stopReason`), Anthropic (`stop_reason`)
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  compaction: 'stop', // Claude's pause_after_compaction: the answer is its compaction block (context-management.ts)
  // Failures, not finishes, on every surface but the native one (`failedFinishes` below); the native surface
  // keeps Bedrock's word, and a whole answer that reaches this table anyway has ended.
  malformed_model_output: 'stop',
  malformed_tool_use: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
  refusal: 'content_filter',
  // Titan (`completionReason`): real answers say FINISH; the docs also list FINISHED
  finish: 'stop',
  finished: 'stop',
  stop_criteria_met: 'stop',
  rag_query_when_rag_disabled: 'stop',
  endoftext: 'stop',
  // LENGTH and CONTENT_FILTERED share rows with the other families
  // Llama, Mistral, DeepSeek, gpt-oss, Qwen, Jamba (`stop_reason` / `finish_reason`)
  stop: 'stop',
  eos: 'stop',
  length: 'length',
  model_length: 'length',
  max_tokens_reached: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter', // OpenAI's own spelling (gpt-oss, Qwen)
  // Cohere Command R (`finish_reason`; ERROR is an error, handled in cohere.ts)
  complete: 'stop',
  user_cancel: 'stop',
  // MAX_TOKENS shares the row above
  error_toxic: 'content_filter',
  error_limit: 'length',
};

/** Unknown reasons map to `stop`: the model did finish, and the raw reason is kept (`upstreamReason`) for logs. */
export function mapFinishReason(reason: unknown): FinishReason {
  if (typeof reason !== 'string') return 'stop';
  const key = reason.toLowerCase();
  return own(TABLE, key) ?? 'stop';
}

/** Whether a stop reason is one the table names (tests check that every recorded reason is). */
export function isKnownStopReason(reason: string): boolean {
  return Object.hasOwn(TABLE, reason.toLowerCase());
}

/**
 * Bedrock-level member of invoke answers and chunks when a guardrail ran inside the call
 * (docs/bedrock-wire.md#guardrails-inside-invoke).
 */
export const GUARDRAIL_ACTION = 'amazon-bedrock-guardrailAction';

export function guardrailIntervenedIn(event: Record<string, unknown>): boolean {
  return event[GUARDRAIL_ACTION] === 'INTERVENED';
}

/**
 * The `finish` event for a Bedrock stop reason. A guardrail intervention inside the model call (invoke
 * `amazon-bedrock-guardrailAction: INTERVENED`, on any chunk) is `content_filter` whatever the model's own
 * reason (a Titan stream Bedrock masked still says `FINISH`; converse says `guardrail_intervened` for the
 * same answer), and is flagged for the guardrail stage.
 */
export function finishEvent(stop: string | undefined, intervened = false, reason: FinishReason = mapFinishReason(stop)): StreamEvent {
  const flagged = intervened || stop === 'guardrail_intervened';
  return {
    kind: 'finish',
    reason: flagged ? 'content_filter' : reason,
    ...(stop ? { upstreamReason: stop } : {}),
    ...(flagged ? { guardrailIntervened: true } : {}),
  };
}

/**
 * The end of an invoke stream that stopped without the family's final event after a guardrail intervened
 * (`StreamMapper.end`): `content_filter`, then the usage counted so far, if any.
 */
export function interventionEnd(usage: Usage | undefined): StreamEvent[] {
  const finish = finishEvent(undefined, true);
  return usage ? [finish, { kind: 'usage', usage }] : [finish];
}

/**
 * Converse stop reasons that say the answer failed rather than ended: the model's output, typically a tool
 * call an open-weight model wrote (Kimi, GLM, Qwen), could not be read by Bedrock (Converse `StopReason`:
 * "malformed_model_output", "malformed_tool_use"). Shown as a finish, an agent loop takes an empty or cut answer
 * for a complete one and stops with its tool call lost (anomalyco/opencode #46193, merged 2026-08-29, which
 * fails the stream instead; mozilla-ai/any-llm #1358; litellm-rs #581's review).
 */
const FAILED_STOPS: ReadonlySet<string> = new Set(['malformed_model_output', 'malformed_tool_use']);

/** The failure a finish event stands for (`FAILED_STOPS`), or undefined for a real finish. */
function failureOf(event: StreamEvent): SidecarError | undefined {
  if (event.kind !== 'finish' || event.upstreamReason === undefined || !FAILED_STOPS.has(event.upstreamReason)) return undefined;
  const reason = event.upstreamReason;
  const what = reason === 'malformed_tool_use' ? 'a tool call the model wrote' : "the model's output";
  return new SidecarError('upstream_error', `Bedrock could not read ${what} (stopReason ${reason}); the answer is incomplete`, {
    upstreamCode: reason,
  });
}

/**
 * Events with a failed finish (`FAILED_STOPS`) turned into the `error` that ends them in its place; what came
 * after it (the usage) is dropped, as nothing follows an error. For surfaces other than the native one: a client
 * of Bedrock's own API reads Bedrock's stop reason (docs/contract.md#streaming-and-errors).
 */
export function failedFinishes(events: StreamEvent[]): StreamEvent[] {
  for (let i = 0; i < events.length; i++) {
    const error = failureOf(events[i]!);
    if (error) return [...events.slice(0, i), { kind: 'error', error }];
  }
  return events;
}

/**
 * The stream form of `failedFinishes`: a failed finish is the stream's `error`, and the mapper then counts as
 * terminated, so nothing the stream still carries (converse's trailing metadata) follows it.
 */
export function withFailedFinishes(mapper: StreamMapper): StreamMapper {
  let failed = false;
  const checked = (events: StreamEvent[]): StreamEvent[] => {
    if (failed) return [];
    const out = failedFinishes(events);
    if (out !== events) failed = true;
    return out;
  };
  return {
    get terminated() {
      return failed || mapper.terminated;
    },
    push: (event) => checked(mapper.push(event)),
    end: () => {
      const ended = mapper.end?.();
      return ended ? checked(ended) : undefined;
    },
    whole: () => {
      const ending = mapper.whole?.();
      return ending ? checked(ending) : undefined;
    },
  };
}
