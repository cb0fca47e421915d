/**
 * Classifies what Bedrock (or the network on the way to it) answered, before any byte went to the
 * client, into the error vocabulary of docs/contract.md#streaming-and-errors, and says whether a retry may help.
 * Classification is by `x-amzn-ErrorType` name and status, and by undici's string error codes — never by `instanceof`.
 */
import { SidecarError, type ErrorType } from '../errors.ts';
import { own } from '../own.ts';

export interface UpstreamErrorAnswer {
  status: number;
  errorType: string | undefined;
  message: string;
}

/** Reads `x-amzn-errortype` (cut at `:`/`,`, after `#`), else the body's `__type`/`code`. */
export function errorNameOf(header: string | string[] | undefined, body: Record<string, unknown> | undefined): string | undefined {
  const raw = (Array.isArray(header) ? header[0] : header) ?? (body?.__type as string | undefined) ?? (body?.code as string | undefined);
  if (typeof raw !== 'string' || raw === '') return undefined;
  let name = raw.split(',')[0]!.split(':')[0]!;
  if (name.includes('#')) name = name.slice(name.indexOf('#') + 1);
  return name.trim() || undefined;
}

const BY_NAME: Record<string, ErrorType> = {
  ValidationException: 'invalid_request_error',
  AccessDeniedException: 'permission_error',
  UnrecognizedClientException: 'permission_error',
  InvalidSignatureException: 'permission_error',
  MissingAuthenticationTokenException: 'permission_error',
  ExpiredTokenException: 'permission_error',
  ResourceNotFoundException: 'model_not_found',
  ThrottlingException: 'rate_limit_error',
  ModelNotReadyException: 'rate_limit_error',
  ServiceQuotaExceededException: 'rate_limit_error',
  ModelTimeoutException: 'upstream_timeout',
  ModelErrorException: 'upstream_error',
  ModelStreamErrorException: 'upstream_error',
  InternalServerException: 'upstream_error',
  ServiceUnavailableException: 'upstream_error',
};

/**
 * The error type of a Bedrock exception name, whether an HTTP answer's `x-amzn-ErrorType`
 * (`ThrottlingException`) or an event-stream exception's `:exception-type` (`throttlingException`, the
 * member name, first letter lower-case); undefined for a name not in the table.
 */
export function errorTypeOfException(name: string): ErrorType | undefined {
  const shape = name.charAt(0).toUpperCase() + name.slice(1);
  return own(BY_NAME, shape);
}

/** The message of a Bedrock error body (`message`; some services spell it `Message`), or undefined. */
export function errorMessageOf(body: Record<string, unknown> | undefined): string | undefined {
  if (typeof body?.message === 'string') return body.message;
  return typeof body?.Message === 'string' ? body.Message : undefined;
}

/** Retried before the first byte: throttling and 5xx (docs/contract.md#streaming-and-errors). ServiceQuotaExceeded is not retried. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ModelNotReadyException',
  'InternalServerException',
  'ServiceUnavailableException',
]);

/**
 * AWS answers a bad signature with the canonical request it expected (signed header values, the session
 * token among them) after a blank line: only the first paragraph may reach the client or the logs.
 */
function safeMessage(message: string): string {
  const cut = message.search(/\n\s*\n\s*The (Canonical String|String-to-Sign)/);
  return (cut === -1 ? message : message.slice(0, cut)).trim();
}

export function classifyAnswer(answer: UpstreamErrorAnswer): SidecarError {
  const name = answer.errorType;
  let type = name ? errorTypeOfException(name) : undefined;
  if (!type) {
    if (answer.status === 429) type = 'rate_limit_error';
    else if (answer.status === 403 || answer.status === 401) type = 'permission_error';
    else if (answer.status === 404) type = 'model_not_found';
    else if (answer.status === 408) type = 'upstream_timeout';
    else if (answer.status >= 500) type = 'upstream_error';
    else if (answer.status === 400) type = 'invalid_request_error';
    else type = 'upstream_error';
  }
  const retryable =
    (name !== undefined && RETRYABLE_NAMES.has(name)) ||
    (name !== 'ServiceQuotaExceededException' && (answer.status === 429 || [500, 502, 503, 504].includes(answer.status)));
  const label = name ?? `HTTP ${answer.status}`;
  const message = safeMessage(answer.message);
  return new SidecarError(type, `Bedrock: ${label}${message ? `: ${message}` : ''}`, {
    retryable,
    upstreamCode: name ?? String(answer.status),
    upstreamStatus: answer.status,
    upstreamMessage: message,
    contextOverflow: answer.status === 400 && CONTEXT_OVERFLOW.test(message),
  });
}

/**
 * Bedrock's words for a request longer than the model's context window: its own "Input is too long for requested
 * model." (any family), and Claude's "prompt is too long: 227255 tokens > 200000 maximum" and "input length and
 * `max_tokens` exceed context limit: 178959 + 64000 > 200000, decrease input length or `max_tokens` and try again"
 * (aaif-goose/goose #7504, anthropics/claude-code #228 and #16580, docker/docker-agent #569). Claude Code
 * recognises the first two itself; the OpenAI surfaces name them `context_length_exceeded` (kortix-ai/suna #6368,
 * EasyMetaAu/helm-api #702: clients compact on the code, not on a numeric 400).
 */
const CONTEXT_OVERFLOW = /input is too long for requested model|prompt is too long|input length and `?max_tokens`? exceed context limit/i;

/**
 * Whether Bedrock refused the service tier asked for as one the model does not take: "The provided service tier is
 * not supported for this model." (stdapi-ai/stdapi.ai probes of Sonnet 5.5 and GPT-6.1 Sol, 2026-09; every Claude
 * in us-east-1/2 by a 2026-07 account probe; openai/codex #25318: Bedrock's GPT models take the default tier only).
 */
export function tierRefused(error: SidecarError): boolean {
  return error.upstreamStatus === 400 && /service tier is not supported/i.test(error.message);
}

/**
 * The room Claude's context leaves for output, from its refusal of input plus max_tokens over the window ("input
 * length and `max_tokens` exceed context limit: 178959 + 64000 > 200000 …"): the window less the input, or
 * undefined when the message is not that one or the input alone fills the window.
 */
export function contextRoom(error: SidecarError): number | undefined {
  if (!error.contextOverflow) return undefined;
  const named = /exceed context limit: (\d+) \+ \d+ > (\d+)/.exec(error.message);
  const room = Number(named?.[2]) - Number(named?.[1]);
  return Number.isSafeInteger(room) && room > 0 ? room : undefined;
}

/**
 * The output-token limit a Bedrock refusal names, or undefined: "The maximum tokens you requested exceeds the
 * model limit of 4096. Try again with a maximum tokens value that is lower than 4096." (Converse and InvokeModel,
 * as users report it), or Claude's own "max_tokens: 64001 > 64000, which is the maximum allowed number of output
 * tokens for …".
 */
export function outputTokenLimit(error: SidecarError): number | undefined {
  if (error.type !== 'invalid_request_error' || error.upstreamStatus !== 400) return undefined;
  const named = /exceeds the model limit of (\d+)|max_tokens: \d+ > (\d+), which is the maximum allowed/.exec(error.message);
  const limit = Number(named?.[1] ?? named?.[2]);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}

/** Network-level failures (undici / Node error codes) before a response. */
export function classifyNetworkError(error: unknown): SidecarError {
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = (error as Error | null)?.message ?? String(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new SidecarError('upstream_timeout', `could not connect to Bedrock in time: ${message}`, {
        retryable: true,
        upstreamCode: code,
        cause: error,
      });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new SidecarError('upstream_timeout', 'Bedrock did not answer in time (upstream.first_byte_timeout_ms)', {
        retryable: false,
        upstreamCode: code,
        cause: error,
      });
    case 'UND_ERR_BODY_TIMEOUT':
      return new SidecarError('upstream_timeout', 'Bedrock sent nothing for upstream.idle_timeout_ms', {
        upstreamCode: code,
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SidecarError('upstream_error', `cannot resolve the Bedrock endpoint: ${message}`, {
        retryable: code === 'EAI_AGAIN',
        upstreamCode: code,
        cause: error,
      });
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new SidecarError('upstream_error', `connection to Bedrock failed: ${code} ${message}`.trim(), {
        retryable: true,
        upstreamCode: code,
        cause: error,
      });
    case 'UND_ERR_INVALID_ARG':
      // undici refused the request the sidecar built (a header value it cannot send): nothing reached Bedrock, so it
      // is neither Bedrock's failure nor the network's, and opens no breaker (a client's project id did: attack16).
      return new SidecarError('internal_error', `the request for Bedrock could not be sent: ${message}`, { cause: error });
    default:
      if (/certificate|SSL|TLS/i.test(message) || code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SELF_SIGNED')) {
        return new SidecarError('upstream_error', `TLS to Bedrock failed: ${message}`, { upstreamCode: code || 'TLS', cause: error });
      }
      return new SidecarError('upstream_error', `request to Bedrock failed: ${message}`, { upstreamCode: code || undefined, cause: error });
  }
}

/** Failures while reading an already committed stream body. */
export function classifyStreamError(error: unknown): SidecarError {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new SidecarError('upstream_timeout', 'Bedrock sent nothing for upstream.idle_timeout_ms', { upstreamCode: code });
  }
  return new SidecarError(
    'upstream_protocol_error',
    `the Bedrock stream broke: ${code ? `${code} ` : ''}${(error as Error | null)?.message ?? String(error)}`.trim(),
    { upstreamCode: code || undefined },
  );
}
