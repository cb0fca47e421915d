/**
 * Bedrock's event-stream framing for the native surface's streams (docs/bedrock-wire.md#event-stream-framing),
 * through the codec of @smithy/core (prelude, headers and both CRCs): one event or exception per frame, headers
 * in the order Bedrock sends them.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function header(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

/** An `event` frame: `:event-type` and a JSON payload. */
export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: { ':event-type': header(eventType), ':content-type': header('application/json'), ':message-type': header('event') },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** An `exception` frame the AWS SDK raises as the named exception, with `message`. */
export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: { ':exception-type': header(exceptionType), ':content-type': header('application/json'), ':message-type': header('exception') },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** Frames joined into one write. */
export function concatFrames(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0]!;
  return Buffer.concat(frames);
}
