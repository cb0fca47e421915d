/**
 * The process's byte budget for what requests hold in memory at once: request bodies as they arrive and
 * non-streaming Bedrock answers as they are buffered (`server.max_inflight_bytes`). Each request takes
 * from it through its own `Reservation` and gives everything back when it ends, whatever the outcome.
 * A take that would pass the limit fails: the caller answers 503 (`unavailable`, a retry may succeed)
 * instead of holding more. Five concurrent 19 MiB bodies otherwise pushed RSS past the pod's limit (the
 * parsed body, the native body and the signed bytes are each a copy while a request is prepared).
 *
 * No I/O, no timers: a counter. The limit is read at each take (a reload applies at once).
 */
import { SidecarError } from '../errors.ts';

/** What a request holds from the budget: its body as it arrives, or a non-streaming Bedrock answer being buffered. */
export type BudgetUse = 'request bodies' | 'buffered Bedrock answers';

const SHED_LABEL: Readonly<Record<BudgetUse, 'body' | 'answer'>> = {
  'request bodies': 'body',
  'buffered Bedrock answers': 'answer',
};

/**
 * The `what` label of `sidecar_requests_shed_total` when `error` is the budget's refusal (docs/contract.md#observability),
 * else undefined: every surface counts its refusals the same way.
 */
export function shedLabel(error: SidecarError | undefined): 'body' | 'answer' | undefined {
  if (error?.upstreamCode !== 'BUDGET') return undefined;
  const use = (Object.keys(SHED_LABEL) as BudgetUse[]).find((what) => error.message.includes(` ${what} in flight`));
  return use === undefined ? undefined : SHED_LABEL[use];
}

export class ByteBudget {
  private used = 0;

  constructor(private readonly limit: () => number) {}

  /** Bytes held now, by every request together. */
  get inUseBytes(): number {
    return this.used;
  }

  get limitBytes(): number {
    return this.limit();
  }

  reserve(): Reservation {
    return new Reservation(this);
  }

  /** @internal */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit()) return false;
    this.used += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

/** One request's share of the budget. */
export class Reservation {
  private held = 0;

  /**
   * Memory the request keeps for reuse until its native body is sent: the buffer its body's big strings
   * came in from the JSON thread, in which its native body's big strings go back (server/json-thread.ts).
   * Within what the request took for its body (its size is at most the body's); dropped at `release`.
   */
  spare: Uint8Array | undefined;

  constructor(private readonly budget: ByteBudget) {}

  /**
   * Takes `bytes` more, or throws a 503 naming what was being read (`what`: "request bodies" …) when the
   * budget cannot hold them.
   */
  take(bytes: number, what: BudgetUse): void {
    if (!this.budget.tryTake(bytes)) {
      throw new SidecarError(
        'unavailable',
        `the sidecar is at its memory budget for ${what} in flight (server.max_inflight_bytes = ${this.budget.limitBytes} bytes, ` +
          `${this.budget.inUseBytes} in use): try again shortly`,
        { upstreamCode: 'BUDGET' },
      );
    }
    this.held += bytes;
  }

  /** What this request holds now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Gives back everything this request holds (idempotent). */
  release(): void {
    this.budget.give(this.held);
    this.held = 0;
    this.spare = undefined;
  }
}
