/**
 * The closed vocabulary of error types. One table serves the JSON `type`, the HTTP status before the
 * response is committed, the numeric `code` of an in-band SSE error frame after it, the metric label and
 * the log field. Failures are classified by these string types, never by `instanceof` chains.
 *
 * Every message and `param` is made safe to show as it is built: each secret the process knows (its AWS
 * credentials, API keys, `server.auth_token`) is replaced by `[redacted]` whatever the text around it, and
 * the length is bounded, since messages quote client input (a 5 MiB model name) and upstream text.
 */
import { scrubKnownSecrets } from './ops/secrets.ts';

export const ERROR_STATUS = {
  invalid_request_error: 400,
  unsupported_parameter: 400,
  guardrail_violation: 400,
  authentication_error: 401,
  permission_error: 403,
  model_not_found: 404,
  not_found: 404,
  method_not_allowed: 405,
  client_timeout: 408,
  request_too_large: 413,
  rate_limit_error: 429,
  request_header_fields_too_large: 431,
  internal_error: 500,
  upstream_error: 502,
  upstream_protocol_error: 502,
  unavailable: 503,
  overloaded: 503,
  upstream_timeout: 504,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

export interface SidecarErrorOptions {
  /** The request parameter at fault, if any (OpenAI's `param`). */
  param?: string | null;
  /**
   * `param` is a key the client sent that no surface reads, named exactly as sent: a surface that names neutral
   * parameters in its own spelling (`clientNamed`) leaves it as it is.
   */
  paramAsSent?: boolean;
  /** Overrides the table's status (rare: only where Bedrock's own status must be kept). */
  status?: number;
  /** Name of the guardrail that blocked, for `guardrail_violation`. */
  guardrail?: string;
  /** Whether a retry may succeed (throttling, 5xx before the commit). */
  retryable?: boolean;
  /** Upstream error name (`ThrottlingException`, `ECONNRESET` …) for logs. */
  upstreamCode?: string;
  /** The HTTP status Bedrock answered with, when the failure is Bedrock's answer. */
  upstreamStatus?: number;
  /**
   * Bedrock's own message, word for word, when the failure is Bedrock's answer: the native surface hands it on
   * unchanged (its clients read Bedrock's words), where the other surfaces say `Bedrock: <Name>: <message>`.
   */
  upstreamMessage?: string;
  /** Seconds after which a retry may succeed: sent as `retry-after` with the error (503 overloaded, open breakers). */
  retryAfterS?: number;
  /**
   * Bedrock refused the request as longer than the model's context window (`contextOverflow` in
   * upstream/bedrock-errors.ts): the OpenAI surfaces say `code: "context_length_exceeded"`, the code their clients
   * compact or stop on.
   */
  contextOverflow?: boolean;
  /**
   * A machine-readable reason a client acts on, where its protocol has one: Anthropic's
   * `error.details.error_code` (`mid_conversation_tool_changes_not_supported`, on which Claude Code falls back).
   */
  errorCode?: string;
  cause?: unknown;
}

/** A failure with a type from the vocabulary. Thrown before the commit; carried as data after it. */
export class SidecarError extends Error {
  readonly type: ErrorType;
  readonly status: number;
  readonly param: string | null;
  readonly paramAsSent: boolean;
  readonly guardrail: string | undefined;
  readonly retryable: boolean;
  readonly upstreamCode: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly upstreamMessage: string | undefined;
  readonly contextOverflow: boolean;
  readonly errorCode: string | undefined;

  constructor(type: ErrorType, message: string, options: SidecarErrorOptions = {}) {
    super(excerpt(scrubKnownSecrets(message), MAX_ERROR_MESSAGE_CHARS), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.type = type;
    this.status = options.status ?? ERROR_STATUS[type];
    this.param = options.param == null ? null : excerpt(scrubKnownSecrets(options.param), MAX_PARAM_CHARS);
    this.paramAsSent = options.paramAsSent === true;
    this.guardrail = options.guardrail;
    this.retryable = options.retryable ?? false;
    this.upstreamCode = options.upstreamCode;
    this.retryAfterS = options.retryAfterS;
    this.upstreamStatus = options.upstreamStatus;
    this.contextOverflow = options.contextOverflow === true;
    this.errorCode = options.errorCode;
    this.upstreamMessage =
      options.upstreamMessage === undefined ? undefined : excerpt(scrubKnownSecrets(options.upstreamMessage), MAX_ERROR_MESSAGE_CHARS);
  }
}

/** Longest error message shown or logged; the rest is cut (with a note of how much). */
export const MAX_ERROR_MESSAGE_CHARS = 2_000;
/** Longest `param` (a key path; a client may send a 2 MB key). */
export const MAX_PARAM_CHARS = 200;

/**
 * `text` cut to at most about `max` characters with a note of what was left out (never inside a surrogate
 * pair), for quoting client or upstream text in a message.
 */
export function excerpt(text: string, max = 200): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

export function isSidecarError(value: unknown): value is SidecarError {
  return value instanceof Error && (value as { name?: string }).name === 'SidecarError';
}

/** Wraps anything thrown into a SidecarError (unknown failures become `internal_error`). */
export function toSidecarError(value: unknown): SidecarError {
  if (isSidecarError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new SidecarError('internal_error', message || 'internal error', { cause: value });
}

/**
 * The JSON body of an error answered before the response is committed: `code` is the status, but for a prompt
 * longer than the model's context, which is OpenAI's `context_length_exceeded` on the surface's prompt parameter
 * (`prompt`: Chat's `messages`; Responses' and embeddings' `input`), as OpenAI answers and clients compact on.
 */
export function errorBody(error: SidecarError, prompt = 'messages'): { error: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    message: error.message,
    type: error.type,
    param: error.contextOverflow ? (error.param ?? prompt) : error.param,
    code: error.contextOverflow ? 'context_length_exceeded' : error.status,
  };
  if (error.guardrail !== undefined) body.guardrail = error.guardrail;
  return { error: body };
}

/**
 * The refused parameter in a surface's own spelling: the neutral request speaks Chat Completions' names, and a
 * client that spelled one differently (`reasoning.effort`, `output_config.format`) is told its own name, in
 * `param` and in the message. A key the client sent that no surface reads keeps the name it was sent with.
 */
export function clientNamed(error: SidecarError, names: Readonly<Record<string, string>>): { param: string; message: string } | undefined {
  const name = error.param === null || error.paramAsSent ? undefined : names[error.param];
  if (name === undefined) return undefined;
  return { param: name, message: error.message.replaceAll(`"${error.param}"`, `"${name}"`) };
}
