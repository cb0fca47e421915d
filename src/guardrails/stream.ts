/**
 * The output guard of one stream (the `OutputGuard` the pipeline's guardrail stage drives): internal
 * events in, the events the client may see out, possibly ending in a `guardrail_violation` error.
 *
 * Text is judged per channel — `content`, `reasoning`, each tool call's arguments (`tool:<index>`), and a Claude
 * compaction's summary (`compaction`, one block: an async guardrail judges it whole before it goes out) —
 * so a call's JSON is never mixed with prose in one check, and every channel is judged with a little
 * context from its own past (see `Segment`). Two layers, in this order:
 *
 * - sync guardrails hold events back. Once the held text reaches the smallest `interval_chars` among them
 *   (counted in code points), and at the `finish`, all of them judge it together (in parallel, see
 *   judge.ts); passed (or masked) events are released in order, a block discards them. So at most about
 *   `interval_chars` plus one delta is held, and the stage awaits the judgement, which is the backpressure.
 *   Non-text events keep their place in the order; with nothing held they pass at once.
 * - async guardrails see released text, which goes on at once. Each starts a check of its own every
 *   `interval_chars` characters and never lets more than `interval_chars` characters out past its last
 *   passed check: text beyond that (the rest of a long delta included) waits for the check in flight.
 *   The `finish` waits for every check. A block found while the stage is idle is delivered at once through `onInterrupt`; a mask is a
 *   block there (the text is already out).
 *
 * A `bedrock_native` guardrail turns a finish that reports an intervention into its block. An upstream
 * `error` passes through, and text still held (not judged) is dropped before it. After any error nothing
 * more is emitted, and `abort()` (or the error) cancels the checks in flight.
 */
import type { GuardrailConfig } from '../config/schema.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { OutputGuard } from '../pipeline/guardrail.ts';
import { judge, type Judgement } from './judge.ts';
import { isNativeIntervention } from './native.ts';
import { violation, type GuardrailRecorder } from './recorder.ts';
import { countChars, headChars, tailOf } from './text.ts';
import { isPromise, type Segment, type TextGuardrail } from './types.ts';

type Steps = Generator<Promise<unknown>, void, unknown>;

interface Channel {
  pending: string[];
  tail: string;
}

/** Text seen by one group of guardrails, per channel: what is not judged yet, and the tail of what was. */
export class TextWindow {
  private readonly channels = new Map<string, Channel>();
  /** Code points added and not yet taken. */
  unchecked = 0;

  constructor(private readonly contextChars: number) {}

  add(key: string, text: string, chars: number): void {
    if (text === '') return;
    let channel = this.channels.get(key);
    if (!channel) {
      channel = { pending: [], tail: '' };
      this.channels.set(key, channel);
    }
    channel.pending.push(text);
    this.unchecked += chars;
  }

  /** Everything pending, one segment per channel (in first-seen order), context from each tail. */
  take(): { keys: string[]; segments: Segment[]; chars: number } {
    const keys: string[] = [];
    const segments: Segment[] = [];
    for (const [key, channel] of this.channels) {
      if (channel.pending.length === 0) continue;
      keys.push(key);
      segments.push({ context: channel.tail, text: channel.pending.join('') });
      channel.pending = [];
    }
    const chars = this.unchecked;
    this.unchecked = 0;
    return { keys, segments, chars };
  }

  /** The text that went out for a channel, kept as context for its next check. */
  passed(key: string, text: string): void {
    const channel = this.channels.get(key);
    if (channel) channel.tail = tailOf(channel.tail + text, this.contextChars);
  }
}

interface AsyncGuard {
  guard: TextGuardrail;
  window: TextWindow;
  inflight: Set<Promise<void>>;
  inflightChars: number;
}

export interface StreamGuardOptions {
  /** Output guardrails in stream_mode sync, in attachment order. */
  sync: readonly TextGuardrail[];
  /** Output guardrails in stream_mode async, in attachment order. */
  async: readonly TextGuardrail[];
  /** The bedrock_native guardrail, if one applies. */
  native: GuardrailConfig | undefined;
  recorder: GuardrailRecorder;
}

export class StreamGuard implements OutputGuard {
  private readonly sync: readonly TextGuardrail[];
  private readonly syncInterval: number;
  private readonly syncWindow: TextWindow;
  private held: StreamEvent[] = [];
  private readonly async: AsyncGuard[];
  private readonly native: GuardrailConfig | undefined;
  private readonly recorder: GuardrailRecorder;
  private readonly controller = new AbortController();
  /** The guardrail that blocked, once one did. */
  private block: string | undefined;
  private errorSent = false;
  private stopped = false;
  private busy = false;
  private interrupt: ((events: StreamEvent[]) => void) | undefined;

  constructor(options: StreamGuardOptions) {
    this.sync = options.sync;
    this.syncInterval = Math.min(...options.sync.map((g) => g.config.intervalChars));
    this.syncWindow = new TextWindow(Math.max(0, ...options.sync.map((g) => g.contextChars)));
    this.async = options.async.map((guard) => ({
      guard,
      window: new TextWindow(guard.contextChars),
      inflight: new Set(),
      inflightChars: 0,
    }));
    this.native = options.native;
    this.recorder = options.recorder;
  }

  push(events: readonly StreamEvent[]): StreamEvent[] | Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    return this.run(this.process(events, out), out);
  }

  end(): StreamEvent[] | Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    return this.run(this.finishAll(out), out);
  }

  abort(): void {
    this.stopped = true;
    this.held = [];
    this.controller.abort();
  }

  onInterrupt(listener: (events: StreamEvent[]) => void): void {
    this.interrupt = listener;
  }

  private get done(): boolean {
    return this.errorSent || this.stopped;
  }

  /** Drives a step generator: synchronously as far as it goes, then on each promise it yields. */
  private run(steps: Steps, out: StreamEvent[]): StreamEvent[] | Promise<StreamEvent[]> {
    this.busy = true;
    const settle = (): StreamEvent[] => {
      if (this.block !== undefined) this.emitBlock(out);
      this.busy = false;
      return out;
    };
    const resume = (input?: unknown): StreamEvent[] | Promise<StreamEvent[]> => {
      let next: IteratorResult<Promise<unknown>, void>;
      try {
        next = steps.next(input);
      } catch (error) {
        this.busy = false;
        throw error;
      }
      return next.done
        ? settle()
        : next.value.then(resume, (error: unknown) => {
            this.busy = false;
            throw error;
          });
    };
    return resume();
  }

  private *process(events: readonly StreamEvent[], out: StreamEvent[]): Steps {
    for (const event of events) {
      if (this.done || this.block !== undefined) return;
      if (event.kind === 'error') {
        // Held text was never judged: it does not go out, even in front of an upstream error.
        this.held = [];
        this.controller.abort();
        this.stopped = true;
        out.push(event);
        return;
      }
      if (this.native && isNativeIntervention(event)) {
        this.recorder.intervened('output', this.native.name, 'block', 'Bedrock reported a guardrail intervention in the model call');
        this.block = this.native.name;
        return;
      }
      if (this.sync.length === 0) {
        yield* this.release(event, out);
        continue;
      }
      this.held.push(event);
      const channel = channelOf(event);
      if (channel) this.syncWindow.add(channel.key, channel.text, countChars(channel.text));
      if (event.kind === 'finish' || this.syncWindow.unchecked >= this.syncInterval || (!channel && this.syncWindow.unchecked === 0)) {
        yield* this.flushSync(out);
      }
    }
  }

  private *finishAll(out: StreamEvent[]): Steps {
    if (this.done || this.block !== undefined) return;
    if (this.held.length > 0 || this.syncWindow.unchecked > 0) yield* this.flushSync(out);
    if (this.done || this.block !== undefined) return;
    yield* this.settleAsync();
  }

  /** Sync layer: judge everything held, then release it (masked where a guardrail masked). */
  private *flushSync(out: StreamEvent[]): Steps {
    const { keys, segments } = this.syncWindow.take();
    let texts: ReadonlyArray<string | undefined> | undefined;
    if (segments.length > 0) {
      const verdict = yield* wait(
        judge(this.sync, 'OUTPUT', segments, this.controller.signal, { stage: 'output', recorder: this.recorder, maskAllowed: true }),
      );
      if (this.done || this.block !== undefined) return;
      if (verdict.kind === 'cancelled') {
        this.stopped = true;
        return;
      }
      if (verdict.kind === 'block') {
        this.block = verdict.guardrail;
        return;
      }
      if (verdict.kind === 'mask') texts = verdict.texts;
    }
    keys.forEach((key, i) => this.syncWindow.passed(key, texts?.[i] ?? segments[i]!.text));
    const released = texts ? rewrite(this.held, keys, texts) : this.held;
    this.held = [];
    for (const event of released) {
      yield* this.release(event, out);
      if (this.done || this.block !== undefined) return;
    }
  }

  /**
   * Async layer: text goes out now, but never more than an async guardrail's `interval_chars` past its last
   * passed check (docs/contract.md#guardrails). A delta that does not fit in the room left waits until the text before
   * it is judged; a delta longer than `interval_chars` itself goes out in pieces of that size (never cut inside a code
   * point), each once the check of the piece before it passed.
   */
  private *release(event: StreamEvent, out: StreamEvent[]): Steps {
    if (this.async.length === 0) {
      out.push(event);
      return;
    }
    const channel = channelOf(event);
    if (channel && event.kind === 'compaction') {
      // One block, never cut into pieces (a client reads it whole, and a second block would be a second
      // compaction): judged whole by every async guardrail before it goes out, as the finish is.
      for (const a of this.async) a.window.add(channel.key, channel.text, countChars(channel.text));
      yield* this.settleAsync();
      if (this.done || this.block !== undefined) return;
      out.push(event);
    } else if (channel) {
      let rest = channel.text;
      let restChars = countChars(rest);
      while (rest !== '') {
        let room = Number.POSITIVE_INFINITY;
        let outstanding = false;
        for (const a of this.async) {
          const unpassed = a.window.unchecked + a.inflightChars;
          room = Math.min(room, a.guard.config.intervalChars - unpassed);
          outstanding ||= unpassed > 0;
        }
        if (restChars > room && outstanding) {
          // It does not fit: judge what is unjudged, and wait for the checks in flight.
          const waits: Array<Promise<void>> = [];
          for (const a of this.async) {
            if (a.window.unchecked + a.inflightChars === 0) continue;
            this.launch(a);
            waits.push(...a.inflight);
          }
          if (waits.length > 0) yield Promise.all(waits);
          if (this.done || this.block !== undefined) return;
          continue;
        }
        const [piece, pieceChars] = restChars <= room ? [rest, restChars] : [headChars(rest, room), room];
        rest = rest.slice(piece.length);
        restChars -= pieceChars;
        out.push(piece === channel.text ? event : withText(event, piece));
        for (const a of this.async) {
          a.window.add(channel.key, piece, pieceChars);
          if (a.window.unchecked >= a.guard.config.intervalChars) this.launch(a);
        }
        if (this.done || this.block !== undefined) return; // a check that answered at once blocked
      }
    } else if (event.kind === 'finish') {
      yield* this.settleAsync();
      if (this.done || this.block !== undefined) return;
      out.push(event);
    } else {
      out.push(event);
    }
  }

  /** Final async checks: everything not yet judged, and every check in flight. */
  private *settleAsync(): Steps {
    for (const a of this.async) this.launch(a);
    const all = this.async.flatMap((a) => [...a.inflight]);
    if (all.length > 0) yield Promise.all(all);
  }

  /** Starts an async guardrail's check of its unjudged text; its verdict arrives whenever it does. */
  private launch(a: AsyncGuard): void {
    const { keys, segments, chars } = a.window.take();
    if (segments.length === 0) return;
    keys.forEach((key, i) => a.window.passed(key, segments[i]!.text));
    a.inflightChars += chars;
    const settle = (verdict: Judgement): void => {
      a.inflightChars -= chars;
      if (verdict.kind === 'block') this.blockedLater(verdict.guardrail);
    };
    const verdict = judge([a.guard], 'OUTPUT', segments, this.controller.signal, {
      stage: 'output',
      recorder: this.recorder,
      maskAllowed: false,
    });
    if (!isPromise(verdict)) return settle(verdict);
    const pending: Promise<void> = verdict.then(settle, (error: unknown) => {
      // A bug, not an answer: judged as the guardrail failing.
      const g = a.guard.config;
      this.recorder.failed('output', g.name, g.onError, error instanceof Error ? error.message : String(error));
      settle(g.onError === 'block' ? { kind: 'block', guardrail: g.name } : { kind: 'pass' });
    });
    a.inflight.add(pending);
    const forget = (): void => void a.inflight.delete(pending);
    pending.then(forget, forget);
  }

  /** An async block: cut the stream now if the stage is idle, else when the current step ends. */
  private blockedLater(guardrail: string): void {
    if (this.block !== undefined || this.done) return;
    this.block = guardrail;
    this.controller.abort();
    if (!this.busy && this.interrupt) {
      const out: StreamEvent[] = [];
      this.emitBlock(out);
      this.interrupt(out);
    }
  }

  private emitBlock(out: StreamEvent[]): void {
    if (this.errorSent || this.stopped || this.block === undefined) return;
    this.errorSent = true;
    this.held = [];
    this.controller.abort();
    out.push({ kind: 'error', error: violation(this.block) });
  }
}

function* wait<T>(value: T | Promise<T>): Generator<Promise<unknown>, T, unknown> {
  if (!isPromise(value)) return value;
  return (yield value) as T;
}

/** The text channel an event belongs to, if it carries text. */
export function channelOf(event: StreamEvent): { key: string; text: string } | undefined {
  switch (event.kind) {
    case 'text':
      return { key: 'content', text: event.text };
    case 'reasoning':
      return { key: 'reasoning', text: event.text };
    case 'tool_delta':
      return { key: `tool:${event.index}`, text: event.arguments };
    case 'compaction':
      // Claude's summary of the conversation, which the client reads (and may show): model output like any other.
      return event.content ? { key: 'compaction', text: event.content } : undefined;
    default:
      return undefined;
  }
}

function withText(event: StreamEvent, text: string): StreamEvent {
  switch (event.kind) {
    case 'text':
      return { kind: 'text', text };
    case 'reasoning':
      return { kind: 'reasoning', text };
    case 'tool_delta':
      return { kind: 'tool_delta', index: event.index, arguments: text };
    case 'compaction':
      return { ...event, content: text };
    default:
      return event;
  }
}

/**
 * Puts each masked channel's text where its first event was and drops its other events (a mask has no
 * positions inside the original deltas; the re-chunker splits the text again downstream).
 */
export function rewrite(events: readonly StreamEvent[], keys: readonly string[], texts: ReadonlyArray<string | undefined>): StreamEvent[] {
  const masked = new Map<string, string>();
  keys.forEach((key, i) => {
    if (texts[i] !== undefined) masked.set(key, texts[i]);
  });
  if (masked.size === 0) return [...events];
  const placed = new Set<string>();
  const out: StreamEvent[] = [];
  for (const event of events) {
    const channel = channelOf(event);
    const text = channel ? masked.get(channel.key) : undefined;
    if (!channel || text === undefined) {
      out.push(event);
    } else if (!placed.has(channel.key)) {
      placed.add(channel.key);
      if (text !== '') out.push(withText(event, text));
    }
  }
  return out;
}
