/**
 * Stage 2: decoded event-stream messages → internal events (one batch in, at most one batch out).
 *
 * The core reads Bedrock's envelope — invoke `chunk` events carry base64 model-native JSON, converse
 * events carry their payload under `:event-type` — and hands each model event to the family's
 * `StreamMapper`. Bedrock exceptions (as `:message-type: exception`, or the `event` form the AWS SDK's
 * fixtures use) become one typed `error` event, after the finish of an answer that was already whole but
 * held for a trailing event (`StreamMapper.whole`: Nova's invoke `metadata`). After an error nothing more
 * is emitted. At the end of input, a stream that never reached its family's terminal event ends with
 * `upstream_protocol_error` (an error never masquerades as a finish), unless the mapper's `end()` names an
 * end the family allows there (a guardrail intervention that cut the model's final event). `complete` says when the model's
 * answer is whole — its terminal event (and, on converse, the `metadata` that follows `messageStop`) seen —
 * so the caller can end the client's stream there instead of waiting for the upstream to close.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { Message, MessageHeaders } from '@smithy/core/event-streams';
import { isSidecarError, SidecarError } from '../errors.ts';
import type { Route } from '../config/schema.ts';
import type { StreamMapper } from '../providers/types.ts';
import { errorMessageOf, errorTypeOfException } from '../upstream/bedrock-errors.ts';
import type { DecodedBatch } from './event-stream-decoder.ts';
import type { StreamEvent } from './events.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

function header(headers: MessageHeaders, name: string): string | undefined {
  const h = headers[name];
  return h && h.type === 'string' ? h.value : undefined;
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new SidecarError('upstream_protocol_error', `Bedrock sent ${what} that is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SidecarError('upstream_protocol_error', `Bedrock sent ${what} that is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * `{ [name]: value }`, built by assignment instead: V8 creates a literal with a computed key on a slow
 * generic path (~0.1 µs per event), while a keyed store into a fresh `{}` is cheap. The result is the same
 * own enumerable property, except for `__proto__`, the one inherited setter of a plain object, which
 * assignment would treat as the prototype: that name keeps the literal.
 */
function keyed(name: string, value: unknown): Record<string, unknown> {
  if (name === '__proto__') return { [name]: value };
  const out: Record<string, unknown> = {};
  out[name] = value;
  return out;
}

function exceptionError(name: string, payload: Uint8Array): SidecarError {
  let message = '';
  let own = '';
  try {
    const json = JSON.parse(decoder.decode(payload)) as Record<string, unknown>;
    own = errorMessageOf(json) ?? '';
    message = own;
    if (typeof json.originalMessage === 'string' && json.originalMessage) message = `${message} (${json.originalMessage})`;
  } catch {
    // the name alone still classifies it
  }
  const type = errorTypeOfException(name) ?? 'upstream_error';
  return new SidecarError(type, `Bedrock: ${name}${message ? `: ${message}` : ''}`, { upstreamCode: name, upstreamMessage: own });
}

export class BedrockEventNormalizer {
  private ended = false;
  private metadataAfterStop = false;

  constructor(
    private readonly route: Route,
    private readonly mapper: StreamMapper,
  ) {}

  get done(): boolean {
    return this.ended;
  }

  /** The answer is whole: nothing Bedrock may still send would change what the client gets. */
  get complete(): boolean {
    return !this.ended && this.mapper.terminated && (this.route === 'invoke' || this.metadataAfterStop);
  }

  push(items: DecodedBatch): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const item of items) {
      if (this.ended) break;
      if (isSidecarError(item)) {
        this.fail(out, item);
        break;
      }
      try {
        for (const event of this.message(item)) out.push(event);
      } catch (error) {
        this.fail(
          out,
          isSidecarError(error)
            ? error
            : new SidecarError('upstream_protocol_error', `could not read a Bedrock stream event: ${(error as Error).message}`),
        );
      }
    }
    return out;
  }

  /** End of upstream input. */
  end(): StreamEvent[] {
    if (this.ended) return [];
    this.ended = true;
    if (this.mapper.terminated) return [];
    const ended = this.mapper.end?.();
    if (ended) return ended;
    const what = this.route === 'converse' ? 'messageStop' : "the model's final event";
    return [{ kind: 'error', error: new SidecarError('upstream_protocol_error', `Bedrock's stream ended before ${what}`) }];
  }

  /** A failure ends the stream; an answer already whole keeps its finish first (`StreamMapper.whole`). */
  private fail(out: StreamEvent[], error: SidecarError): void {
    const whole = this.mapper.whole?.();
    if (whole) out.push(...whole);
    out.push({ kind: 'error', error });
    this.ended = true;
  }

  private message(message: Message): StreamEvent[] {
    const messageType = header(message.headers, ':message-type') ?? 'event';
    if (messageType === 'exception') {
      const name = header(message.headers, ':exception-type') ?? 'unknownException';
      throw exceptionError(name, message.body);
    }
    if (messageType === 'error') {
      const code = header(message.headers, ':error-code') ?? 'UnknownError';
      const text = header(message.headers, ':error-message') ?? '';
      throw new SidecarError('upstream_error', `Bedrock: ${code}${text ? `: ${text}` : ''}`, { upstreamCode: code, upstreamMessage: text });
    }
    const eventType = header(message.headers, ':event-type');
    if (eventType === undefined) throw new SidecarError('upstream_protocol_error', 'Bedrock sent an event without :event-type');
    // The `event` form of an exception (the AWS SDK's fixtures): every modelled exception's name ends so.
    if (eventType.endsWith('Exception')) throw exceptionError(eventType, message.body);

    if (this.route === 'invoke') {
      if (eventType !== 'chunk') return []; // unknown event types are skipped, as the AWS SDK does
      const envelope = parseJson(message.body, 'a chunk');
      if (typeof envelope.bytes !== 'string') throw new SidecarError('upstream_protocol_error', 'Bedrock sent a chunk without bytes');
      const inner = parseJson(Buffer.from(envelope.bytes, 'base64'), 'a model event');
      if (this.mapper.terminated) return [];
      return this.mapper.push(inner);
    }
    if (this.mapper.terminated && eventType !== 'metadata') return [];
    const events = this.mapper.push(keyed(eventType, parseJson(message.body, `a ${eventType} event`)));
    if (eventType === 'metadata' && this.mapper.terminated) this.metadataAfterStop = true;
    return events;
  }
}

/** The Transform around the core: DecodedBatch in, StreamEvent[] out (never an empty batch). */
export class NormalizerStage extends Transform {
  private completed = false;

  /** `onComplete` is called once, after the batch that made the answer whole was pushed on. */
  constructor(
    private readonly core: BedrockEventNormalizer,
    private readonly onComplete?: () => void,
  ) {
    super({ objectMode: true, highWaterMark: 4, emitClose: false });
  }

  override _transform(batch: DecodedBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.core.push(batch);
    if (out.length > 0) this.push(out);
    callback();
    if (!this.completed && this.onComplete && this.core.complete) {
      this.completed = true;
      this.onComplete();
    }
  }

  override _flush(callback: TransformCallback): void {
    const out = this.core.end();
    if (out.length > 0) this.push(out);
    callback();
  }
}
