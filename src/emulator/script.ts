// Reply scripting: FIFO queues of scripted replies, the deterministic default reply, and the magic
// markers an app developer can type into the last user message to trigger faults by hand.
import type { Fault, ScriptedReply, TextReply } from './types.ts';

export class ScriptQueue<T> {
  #items: T[] = [];
  push(...items: T[]): void {
    this.#items.push(...items);
  }
  next(): T | undefined {
    return this.#items.shift();
  }
  clear(): void {
    this.#items = [];
  }
  get length(): number {
    return this.#items.length;
  }
}

const MARKER = /\[\[emulator:([^\]]*)\]\]/g;
const ECHO_MAX_CODE_POINTS = 2000;

export function stripMarkers(text: string): string {
  return text.replace(MARKER, '').trim();
}

/**
 * The reply when nothing is scripted. It echoes the last user text (markers removed, at most 2000 code
 * points) and contains multi-byte characters (an em dash, 3 bytes; an emoji, 4 bytes) so UTF-8 handling
 * is exercised by default.
 */
export function defaultReplyText(lastUserText: string): string {
  const cps = [...stripMarkers(lastUserText)];
  const echo = cps.length > ECHO_MAX_CODE_POINTS ? cps.slice(0, ECHO_MAX_CODE_POINTS).join('') + '…' : cps.join('');
  return `Hello from the Bedrock emulator — you said: "${echo}" 👋`;
}

const FAULT_KINDS = ['reset', 'truncate', 'corrupt-crc', 'corrupt-prelude', 'hang', 'end'] as const;

/**
 * Markers (all optional, combinable; an error marker wins):
 *   [[emulator:throttle]]                      429 ThrottlingException before the stream
 *   [[emulator:error:STATUS:ErrorType]]        any HTTP error before the stream
 *   [[emulator:delay:MS]]                      wait MS before the response headers
 *   [[emulator:frame-delay:MS]]                pause MS between stream frames
 *   [[emulator:exception-after:N:type]]        exception frame (e.g. throttlingException) after N frames
 *   [[emulator:KIND-after:N]]                  KIND ∈ reset, truncate, corrupt-crc, corrupt-prelude, hang, end
 *   [[emulator:repeat:N]]                      the default text N times over
 *   [[emulator:think]]                         add reasoning before the answer
 *   [[emulator:tool:NAME]]                     answer with a tool call NAME({"query": <user text>})
 */
export function markerReply(lastUserText: string): ScriptedReply | undefined {
  const markers = [...lastUserText.matchAll(MARKER)].map((m) => m[1]!.split(':'));
  if (markers.length === 0) return undefined;
  const echo = stripMarkers(lastUserText);
  let delayMs = 0;
  let error: ScriptedReply | undefined;
  let fault: Fault | undefined;
  let tool: string | undefined;
  const text: TextReply = { type: 'text', text: defaultReplyText(lastUserText) };
  for (const [name, ...args] of markers) {
    const n = Number(args[0]);
    if (name === 'throttle') {
      error = {
        type: 'error',
        status: 429,
        errorType: 'ThrottlingException',
        message: 'Too many requests, please wait before trying again.',
      };
    } else if (name === 'error' && Number.isInteger(n)) {
      error = {
        type: 'error',
        status: n,
        errorType: args[1] ?? 'InternalServerException',
        message: args.slice(2).join(':') || `Emulated ${args[1] ?? 'error'}`,
      };
    } else if (name === 'delay' && n >= 0) {
      delayMs = n;
    } else if (name === 'frame-delay' && n >= 0) {
      text.frameDelayMs = n;
    } else if (name === 'exception-after' && n >= 0) {
      fault = { afterFrames: n, kind: 'exception', exceptionType: (args[1] ?? 'throttlingException') as 'throttlingException' };
    } else if (name === 'repeat' && n >= 1) {
      text.repeat = Math.floor(n);
    } else if (name === 'think') {
      text.reasoning = 'The user wants an answer; the emulator reasons briefly — then replies.';
    } else if (name === 'tool' && args[0]) {
      tool = args.join(':');
    } else {
      const kind = FAULT_KINDS.find((k) => name === `${k}-after`);
      if (kind && n >= 0) fault = { afterFrames: n, kind };
    }
  }
  let reply: ScriptedReply =
    error ??
    (tool
      ? { type: 'tool_use', calls: [{ name: tool, input: { query: echo } }], fault, frameDelayMs: text.frameDelayMs }
      : { ...text, fault });
  if (delayMs > 0) reply = { type: 'delay', ms: delayMs, then: reply };
  return reply;
}
