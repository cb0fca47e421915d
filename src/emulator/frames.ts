// Event-stream frame encoding for the emulator (docs/bedrock-wire.md#event-stream-framing), via
// @smithy/core/event-streams. Input: an event type / exception type and a JSON payload. Output: one complete binary
// message. Header order follows what Bedrock is observed to send (`:event-type`, `:content-type`, `:message-type`).
// Also the deliberate corruptions used by faults (bad message CRC, bad prelude CRC).
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function str(value: string): { type: 'string'; value: string } {
  return { type: 'string', value };
}

export function eventFrame(eventType: string, payloadJson: string): Buffer {
  const bytes = codec.encode({
    headers: { ':event-type': str(eventType), ':content-type': str('application/json'), ':message-type': str('event') },
    body: fromUtf8(payloadJson),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function exceptionFrame(exceptionType: string, payloadJson: string): Buffer {
  const bytes = codec.encode({
    headers: { ':exception-type': str(exceptionType), ':content-type': str('application/json'), ':message-type': str('exception') },
    body: fromUtf8(payloadJson),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function errorFrame(errorCode: string, errorMessage: string): Buffer {
  const bytes = codec.encode({
    headers: { ':error-code': str(errorCode), ':error-message': str(errorMessage), ':message-type': str('error') },
    body: new Uint8Array(0),
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Payload of an InvokeModelWithResponseStream `chunk` event: base64 of the native event, plus padding `p`. */
export function chunkPayload(nativeEventJson: string, padding: string): string {
  const bytes = Buffer.from(nativeEventJson, 'utf8').toString('base64');
  return padding === '' ? JSON.stringify({ bytes }) : JSON.stringify({ bytes, p: padding });
}

/** A copy of `frame` whose trailing message CRC is wrong (payload and prelude intact). */
export function corruptMessageCrc(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  const last = copy.length - 1;
  copy[last] = (copy[last]! ^ 0xff) & 0xff;
  return copy;
}

/** A copy of `frame` whose prelude CRC (bytes 8..11) is wrong. */
export function corruptPreludeCrc(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[8] = (copy[8]! ^ 0xff) & 0xff;
  return copy;
}

const PADDING_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Padding like Bedrock's observed `p` member: a prefix of the alphabet of varying length. `next` is a
 * seeded generator so streams stay reproducible.
 */
export function padding(next: () => number): string {
  return PADDING_ALPHABET.slice(0, 1 + Math.floor(next() * (PADDING_ALPHABET.length - 1)));
}

/** Small deterministic PRNG (mulberry32) used for padding and ids. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
