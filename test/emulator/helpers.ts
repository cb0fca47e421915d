// Test helpers for the emulator: a real AWS SDK client pointed at it, a SigV4-signed raw HTTP request
// (signed by @smithy/signature-v4, i.e. independently of the emulator's verifier), and an event-stream
// decoder for raw response bodies.
import { request } from 'node:http';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { Sha256 } from '@aws-crypto/sha256-js';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, ConverseCommand, ValidationException, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { IncomingHttpHeaders } from 'node:http';

export const ACCESS_KEY = TEST_CREDENTIALS.accessKeyId;
export const SECRET = TEST_CREDENTIALS.secretAccessKey;
export const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';

export function sdkClient(url: string, secretAccessKey = SECRET): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
}

/** The message of the ValidationException `run` fails with, or undefined when it succeeds (any other error fails the test). */
export async function refusalOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ValidationException, String(error));
    return error.message;
  }
}

/** A Converse call's outcome through the SDK: `ok`, or Bedrock's ValidationException message. */
export async function converseOutcome(client: BedrockRuntimeClient, input: ConverseCommandInput): Promise<string> {
  return (await refusalOf(() => client.send(new ConverseCommand(input)))) ?? 'ok';
}

export function claudeBody(text = 'hi', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set when the connection failed before or during the body. */
  error?: string;
}

/** Sends a SigV4-signed POST (unless `sign` is false) and collects the whole response. */
export async function post(
  url: string,
  path: string,
  body: string | Buffer,
  opts: { sign?: boolean; headers?: Record<string, string>; secret?: string } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  let headers: Record<string, string> = { host: target.host, 'content-type': 'application/json', ...opts.headers };
  if (opts.sign !== false) {
    const signer = new SignatureV4({
      service: 'bedrock',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: opts.secret ?? SECRET },
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path,
      headers,
      body,
      query: {},
    });
    headers = signed.headers;
  }
  return new Promise((resolve) => {
    const req = request({ host: target.hostname, port: target.port, method: 'POST', path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), error: e.message }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), error: 'aborted' }));
    });
    req.on('error', (e) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.message }));
    req.end(body);
  });
}

export interface DecodedFrame {
  headers: Record<string, string>;
  json: unknown;
}

/** Decodes a complete event-stream body; throws on CRC or framing errors, like a strict client. */
export function decodeFrames(body: Buffer): DecodedFrame[] {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const out: DecodedFrame[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < 4) throw new Error('truncated frame');
    const total = body.readUInt32BE(offset);
    if (offset + total > body.length) throw new Error('truncated frame');
    const msg = codec.decode(body.subarray(offset, offset + total));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) headers[k] = String(v.value);
    const text = toUtf8(msg.body);
    out.push({ headers, json: text === '' ? undefined : JSON.parse(text) });
    offset += total;
  }
  return out;
}

/** The native events inside InvokeModelWithResponseStream `chunk` frames. */
export function chunkEvents(frames: DecodedFrame[]): Record<string, unknown>[] {
  return frames
    .filter((f) => f.headers[':event-type'] === 'chunk')
    .map((f) => JSON.parse(Buffer.from((f.json as { bytes: string }).bytes, 'base64').toString('utf8')) as Record<string, unknown>);
}
