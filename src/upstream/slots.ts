/**
 * Connection slots per origin: at most `upstream.connections` calls in flight to one Bedrock endpoint (the
 * size of undici's pool there), and a bounded wait for a free one. undici's own pool would queue a request
 * for as long as it takes; here a call that waits longer than `upstream.queue_timeout_ms` gets a 503
 * `overloaded` at once (docs/contract.md#failover-and-overload). A slot is held until the answer's body is
 * done (read, destroyed or aborted), so a stream holds its connection's slot while it streams.
 */
import { SidecarError } from '../errors.ts';

interface Waiter {
  grant(): void;
}

interface Origin {
  active: number;
  waiting: Waiter[];
}

export class ConnectionSlots {
  private readonly origins = new Map<string, Origin>();

  constructor(
    private readonly perOrigin: number,
    private readonly queueTimeoutMs: number,
  ) {}

  /** Resolves with the release function once a slot is free; rejects on timeout or abort. */
  acquire(origin: string, signal: AbortSignal): Promise<() => void> | (() => void) {
    let o = this.origins.get(origin);
    if (!o) {
      o = { active: 0, waiting: [] };
      this.origins.set(origin, o);
    }
    const slot = o;
    if (slot.active < this.perOrigin) {
      slot.active++;
      return this.releaser(slot);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          resolve(this.releaser(slot));
        },
      };
      const leave = (error: SidecarError): void => {
        const at = slot.waiting.indexOf(waiter);
        if (at !== -1) slot.waiting.splice(at, 1);
        cleanup();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          leave(
            new SidecarError(
              'overloaded',
              `no upstream connection to ${origin} was free within upstream.queue_timeout_ms (${this.queueTimeoutMs} ms; ` +
                `upstream.connections is ${this.perOrigin}): the sidecar is overloaded`,
              { retryAfterS: 1, upstreamCode: 'QUEUE_TIMEOUT' },
            ),
          ),
        this.queueTimeoutMs,
      );
      const onAbort = (): void => leave(new SidecarError('unavailable', 'the request was cancelled', { upstreamCode: 'ABORTED' }));
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      slot.waiting.push(waiter);
    });
  }

  /** Calls waiting for a slot now, over every origin (for metrics and tests). */
  get waiting(): number {
    let n = 0;
    for (const o of this.origins.values()) n += o.waiting.length;
    return n;
  }

  private releaser(slot: Origin): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slot.waiting.shift();
      if (next)
        next.grant(); // the slot passes straight on: `active` stays the same
      else slot.active--;
    };
  }
}
