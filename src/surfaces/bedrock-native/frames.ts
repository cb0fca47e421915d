/**
 * Bedrock's event-stream framing for the native surface's streams (docs/bedrock-wire.md#event-stream-framing),
 * through the codec of @smithy/core (prelude, headers and both CRCs): one event or exception per frame, headers
 * in the order Bedrock sends them; and the one renderer both streaming operations share (`EventStreamRenderer`).
 */
import type { SidecarError } from '../../errors.ts';
import type { Frames, Renderer } from '../../pipeline/encoder.ts';
import type { StreamEvent } from '../../pipeline/events.ts';
import { concatFrames, eventFrame, exceptionFrame } from '../../upstream/event-frames.ts';
import { nativeErrorBody, streamExceptionType } from './errors.ts';

/** What a native stream's core emits: an event (its `:event-type` and payload), or the stream's one in-band error. */
export type NativeOut = { readonly eventType: string; readonly payload: unknown } | { readonly error: SidecarError };

/**
 * One InvokeModelWithResponseStream `chunk` event: the family's own event as JSON, base64 in `bytes`, as Bedrock
 * carries every invoke family's stream.
 */
export function chunkOut(event: unknown): NativeOut {
  return { eventType: 'chunk', payload: { bytes: Buffer.from(JSON.stringify(event), 'utf8').toString('base64') } };
}

/** The operation's own mapping of neutral events to its events (ConverseStream's, Claude's chunks). */
export interface NativeStreamCore {
  /** Whether the ending has been emitted. */
  readonly done: boolean;
  /** The events that open the stream, once. */
  start(): NativeOut[];
  push(events: readonly StreamEvent[]): NativeOut[];
  /** End of input: the ending, if not emitted yet. */
  end(): NativeOut[];
}

/**
 * A native stream's renderer: its core's events as event frames, its one error as the exception frame the
 * operation declares (errors.ts), each batch one write. Bedrock's event streams have no keep-alive frame (TCP
 * keeps the connection).
 */
export class EventStreamRenderer implements Renderer {
  readonly #core: NativeStreamCore;
  readonly #declared: ReadonlySet<string>;
  #frames = 0;

  constructor(core: NativeStreamCore, declaredExceptions: ReadonlySet<string>) {
    this.#core = core;
    this.#declared = declaredExceptions;
  }

  get finished(): boolean {
    return this.#core.done;
  }

  get frames(): number {
    return this.#frames;
  }

  heartbeat(): Frames {
    return '';
  }

  start(): Frames {
    return this.#write(this.#core.start());
  }

  push(events: readonly StreamEvent[]): Frames {
    return this.#core.done ? '' : this.#write(this.#core.push(events));
  }

  end(): Frames {
    return this.#core.done ? '' : this.#write(this.#core.end());
  }

  #write(outs: readonly NativeOut[]): Frames {
    if (outs.length === 0) return '';
    this.#frames += outs.length;
    return concatFrames(
      outs.map((out) =>
        'error' in out
          ? exceptionFrame(streamExceptionType(out.error, this.#declared), nativeErrorBody(out.error))
          : eventFrame(out.eventType, out.payload),
      ),
    );
  }
}
