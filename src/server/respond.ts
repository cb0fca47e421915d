/**
 * JSON answers that are not streams: bodies, and errors in the shape of the request's surface.
 */
import type { ServerResponse } from 'node:http';
import { toSidecarError, type SidecarError } from '../errors.ts';
import type { Logger } from '../ops/logger.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The error each response answered with, for the request's log line (router.ts `logAnswered`). */
const answeredWith = new WeakMap<ServerResponse, SidecarError>();

/** The error `res` was answered with by `sendError`, if it was. */
export function errorAnswered(res: ServerResponse): SidecarError | undefined {
  return answeredWith.get(res);
}

/**
 * How a surface answers an error before the commit: its body, any headers of its own (Bedrock's
 * `x-amzn-ErrorType`), and its HTTP status where that is not the error type's (the native surface keeps Bedrock's).
 */
export interface ErrorShape {
  /** The JSON body of an error answered before the commit. */
  errorBody(error: SidecarError): unknown;
  /** Headers that go with it (Bedrock's `x-amzn-ErrorType`); none if absent. */
  errorHeaders?(error: SidecarError): Record<string, string>;
  /** Its HTTP status, where not the error type's (Bedrock's own, native); absent: the type's. */
  errorStatus?(error: SidecarError): number;
}

/**
 * An error before the commit: `body` is the surface's error shape of it (docs/contract.md#streaming-and-errors),
 * `status` the error type's unless the surface says otherwise.
 */
export function sendError(
  res: ServerResponse,
  error: SidecarError,
  body: unknown,
  headers: Record<string, string> = {},
  status = error.status,
): void {
  answeredWith.set(res, error);
  // A load answer tells the client when to come back, and that it may (docs/contract.md#failover-and-overload).
  const extra =
    error.retryAfterS === undefined ? headers : { 'retry-after': String(error.retryAfterS), 'x-should-retry': 'true', ...headers };
  sendJson(res, status, body, extra);
}

/**
 * A model request's failure, recorded in its outcome and answered in the surface's shape if nothing was sent
 * yet (499 when the client left first). Once the sidecar itself retried (upstream.max_attempts) the answer
 * says `x-should-retry: false`: an SDK retrying on top would multiply the load on a throttled Bedrock (3 × 3
 * attempts by default). An internal error is logged with its stack.
 */
export function answerFailure(
  res: ServerResponse,
  error: unknown,
  outcome: { status: number; error: SidecarError | undefined; retries: number },
  surface: ErrorShape,
  log: Logger,
): void {
  const e = toSidecarError(error);
  outcome.error = e;
  if (!res.headersSent && !res.destroyed) {
    outcome.status = surface.errorStatus?.(e) ?? e.status;
    sendError(
      res,
      e,
      surface.errorBody(e),
      {
        ...(outcome.retries > 0 ? { 'x-should-retry': 'false' } : {}),
        ...surface.errorHeaders?.(e),
      },
      outcome.status,
    );
  } else if (!res.headersSent) {
    outcome.status = 499;
  }
  if (e.type === 'internal_error') log.error({ err: error }, 'internal error');
}
