/**
 * Bedrock's own error shapes for the native surface (docs/contract.md#bedrock-native, docs/bedrock-wire.md#errors):
 * before the commit an HTTP error with `x-amzn-ErrorType: <Name>` and `{"message": …}`, the way the AWS SDK
 * parses it into its named exception; after it, an exception frame whose `:exception-type` is one the
 * operation's event stream declares (the SDK raises those by name, and fails on others).
 */
import type { SidecarError, ErrorType } from '../../errors.ts';

/** Bedrock's exception name for each error type the sidecar answers. */
const BY_TYPE: Record<ErrorType, string> = {
  invalid_request_error: 'ValidationException',
  unsupported_parameter: 'ValidationException',
  guardrail_violation: 'ValidationException',
  authentication_error: 'UnrecognizedClientException',
  permission_error: 'AccessDeniedException',
  model_not_found: 'ResourceNotFoundException',
  not_found: 'ResourceNotFoundException',
  method_not_allowed: 'ValidationException',
  client_timeout: 'ValidationException',
  request_too_large: 'ValidationException',
  rate_limit_error: 'ThrottlingException',
  request_header_fields_too_large: 'ValidationException',
  internal_error: 'InternalServerException',
  upstream_error: 'InternalServerException',
  upstream_protocol_error: 'InternalServerException',
  unavailable: 'ServiceUnavailableException',
  overloaded: 'ServiceUnavailableException',
  upstream_timeout: 'ModelTimeoutException',
};

/** Names Bedrock itself answers with: an upstream failure keeps Bedrock's own name. */
const BEDROCK_NAMES: ReadonlySet<string> = new Set([
  'ValidationException',
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ThrottlingException',
  'ServiceQuotaExceededException',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'ModelErrorException',
  'ModelStreamErrorException',
  'InternalServerException',
  'ServiceUnavailableException',
]);

/**
 * The exception name of an error: Bedrock's own when it named one — as an HTTP answer's `x-amzn-ErrorType`
 * (`ModelStreamErrorException`) or as an in-stream exception's `:exception-type` (`modelStreamErrorException`,
 * the member name) — else the one matching the error type.
 */
export function exceptionName(error: SidecarError): string {
  return bedrocksOwnName(error) ?? BY_TYPE[error.type];
}

/** Bedrock's own exception name for an error Bedrock named, else undefined. */
function bedrocksOwnName(error: SidecarError): string | undefined {
  const code = error.upstreamCode;
  const name = code === undefined ? undefined : code.charAt(0).toUpperCase() + code.slice(1);
  return name !== undefined && BEDROCK_NAMES.has(name) ? name : undefined;
}

/**
 * The HTTP status of an error answer: Bedrock's own when Bedrock answered the error under one of its names
 * (ModelTimeoutException 408, ModelErrorException 424, InternalServerException 500, ServiceUnavailableException
 * 503 …), else the sidecar's for the error type. The AWS SDK decides whether to retry by the status as well as
 * the name (it retries any 500, 502, 503 or 504), so a 424 answered as 502 would be tried three times where
 * Bedrock's own answer is tried once.
 */
export function nativeErrorStatus(error: SidecarError): number {
  return error.upstreamStatus !== undefined && bedrocksOwnName(error) !== undefined ? error.upstreamStatus : error.status;
}

/** Bedrock's JSON content type, as it sends it (no charset: every real answer recorded says just this). */
export const BEDROCK_JSON = { 'content-type': 'application/json' } as const;

/**
 * Bedrock's `{"message"}`: Bedrock's own words when the failure is Bedrock's answer (an app written against
 * Bedrock reads the message it would have had without the sidecar), else the sidecar's. A guardrail block also
 * names the guardrail (`guardrail`), as on every surface — the AWS SDK keeps a member it does not model on the
 * exception it raises (`error.guardrail`).
 */
export function nativeErrorBody(error: SidecarError): { message: string; guardrail?: string } {
  const message = error.upstreamMessage || error.message;
  return error.guardrail === undefined ? { message } : { message, guardrail: error.guardrail };
}

export function nativeErrorHeaders(error: SidecarError): Record<string, string> {
  return { ...BEDROCK_JSON, 'x-amzn-errortype': exceptionName(error) };
}

/**
 * What AWS answers for a path no operation owns: 404 `UnknownOperationException` (AWS's common errors; the
 * SDK raises it as a service exception of that name, with the body's `message`).
 */
export function unknownOperationHeaders(): Record<string, string> {
  return { ...BEDROCK_JSON, 'x-amzn-errortype': 'UnknownOperationException' };
}

/** The exception frames each streaming operation declares (the AWS SDK's event-stream unions). */
export const CONVERSE_STREAM_EXCEPTIONS: ReadonlySet<string> = new Set([
  'internalServerException',
  'modelStreamErrorException',
  'validationException',
  'throttlingException',
  'serviceUnavailableException',
]);
export const INVOKE_STREAM_EXCEPTIONS: ReadonlySet<string> = new Set([...CONVERSE_STREAM_EXCEPTIONS, 'modelTimeoutException']);

/** The `:exception-type` of an in-band error: the name in lower camel case if the stream declares it. */
export function streamExceptionType(error: SidecarError, declared: ReadonlySet<string>): string {
  const name = exceptionName(error);
  const camel = name.charAt(0).toLowerCase() + name.slice(1);
  if (declared.has(camel)) return camel;
  // Refusals of the request itself (a 4xx) stay validation errors; everything else is the service's fault.
  return error.status >= 400 && error.status < 500 && error.type !== 'rate_limit_error' ? 'validationException' : 'internalServerException';
}
