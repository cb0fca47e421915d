// Non-stream AWS error responses (docs/bedrock-wire.md#error-shapes): status, `x-amzn-ErrorType: <Name>:<namespace>`,
// `x-amzn-RequestId`, JSON body `{"message":…}`. Service-level (Coral) errors such as authentication and
// unknown operations use the coral.service namespace, model-level ones the bedrock namespace.
import type { ServerResponse } from 'node:http';

export const BEDROCK_NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
export const CORAL_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';

const CORAL_ERRORS = new Set([
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'UnknownOperationException',
  'SerializationException',
  'ExpiredTokenException',
]);

export function errorTypeHeader(errorType: string): string {
  return `${errorType}:${CORAL_ERRORS.has(errorType) ? CORAL_NS : BEDROCK_NS}`;
}

export function sendAwsError(
  res: ServerResponse,
  requestId: string,
  status: number,
  errorType: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ message, ...extra });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': errorTypeHeader(errorType),
    ...headers,
  });
  res.end(body);
}

/** What real AWS answers for a path no operation owns (Coral envelope). */
export function sendUnknownOperation(res: ServerResponse, requestId: string): void {
  const body = JSON.stringify({ Output: { __type: 'com.amazon.coral.service#UnknownOperationException', message: null }, Version: '1.0' });
  res.writeHead(404, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': errorTypeHeader('UnknownOperationException'),
  });
  res.end(body);
}

/** Default messages for the exception types a stream can carry (docs/bedrock-wire.md#invoke-stream-events, #converse-stream-events). */
export const EXCEPTION_MESSAGES: Record<string, string> = {
  throttlingException: 'Too many requests, please wait before trying again.',
  modelStreamErrorException: 'The model returned an error while streaming the response.',
  internalServerException: 'The server encountered an internal error while processing the request.',
  validationException: 'Input validation failed.',
  modelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  serviceUnavailableException: 'Bedrock is unable to process your request.',
};
