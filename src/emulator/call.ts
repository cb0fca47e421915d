// What a model-operation handler (invoke.ts, converse.ts) gets from the server for one request, and the
// shared first step of answering: take the next reply and play out `delay` and `error` replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendAwsError } from './aws-errors.ts';
import type { RenderContext } from './families/types.ts';
import { familyOf } from './model-id.ts';
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

/**
 * Amazon Nova takes a tool whose name has a hyphen, but fails each time it calls one: Bedrock answers 424
 * `ModelErrorException` (SEMOSS and mcp-agent users measured it with direct Converse calls to nova-pro; the
 * AWS re:Post answer on Nova's tool naming says letters, digits and underscores). Sent here for a scripted
 * call of such a tool on a Nova model, before the response starts (whether a stream fails in-band instead is
 * not known; the emulator answers the same way on every operation). True when answered.
 */
export function novaToolNameFault(call: CallContext, reply: ContentReply): boolean {
  if (familyOf(call.modelId) !== 'nova' || reply.type !== 'tool_use' || !reply.calls.some((c) => c.name.includes('-'))) return false;
  call.record.status = 424;
  sendAwsError(
    call.res,
    call.requestId,
    424,
    'ModelErrorException',
    'Model produced invalid sequence as part of ToolUse. Please refer to the model tool use troubleshooting guide.',
  );
  return true;
}

/** Body for a non-stream `raw` reply: strings and Buffers verbatim, anything else as JSON. */
export function rawBody(reply: RawReply): Buffer {
  if (Buffer.isBuffer(reply.body)) return reply.body;
  if (typeof reply.body === 'string') return Buffer.from(reply.body, 'utf8');
  return Buffer.from(JSON.stringify(reply.body ?? null), 'utf8');
}

export const MALFORMED_INPUT = 'Malformed input request, please reformat your input and try again.';
export const INVALID_MODEL_ID = 'The provided model identifier is invalid.';
