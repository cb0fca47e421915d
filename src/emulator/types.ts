// Public types of the Bedrock emulator: options, the recorded-request log and the scripting vocabulary.
// Everything here is data; behaviour lives in server.ts (routing), stream-writer.ts (frames + faults),
// script.ts (queue + default reply) and families/* (native shapes).
import type { IncomingHttpHeaders } from 'node:http';

export interface EmulatorCredential {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, a request signed with this key must carry exactly this `x-amz-security-token`. */
  sessionToken?: string;
}

export interface GuardrailRules {
  /** Case-insensitive substrings that make ApplyGuardrail (and native guardrails) block. */
  blockTerms?: string[];
  /** Case-insensitive substrings that ApplyGuardrail masks as `{NAME}`-style placeholders. */
  maskTerms?: { term: string; type?: string }[];
  /** Replacement text Bedrock returns when it blocks. */
  blockedMessage?: string;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  credentials?: EmulatorCredential[];
  verifySignature?: boolean;
  apiKeys?: string[];
  frameDelayMs?: number;
  quiet?: boolean;
  /** Allowed distance between `x-amz-date` and the emulator's clock (AWS: 15 min). 0 disables the check. */
  maxClockSkewMs?: number;
  /** Guardrail behaviour for ApplyGuardrail and for bedrock-native guardrails (phase 4). */
  guardrails?: GuardrailRules;
  /** How this endpoint (one region) treats every model call until changed with `setBehavior` (extension). */
  behavior?: EndpointBehavior;
}

/**
 * A standing behaviour of the whole endpoint, for playing several regions at once (one emulator per
 * region): `serve` (default) answers as scripted; `throttle` answers every model call 429
 * ThrottlingException; `unavailable` 503 ServiceUnavailableException; `slow` waits `ms` before answering
 * as scripted; `down` drops the connection without an answer. ApplyGuardrail and CountTokens are not affected.
 */
export type EndpointBehavior =
  { kind: 'serve' } | { kind: 'throttle' } | { kind: 'unavailable' } | { kind: 'slow'; ms: number } | { kind: 'down' };

export type Operation =
  'InvokeModel' | 'InvokeModelWithResponseStream' | 'Converse' | 'ConverseStream' | 'ApplyGuardrail' | 'CountTokens' | 'unknown';

export interface DoneInfo {
  clientAborted: boolean;
  framesWritten: number;
  writesPaused: number;
}

export interface RecordedRequest {
  method: string;
  rawPath: string;
  operation: Operation;
  modelId?: string;
  guardrailId?: string;
  guardrailVersion?: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json?: unknown;
  signature: 'valid' | 'invalid' | 'missing' | 'bearer';
  /** The region of the SigV4 credential scope, when the request was signed (extension). */
  region?: string;
  /** Why a signature was judged invalid (extension; absent when valid). */
  signatureProblem?: string;
  status?: number;
  done: Promise<DoneInfo>;
  /** The response so far, while it runs (extension): frames written, writes that had to wait for 'drain'. */
  progress(): { framesWritten: number; writesPaused: number };
}

export type ExceptionType =
  | 'throttlingException'
  | 'modelStreamErrorException'
  | 'internalServerException'
  | 'validationException'
  | 'modelTimeoutException'
  | 'serviceUnavailableException';

/** A failure injected into a stream after `afterFrames` frames were written. */
export type Fault =
  | {
      afterFrames: number;
      kind: 'exception';
      exceptionType: ExceptionType;
      message?: string;
      originalStatusCode?: number;
      originalMessage?: string;
    }
  | { afterFrames: number; kind: 'error-frame'; errorCode: string; errorMessage: string }
  | { afterFrames: number; kind: 'reset' }
  | { afterFrames: number; kind: 'truncate' }
  | { afterFrames: number; kind: 'corrupt-crc' }
  | { afterFrames: number; kind: 'corrupt-prelude' }
  | { afterFrames: number; kind: 'hang' }
  | { afterFrames: number; kind: 'end' };

/**
 * A stream that stops after `afterFrames` complete frames until `until` settles (or `ms` passed, or the
 * client left), then goes on (extension, in-process only): a test holds a stream in flight for exactly as
 * long as it needs, however slowly a loaded machine runs it.
 */
export interface StreamPause {
  afterFrames: number;
  until: PromiseLike<unknown>;
  /** The longest the pause may last, so a test that never releases it fails instead of hanging. */
  ms: number;
}

export interface ScriptedUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Of `cacheWriteTokens`, those written with a one-hour ttl (the rest: five minutes). */
  cacheWrite1hTokens?: number;
}

/**
 * Stop reasons use the Converse vocabulary (`end_turn`, `max_tokens`, `stop_sequence`, `tool_use`,
 * `guardrail_intervened`, `content_filtered`, …); each family maps them to its own words. A value the
 * family does not know is passed through verbatim, so a native value (e.g. Titan's `LENGTH`) also works.
 */
export type StopReason = string;

/**
 * A context compaction Claude did before answering (extension; Claude on InvokeModel only): its `compaction` block
 * comes first, streamed as `content_block_start` / one `compaction_delta` / `content_block_stop`. The request must
 * ask for compaction (`context_management.edits` with `compact_20260112`), else the call is a 500 naming the
 * mismatch; with `pause_after_compaction: true` the answer is the block alone, stop reason `compaction`.
 */
export interface ScriptedCompaction {
  /** The summary; null: a compaction that failed. */
  content: string | null;
  /** The opaque `encrypted_content`; default a fixed base64 string. */
  encryptedContent?: string;
}

export interface TextReply {
  type: 'text';
  text: string;
  /** Stream pieces; when absent the text is cut into ~20-byte pieces, never inside a code point. */
  deltas?: string[];
  /** The text (and its deltas) is produced this many times in a row, lazily (for very large replies). */
  repeat?: number;
  stopReason?: StopReason;
  usage?: ScriptedUsage;
  /** Reasoning ("thinking") text emitted before the answer. */
  reasoning?: string;
  reasoningDeltas?: string[];
  compaction?: ScriptedCompaction;
  frameDelayMs?: number;
  fault?: Fault;
  pause?: StreamPause;
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  input: unknown;
  /** Stream pieces of the JSON arguments; their concatenation should be the JSON of `input`. */
  argumentDeltas?: string[];
  /**
   * A reasoning block just before this call (Claude's interleaved thinking: several thinking blocks in one
   * answer), with its own signature where the family signs reasoning.
   */
  reasoning?: string;
}

export interface ToolUseReply {
  type: 'tool_use';
  calls: ScriptedToolCall[];
  text?: string;
  /** Stream pieces of `text`, as on a text reply. */
  deltas?: string[];
  reasoning?: string;
  compaction?: ScriptedCompaction;
  stopReason?: StopReason;
  usage?: ScriptedUsage;
  frameDelayMs?: number;
  fault?: Fault;
  pause?: StreamPause;
}

export interface ErrorReply {
  type: 'error';
  status: number;
  errorType: string;
  message: string;
  headers?: Record<string, string>;
  /** Extra members merged into the JSON body (e.g. `originalStatusCode`). */
  extra?: Record<string, unknown>;
}

export interface RawReply {
  type: 'raw';
  /** Stream: invoke → each item JSON-encoded (a string is used verbatim) into a `chunk` frame;
   *  converse → each `{ eventName: payload }` becomes one frame with that `:event-type`. */
  events?: unknown[];
  /** Non-stream: returned as the JSON body (a string or Buffer is sent verbatim). */
  body?: unknown;
  status?: number;
  headers?: Record<string, string>;
  frameDelayMs?: number;
  fault?: Fault;
  pause?: StreamPause;
}

export interface DelayReply {
  type: 'delay';
  ms: number;
  /** The wait ends as soon as this settles, `ms` then being the longest it may last (extension, in-process only). */
  until?: PromiseLike<unknown>;
  then: ScriptedReply;
}

export type ScriptedReply = TextReply | ToolUseReply | ErrorReply | RawReply | DelayReply;

export type ScriptedGuardrailReply =
  | { type: 'error'; status: number; errorType: string; message: string; headers?: Record<string, string> }
  | { type: 'delay'; ms: number; then: ScriptedGuardrailReply }
  | { type: 'raw'; body: unknown; status?: number }
  | { type: 'pass' }
  | { type: 'block'; message?: string }
  | { type: 'mask'; outputText: string };
