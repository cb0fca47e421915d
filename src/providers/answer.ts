/**
 * What a non-streaming 200 must carry to be an answer at all. A body without it (`{}` for an Anthropic
 * message, a Titan body with no `results`) is Bedrock failing, not the model saying nothing: a 502
 * `upstream_protocol_error` naming what was missing, never an empty `chat.completion`
 * (docs/contract.md#streaming-and-errors). Streams have their own rule: one that ends without the family's
 * final event is an `upstream_protocol_error` frame (pipeline/normalizer.ts).
 */
import { isSidecarError, SidecarError } from '../errors.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { FinishReason } from '../pipeline/events.ts';
import { finishEvent, guardrailIntervenedIn } from './finish.ts';
import { completeUsage, usageOf } from './usage.ts';

/** Throws the 502 unless `present`; `what` names the missing member, `answer` whose answer needs it. */
export function requireAnswer(present: boolean, what: string, answer: string): void {
  if (!present) throw new SidecarError('upstream_protocol_error', `Bedrock answered 200 without ${what}, which ${answer} needs`);
}

/**
 * A family's reading of a whole answer, `read`, where Bedrock's body breaks what the reader assumed (a `null` among
 * Claude's `content` blocks) as the stream's rule has it: a 502 `upstream_protocol_error` naming the failure, not
 * the 500 of the TypeError.
 */
export function readAnswer<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isSidecarError(error)) throw error;
    throw new SidecarError('upstream_protocol_error', `could not read Bedrock's answer: ${(error as Error).message}`);
  }
}

export { isRecord } from './usage.ts';

/** A whole answer's tool call as the events a stream gives: its start, then all its arguments in one delta. */
export function wholeToolCall(index: number, id: string, name: string, input: unknown): StreamEvent[] {
  return [
    { kind: 'tool_start', index, id, name },
    { kind: 'tool_delta', index, arguments: JSON.stringify(input ?? {}) },
  ];
}

/**
 * The end of a whole answer (`body`, Anthropic's or Converse's): its finish from `stopReason` (or `reason`, where
 * the answer's content decides it; `content_filter` when a guardrail intervened), then its `usage` when Bedrock
 * reported one.
 */
export function answerEnd(stopReason: unknown, body: Record<string, unknown>, usage: unknown, reason?: FinishReason): StreamEvent[] {
  const complete = completeUsage(usageOf(usage));
  const finish = finishEvent(typeof stopReason === 'string' ? stopReason : undefined, guardrailIntervenedIn(body), reason);
  return complete ? [finish, { kind: 'usage', usage: complete }] : [finish];
}
