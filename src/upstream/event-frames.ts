/**
 * Bedrock's event-stream framing (docs/bedrock-wire.md#event-stream-framing), through the codec of @smithy/core
 * (prelude, headers and both CRCs): one event per frame, headers in the order Bedrock sends them. The native
 * surface frames its streams with it, and a stream Bedrock could only answer whole is framed with it too
 * (model-call.ts), so it reaches the same five stages as any stream.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function stringHeader(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

/** One frame: its kind (`:event-type` or `:exception-type`) and a JSON payload. */
function frame(kind: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      [`:${kind}-type`]: stringHeader(type),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader(kind),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** An `event` frame: `:event-type` and a JSON payload. */
export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return frame('event', eventType, payload);
}

/** An `exception` frame the AWS SDK raises as the named exception, with the error's body. */
export function exceptionFrame(exceptionType: string, body: { message: string }): Uint8Array {
  return frame('exception', exceptionType, body);
}

/** Frames joined into one write. */
export function concatFrames(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0]!;
  return Buffer.concat(frames);
}
