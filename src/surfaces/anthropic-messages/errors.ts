/**
 * Anthropic's error shape (docs/contract.md#anthropic-messages): `{"type":"error","error":{"type":T,"message":M}}`,
 * T being Anthropic's type for the status. A guardrail block is `invalid_request_error` — the type every
 * Anthropic client treats as final — with the guardrail's name beside the message. An error with a code a client
 * acts on carries it as Anthropic does, in `error.details.error_code`.
 */
import { clientNamed, type SidecarError } from '../../errors.ts';

export function anthropicErrorType(error: SidecarError): string {
  if (error.type === 'guardrail_violation') return 'invalid_request_error';
  switch (error.status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return error.status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** The Messages spelling of the one neutral parameter the surface refuses (`keepsParams`; `clientNamed`). */
const CLIENT_NAMES: Readonly<Record<string, string>> = { response_format: 'output_config.format' };

export function anthropicErrorBody(error: SidecarError): { type: 'error'; error: Record<string, unknown> } {
  const message = clientNamed(error, CLIENT_NAMES)?.message ?? error.message;
  const inner: Record<string, unknown> = { type: anthropicErrorType(error), message };
  if (error.guardrail !== undefined) inner.guardrail = error.guardrail;
  if (error.errorCode !== undefined) inner.details = { error_code: error.errorCode };
  return { type: 'error', error: inner };
}
