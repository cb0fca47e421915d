/**
 * The recordings of real Bedrock Runtime in test/fixtures/real-traffic/ (see the README there): loading
 * them, and reading their event streams with this helper's own decoder (no src/ code), so tests can hold
 * the sidecar and the emulator against bytes neither of them produced.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REAL_TRAFFIC = new URL('../fixtures/real-traffic/', import.meta.url).pathname;

export type Json = Record<string, unknown>;

export interface Recording {
  id: string;
  /** `bedrock/{invoke|converse}/<model id>`, as a client names it to the sidecar. */
  route: string;
  modelId: string;
  operation: 'invoke' | 'invoke-with-response-stream' | 'converse' | 'converse-stream';
  status: number;
  /** The recorded response headers, lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  provenance: Json;
  /** The recording's model family, as its meta names it (`anthropic`, `amazon-nova`, …). */
  family: string;
  /** The body the recorded app sent, where the recording kept it. */
  request: Json | undefined;
}

export function loadRecordings(): Recording[] {
  return readdirSync(REAL_TRAFFIC)
    .filter((f) => f.endsWith('.meta.json'))
    .sort()
    .map((file) => {
      const meta = JSON.parse(readFileSync(join(REAL_TRAFFIC, file), 'utf8')) as Json;
      const response = meta.response as Json;
      return {
        id: meta.id as string,
        route: meta.route as string,
        modelId: meta.model_id as string,
        operation: meta.operation as Recording['operation'],
        status: response.status as number,
        headers: Object.fromEntries(Object.entries(response.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
        body: readFileSync(join(REAL_TRAFFIC, response.body_file as string)),
        provenance: meta.provenance as Json,
        family: meta.family as string,
        request: (meta.request as Json | undefined)?.body as Json | undefined,
      };
    });
}

/** One `application/vnd.amazon.eventstream` message: its string headers and payload. */
export interface Frame {
  headers: Record<string, string>;
  payload: Buffer;
}

/** Splits a recorded event stream into its messages (every recording's CRCs were verified when recorded). */
export function frames(bytes: Buffer): Frame[] {
  const out: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const total = bytes.readUInt32BE(at);
    const headerLength = bytes.readUInt32BE(at + 4);
    const headers: Record<string, string> = {};
    for (let h = at + 12; h < at + 12 + headerLength;) {
      const nameLength = bytes[h]!;
      const name = bytes.subarray(h + 1, h + 1 + nameLength).toString('utf8');
      h += 1 + nameLength;
      assert.equal(bytes[h], 7, 'recorded headers are strings');
      const valueLength = bytes.readUInt16BE(h + 1);
      headers[name] = bytes.subarray(h + 3, h + 3 + valueLength).toString('utf8');
      h += 3 + valueLength;
    }
    out.push({ headers, payload: bytes.subarray(at + 12 + headerLength, at + total - 4) });
    at += total;
  }
  return out;
}

/**
 * The model events of a stream body: converse frames as `{name: <:event-type>, event: payload}`; invoke
 * `chunk` frames as the base64-decoded native event, named by the family's own discriminator (Anthropic
 * `type`, Cohere `event_type`, Nova's single key) or `chunk`.
 */
export function streamEvents(body: Buffer, operation: Recording['operation']): Array<{ name: string; event: Json }> {
  return frames(body).map((f) => {
    const payload = JSON.parse(f.payload.toString('utf8')) as Json;
    if (operation === 'converse-stream') return { name: f.headers[':event-type']!, event: payload };
    const event = JSON.parse(Buffer.from(payload.bytes as string, 'base64').toString('utf8')) as Json;
    const nova = Object.keys(event).filter((k) => !k.startsWith('amazon-bedrock-'));
    const name =
      typeof event.type === 'string'
        ? event.type
        : typeof event.event_type === 'string'
          ? event.event_type
          : nova.length === 1 && typeof event[nova[0]!] === 'object'
            ? nova[0]!
            : 'chunk';
    return { name, event };
  });
}
