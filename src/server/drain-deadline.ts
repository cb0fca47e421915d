/**
 * The drain deadline for a request that has not answered yet (docs/contract.md#operations): when it comes,
 * the request's upstream work is aborted and its answer is the contract's 503 `unavailable`, in the
 * surface's error shape, rather than a connection the process closes under it a few seconds later. A
 * committed stream is left alone here: the drain itself ends it with its in-band `unavailable` error.
 */
import type { ServerResponse } from 'node:http';
import { SidecarError } from '../errors.ts';

export interface DrainStop {
  /** The error to answer with once the deadline stopped this request; undefined while it has not. */
  readonly error: SidecarError | undefined;
  /** Stops listening for the deadline (call it when the request ends). */
  release(): void;
}

/** `deadline` is the context's `drainDeadline` (absent where a test serves without an app: never stopped). */
export function stopAtDrainDeadline(deadline: AbortSignal | undefined, res: ServerResponse, abort: AbortController): DrainStop {
  let error: SidecarError | undefined;
  const onDeadline = (): void => {
    if (res.headersSent || res.destroyed) return;
    error = new SidecarError('unavailable', 'the sidecar is shutting down (drain deadline reached)');
    abort.abort();
  };
  deadline?.addEventListener('abort', onDeadline, { once: true });
  return {
    get error() {
      return error;
    },
    release: () => deadline?.removeEventListener('abort', onDeadline),
  };
}
