// Decodes Bedrock event-stream bytes (as the sidecar's native surface sends them) into frames, checking both
// CRCs through the smithy codec, for tests that read the raw wire; and the AWS SDK client an app points at
// the sidecar.
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { otherCredentials } from '../helpers/credentials.ts';
import type { Harness } from '../helpers/harness.ts';

/** The AWS SDK's BedrockRuntimeClient with the sidecar as its endpoint and an app's own (never forwarded) credentials, no retries. */
export function nativeClient(h: Harness): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: h.url,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
    credentials: otherCredentials('app-client'),
  });
}

export interface DecodedFrame {
  headers: Record<string, string>;
  payload: unknown;
}

export function decodeFrames(bytes: Buffer): DecodedFrame[] {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const frames: DecodedFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const message = codec.decode(bytes.subarray(offset, offset + length));
    const headers: Record<string, string> = {};
    for (const [name, header] of Object.entries(message.headers)) headers[name] = String(header.value);
    frames.push({ headers, payload: JSON.parse(toUtf8(message.body)) as unknown });
    offset += length;
  }
  return frames;
}

/** A stream a guardrail blocked after the commit: its one exception frame is the last, naming the guardrail. */
export function assertBlockedLast(frames: readonly DecodedFrame[], guardrail: string): void {
  assert.deepEqual(frames.at(-1), {
    headers: { ':exception-type': 'validationException', ':content-type': 'application/json', ':message-type': 'exception' },
    payload: { message: 'Violated guardrail policy', guardrail },
  });
  assert.equal(frames.filter((f) => f.headers[':message-type'] === 'exception').length, 1);
}

type Json = Record<string, unknown>;

/** What an app does with InvokeModel: its own JSON body sent, the answer's bytes parsed as JSON. */
export async function invokeJson(h: Harness, modelId: string, body: unknown): Promise<Json> {
  const out = await nativeClient(h).send(
    new InvokeModelCommand({
      modelId,
      body: Buffer.from(JSON.stringify(body)),
      contentType: 'application/json',
      accept: 'application/json',
    }),
  );
  assert.match(String(out.contentType), /^application\/json/);
  return JSON.parse(Buffer.from(out.body).toString('utf8')) as Json;
}

/** InvokeModelWithResponseStream as an app reads it: each chunk's bytes parsed as JSON, in order. */
export async function invokeStreamJson(h: Harness, modelId: string, body: unknown): Promise<Json[]> {
  const out = await nativeClient(h).send(new InvokeModelWithResponseStreamCommand({ modelId, body: Buffer.from(JSON.stringify(body)) }));
  const chunks: Json[] = [];
  for await (const part of out.body ?? []) {
    if (part.chunk?.bytes) chunks.push(JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')) as Json);
  }
  return chunks;
}
