/**
 * Bedrock's event-stream framing (docs/bedrock-wire.md#event-stream-framing), through the codec of @smithy/core
 * (prelude, headers and both CRCs): one event per frame, headers in the order Bedrock sends them. The native
 * surface frames its streams with it, and a stream Bedrock could only answer whole is framed with it too
 * (model-call.ts), so it reaches the same five stages as any stream.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export const eventStreamCodec = new EventStreamCodec(toUtf8, fromUtf8);

export function stringHeader(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

/** An `event` frame: `:event-type` and a JSON payload. */
export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return eventStreamCodec.encode({
    headers: {
      ':event-type': stringHeader(eventType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('event'),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** Frames joined into one write. */
export function concatFrames(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0]!;
  return Buffer.concat(frames);
}
