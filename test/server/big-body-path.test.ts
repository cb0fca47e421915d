/**
 * The big-body path keeps its heavy steps off the event loop (the timings are `npm run soak`'s): a body of
 * declared length is gathered into one buffer as it arrives (no join at the end) and parsed on the JSON
 * thread; the native body is serialised and hashed there, and the signer takes that hash instead of hashing
 * 20 MB again. What is checked here is that each of those gives the same answer as the plain way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { PARSE_OFF_THREAD_BYTES, readJsonBody } from '../../src/server/body.ts';
import { jsonBytes } from '../../src/server/json-thread.ts';
import { createSigner, type UpstreamRequest } from '../../src/upstream/signer.ts';
import { isSidecarError } from '../../src/errors.ts';

const big = {
  model: 'm',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: `data:image/png;base64,${'QUJD'.repeat(PARSE_OFF_THREAD_BYTES / 2)}` } },
        { type: 'text', text: 'ünï "q" \\' },
      ],
    },
  ],
};

/** Sends `body` in `pieces` writes, with a Content-Length or chunked, to a server that reads it with readJsonBody. */
async function readThrough(body: Buffer, pieces: number, withLength: boolean): Promise<unknown> {
  let result: Promise<unknown> | undefined;
  const server = createServer((req, res) => {
    result = readJsonBody(req, 64 * 1024 * 1024).then(
      (v) => v,
      (e: unknown) => e,
    );
    void result.then(() => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers: withLength ? { 'content-length': body.length } : {} },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      const step = Math.ceil(body.length / pieces);
      for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
      req.end();
    });
    return await result;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('big body: gathered as it arrives (with a Content-Length) or joined (chunked), it parses the same', async () => {
  const text = Buffer.from(JSON.stringify(big));
  assert.ok(text.length >= PARSE_OFF_THREAD_BYTES);
  assert.deepEqual(await readThrough(text, 97, true), big);
  assert.deepEqual(await readThrough(text, 97, false), big);
  // Errors found on the thread are the same answers: bad JSON at the very end, and invalid UTF-8.
  const broken = Buffer.concat([text, Buffer.from('}')]);
  const error = await readThrough(broken, 13, true);
  assert.ok(isSidecarError(error));
  assert.match(error.message, /not valid JSON/);
  const latin = Buffer.from(text);
  latin[latin.length - 20] = 0xff;
  const utf8 = await readThrough(latin, 5, true);
  assert.ok(isSidecarError(utf8));
  assert.match(utf8.message, /not valid UTF-8/);
});

test('big body: the native body is serialised and hashed on the JSON thread; small ones are left to the signer', async () => {
  const large = await jsonBytes(big, true);
  assert.equal(Buffer.from(large.bytes).toString(), JSON.stringify(big));
  assert.equal(large.sha256, createHash('sha256').update(large.bytes).digest('hex'));
  const small = await jsonBytes({ a: 1 }, false);
  assert.equal(Buffer.from(small.bytes).toString(), '{"a":1}');
  assert.equal(small.sha256, undefined);
});

test('signer: a payload hash given with the body is signed as it is, without hashing the body again', async () => {
  const signer = createSigner({
    credentials: {
      get: async () => ({ ...TEST_CREDENTIALS }),
      invalidate: () => undefined,
      usable: () => true,
      lastError: () => undefined,
    },
    now: () => new Date('2026-01-02T03:04:05Z'),
  });
  const body = Buffer.from('{"x":1}');
  const request: UpstreamRequest = {
    method: 'POST',
    url: new URL('https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke'),
    headers: {},
    body,
  };
  const hashed = await signer.sign(request, 'us-east-1');
  const given = await signer.sign({ ...request, bodySha256: createHash('sha256').update(body).digest('hex') }, 'us-east-1');
  assert.deepEqual(given, hashed);
  // Taken as given: a hash that is not this body's is what gets signed (so the body was not hashed).
  const other = await signer.sign({ ...request, bodySha256: 'ab'.repeat(32) }, 'us-east-1');
  assert.equal(other['x-amz-content-sha256'], 'ab'.repeat(32));
  assert.notEqual(other.authorization, hashed.authorization);
});
