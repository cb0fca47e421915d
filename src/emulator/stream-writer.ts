// Writes an event stream to an HTTP response: frames pulled lazily from an iterable, one at a time,
// honouring backpressure (a `false` from `res.write` waits for 'drain' and counts in `writesPaused`),
// pausing `frameDelayMs` between frames (and once where a scripted `pause` says), stopping as soon as the
// client goes away, and injecting the scripted fault after `afterFrames` complete frames. Never throws; the response always ends or is destroyed.
import type { ServerResponse } from 'node:http';
import { EXCEPTION_MESSAGES } from './aws-errors.ts';
import { corruptMessageCrc, corruptPreludeCrc, errorFrame, eventFrame, exceptionFrame } from './frames.ts';
import type { DoneInfo, Fault, StreamPause } from './types.ts';

/** Per-response bookkeeping shared by the server (RecordedRequest.done) and the writer. */
export class ResponseTracker {
  framesWritten = 0;
  writesPaused = 0;
  gone = false;
  /** Set when the emulator itself destroys the socket (reset fault, close()). */
  selfDestroyed = false;
  readonly closed: Promise<void>;
  readonly done: Promise<DoneInfo>;
  /** Callbacks to run once when the response closes (removed when they settle first: no build-up). */
  readonly #onClose = new Set<() => void>();

  constructor(res: ServerResponse) {
    this.closed = new Promise((resolve) => {
      res.once('close', () => {
        this.gone = true;
        for (const f of this.#onClose) f();
        this.#onClose.clear();
        resolve();
      });
    });
    this.done = this.closed.then(() => ({
      clientAborted: !res.writableFinished && !this.selfDestroyed,
      framesWritten: this.framesWritten,
      writesPaused: this.writesPaused,
    }));
  }

  /** Runs `f` when the response closes; returns a function that cancels that. */
  onClose(f: () => void): () => void {
    if (this.gone) {
      f();
      return () => {};
    }
    this.#onClose.add(f);
    return () => this.#onClose.delete(f);
  }

  /** Resolves after `ms`, or early when the response closes or `until` (if given) settles. */
  wait(ms: number, until?: PromiseLike<unknown>): Promise<void> {
    if (ms <= 0 || this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        cancel();
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const cancel = this.onClose(finish);
      until?.then(finish, finish);
    });
  }
}

/** Frames written back to back before an unpaced answer lets the event loop serve others. */
const YIELD_EVERY_FRAMES = 64;

async function writeFrame(res: ServerResponse, tracker: ResponseTracker, frame: Buffer, count = true): Promise<void> {
  if (tracker.gone) return;
  const ok = res.write(frame);
  if (count) tracker.framesWritten++;
  if (!ok && !tracker.gone) {
    tracker.writesPaused++;
    await new Promise<void>((resolve) => {
      let cancel = (): void => {};
      const onDrain = (): void => {
        res.off('drain', onDrain);
        cancel();
        resolve();
      };
      res.on('drain', onDrain);
      cancel = tracker.onClose(onDrain);
    });
  }
}

function exceptionPayload(fault: Extract<Fault, { kind: 'exception' }>): string {
  const body: Record<string, unknown> = { message: fault.message ?? EXCEPTION_MESSAGES[fault.exceptionType] ?? 'Error' };
  if (fault.originalStatusCode !== undefined) body.originalStatusCode = fault.originalStatusCode;
  if (fault.originalMessage !== undefined) body.originalMessage = fault.originalMessage;
  return JSON.stringify(body);
}

// When a fault needs "the next frame" but the stream has none left, this stand-in is used.
const SPARE_FRAME = eventFrame('chunk', '{"bytes":""}');

async function applyFault(res: ServerResponse, tracker: ResponseTracker, fault: Fault, next: () => Buffer): Promise<void> {
  switch (fault.kind) {
    case 'exception':
      await writeFrame(res, tracker, exceptionFrame(fault.exceptionType, exceptionPayload(fault)));
      res.end();
      return;
    case 'error-frame':
      await writeFrame(res, tracker, errorFrame(fault.errorCode, fault.errorMessage));
      res.end();
      return;
    case 'reset':
      tracker.selfDestroyed = true;
      res.socket?.destroy();
      res.destroy();
      return;
    case 'truncate': {
      const frame = next();
      await writeFrame(res, tracker, frame.subarray(0, Math.max(1, Math.floor(frame.length / 2))), false);
      res.end();
      return;
    }
    case 'corrupt-crc':
      await writeFrame(res, tracker, corruptMessageCrc(next()));
      res.end();
      return;
    case 'corrupt-prelude':
      await writeFrame(res, tracker, corruptPreludeCrc(next()));
      res.end();
      return;
    case 'hang':
      await tracker.closed;
      return;
    case 'end':
      res.end();
      return;
  }
}

export interface StreamOptions {
  frameDelayMs: number;
  fault?: Fault;
  pause?: StreamPause;
}

/** Streams `frames` (headers must already be written). Resolves when done writing or the client left. */
export async function writeStream(
  res: ServerResponse,
  tracker: ResponseTracker,
  frames: Iterable<Buffer>,
  options: StreamOptions,
): Promise<void> {
  const it = frames[Symbol.iterator]();
  const { fault, frameDelayMs } = options;
  let pause = options.pause;
  const next = (): Buffer => {
    const n = it.next();
    return n.done ? SPARE_FRAME : n.value;
  };
  try {
    for (;;) {
      if (tracker.gone) return;
      if (pause && tracker.framesWritten >= pause.afterFrames) {
        await tracker.wait(pause.ms, pause.until);
        pause = undefined;
        if (tracker.gone) return;
      }
      if (fault && tracker.framesWritten >= fault.afterFrames) {
        await applyFault(res, tracker, fault, next);
        return;
      }
      const n = it.next();
      if (n.done) break;
      if (frameDelayMs > 0 && tracker.framesWritten > 0) await tracker.wait(frameDelayMs);
      if (tracker.gone) return;
      await writeFrame(res, tracker, n.value);
      // While the socket takes every write at once, `await` only yields to microtasks: without a turn of
      // the event loop now and then, one long answer would keep every other connection waiting.
      if (frameDelayMs === 0 && tracker.framesWritten % YIELD_EVERY_FRAMES === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // A fault placed at or past the end still happens, after the last frame.
    if (fault && !tracker.gone) {
      await applyFault(res, tracker, fault, next);
      return;
    }
    if (!tracker.gone) res.end();
  } catch (err) {
    // A bug in a generator must not leave the socket hanging: end with an internal error frame.
    if (!tracker.gone) {
      const message = err instanceof Error ? err.message : String(err);
      res.write(exceptionFrame('internalServerException', JSON.stringify({ message: `emulator: ${message}` })));
      res.end();
    }
  }
}
