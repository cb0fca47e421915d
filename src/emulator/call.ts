// What a model-operation handler (invoke.ts, converse.ts) gets from the server for one request, and the
// shared first step of answering: take the next reply and play out `delay` and `error` replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendAwsError } from './aws-errors.ts';
import type { RenderContext } from './families/types.ts';
import type { PromptCache } from './prompt-cache.ts';
import type { ResponseTracker } from './stream-writer.ts';
import type { GuardrailRules, RawReply, RecordedRequest, ScriptedReply, TextReply, ToolUseReply } from './types.ts';

export interface CallContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  tracker: ResponseTracker;
  requestId: string;
  startMs: number;
  /** Per-emulator sequence number of this call (deterministic ids, signatures). */
  seq: number;
  modelId: string;
  body: Buffer;
  /** Default pause between frames (options.frameDelayMs). */
  frameDelayMs: number;
  /** The next scripted reply, else a marker reply, else the default reply for this user text. */
  nextReply(lastUserText: string): ScriptedReply;
  render: RenderContext;
  /** Seeded randomness for padding. */
  rand: () => number;
  guardrails: GuardrailRules;
  /** The emulator's prompt cache (cache reads and writes in the usage it reports). */
  promptCache: PromptCache;
  /** Sends a 400 ValidationException (and records the status). */
  validationError(message: string): void;
}

export type ContentReply = TextReply | ToolUseReply | RawReply;

/** Plays `delay` and `error` replies; returns the content reply to render, or undefined when answered. */
export async function settleReply(call: CallContext, reply: ScriptedReply): Promise<ContentReply | undefined> {
  let current = reply;
  while (current.type === 'delay') {
    await call.tracker.wait(current.ms, current.until);
    if (call.tracker.gone) return undefined;
    current = current.then;
  }
  if (current.type === 'error') {
    call.record.status = current.status;
    sendAwsError(call.res, call.requestId, current.status, current.errorType, current.message, current.extra, current.headers);
    return undefined;
  }
  return current;
}

/** Body for a non-stream `raw` reply: strings and Buffers verbatim, anything else as JSON. */
export function rawBody(reply: RawReply): Buffer {
  if (Buffer.isBuffer(reply.body)) return reply.body;
  if (typeof reply.body === 'string') return Buffer.from(reply.body, 'utf8');
  return Buffer.from(JSON.stringify(reply.body ?? null), 'utf8');
}

export const MALFORMED_INPUT = 'Malformed input request, please reformat your input and try again.';
export const INVALID_MODEL_ID = 'The provided model identifier is invalid.';
