/**
 * Stage 3: the output guardrail validator. Batches of internal events in, batches out.
 *
 * The stage owns only stream mechanics; the decisions belong to an `OutputGuard` (src/guardrails/),
 * which may hold text back (sync mode), rewrite it (masking) or end the stream with a
 * `guardrail_violation` error event. A guard may answer asynchronously (a Bedrock ApplyGuardrail call):
 * the stage does not take the next batch until it has answered, so backpressure reaches upstream.
 * A guard whose checks run in the background (async mode) may also end the stream on its own, between
 * batches, through `onInterrupt`. With no guard configured the stage is a pass-through. Once an `error`
 * event has gone out, the remaining input is discarded: nothing follows an error.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SidecarError, toSidecarError } from '../errors.ts';
import type { StreamEvent } from './events.ts';

export interface OutputGuard {
  /** Events allowed through now, in order; may end with an `error` event (a block). */
  push(events: readonly StreamEvent[]): StreamEvent[] | Promise<StreamEvent[]>;
  /** End of input: release or judge whatever is held. */
  end(): StreamEvent[] | Promise<StreamEvent[]>;
  /** The stream is going away early (client left, upstream failed): cancel pending checks. */
  abort?(): void;
  /**
   * Lets the guard deliver events between batches — a block found by a background check while no batch is
   * being processed. The stage forwards them at once (they end the stream if they hold an error).
   */
  onInterrupt?(listener: (events: StreamEvent[]) => void): void;
}

export class GuardrailStage extends Transform {
  private stopped = false;

  constructor(private readonly guard: OutputGuard | undefined) {
    super({ objectMode: true, highWaterMark: 4, emitClose: false });
    guard?.onInterrupt?.((events) => {
      if (!this.destroyed && !this.readableEnded) this.forward(events);
    });
  }

  override _transform(batch: StreamEvent[], _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    if (!this.guard) {
      this.forward(batch);
      return callback();
    }
    this.settle(() => this.guard!.push(batch), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.stopped || !this.guard) return callback();
    this.settle(
      () => this.guard!.end(),
      () => {
        this.stopped = true; // nothing may be pushed after the end
        callback();
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.guard?.abort?.();
    callback(error);
  }

  private settle(run: () => StreamEvent[] | Promise<StreamEvent[]>, callback: TransformCallback): void {
    let result: StreamEvent[] | Promise<StreamEvent[]>;
    try {
      result = run();
    } catch (error) {
      this.forward([{ kind: 'error', error: guardFailure(error) }]);
      return callback();
    }
    if (Array.isArray(result)) {
      this.forward(result);
      return callback();
    }
    result.then(
      (events) => {
        this.forward(events);
        callback();
      },
      (error: unknown) => {
        this.forward([{ kind: 'error', error: guardFailure(error) }]);
        callback();
      },
    );
  }

  private forward(events: readonly StreamEvent[]): void {
    if (this.stopped || events.length === 0) return;
    const errorAt = events.findIndex((e) => e.kind === 'error');
    if (errorAt !== -1) {
      this.stopped = true;
      this.guard?.abort?.();
      this.push(events.slice(0, errorAt + 1));
      return;
    }
    this.push(events);
  }
}

/** A guard that throws is a guard failure, never a crash of the stream. */
function guardFailure(error: unknown): SidecarError {
  const e = toSidecarError(error);
  return e.type === 'internal_error' ? new SidecarError('guardrail_violation', `guardrail failed: ${e.message}`) : e;
}
