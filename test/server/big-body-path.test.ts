/**
 * The big-body path keeps its heavy steps off the event loop (the timings are bench/big-body.ts's and
 * `npm run soak`'s, never asserted here): a body of declared length is gathered into one buffer as it
 * arrives (no join at the end) and parsed on the JSON thread; its big strings cross back as bytes, not
 * inside the structured clone, and the native body's big strings go to the thread in the same buffer; the
 * native body is serialised and hashed there, and the signer takes that hash instead of hashing 20 MB
 * again. What is checked here is the structure of each step (what crosses between the threads, as what)
 * and that each gives the same answer as the plain way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { PARSE_OFF_THREAD_BYTES, readJsonBody } from '../../src/server/body.ts';
import { BIG_STRING_CHARS, type BigStrings, jsonBytes, onJsonThread, restoreBigStrings } from '../../src/server/json-thread.ts';
import type { ParseOutcome } from '../../src/server/body.ts';
import { ByteBudget } from '../../src/server/budget.ts';
import { startHarness } from '../helpers/harness.ts';
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

/** A body with big strings of every kind the thread takes out, and small ones it leaves in. */
interface Awkward {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  extra: unknown;
  many: string[];
}
function awkwardBody(): { text: string; value: Awkward } {
  const image = 'iVBORw0KGgo'.repeat(BIG_STRING_CHARS / 8); // latin1, in an array, in a data URL
  // Two-byte: accents, an emoji, a lone surrogate (JSON.parse keeps it; it must survive the bytes).
  const wide = `ünï ${'😀'.repeat(BIG_STRING_CHARS / 2)} \ud800 end`;
  const value: Awkward = {
    model: 'm',
    messages: [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } }] },
      { role: 'user', content: 'small stays in the clone' },
    ],
    // An own "__proto__" key (JSON.parse makes one): its big string goes back into the key, not the prototype.
    extra: JSON.parse(`{"__proto__": ${JSON.stringify(wide)}, "ok": 1}`) as unknown,
    // More than one turn's worth of big strings (4 MiB a turn).
    many: Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(BIG_STRING_CHARS + i)),
  };
  return { text: JSON.stringify(value), value };
}

test('big body: its big strings come back from the JSON thread as bytes, not in the clone, and are put back exactly', async () => {
  const { text } = awkwardBody();
  const outcome = await onJsonThread<ParseOutcome>('parse', new Uint8Array(Buffer.from(text)), (message) => ({ error: 'worker', message }));
  assert.ok('value' in outcome && outcome.big, 'the parse answered a value with its big strings apart');
  const crossed = outcome.value as Awkward & { extra: Record<string, unknown> };
  const big: BigStrings = outcome.big;
  // The structured clone carried a null where each big string was: none of them was built as a string here.
  assert.equal((crossed.messages[0]!.content as Array<{ image_url: { url: unknown } }>)[0]!.image_url.url, null);
  assert.equal(Object.getOwnPropertyDescriptor(crossed.extra, '__proto__')?.value, null);
  assert.ok(crossed.many.every((s) => s === null));
  assert.equal(crossed.messages[1]!.content, 'small stays in the clone');
  assert.ok(big.bytes instanceof Uint8Array);
  assert.equal(big.strings.length, 42);
  assert.deepEqual(big.strings[0]!.slice(0, 2), [['messages', 0, 'content', 0, 'image_url', 'url'], 'latin1']);
  assert.deepEqual(big.strings[1]!.slice(0, 2), [['extra', '__proto__'], 'utf16le']);
  assert.equal(big.bytes.byteLength, big.strings.at(-1)![3]);

  const restored = (await restoreBigStrings(crossed, big)) as typeof crossed;
  assert.deepEqual(restored, JSON.parse(text));
  assert.equal(Object.getPrototypeOf(restored.extra), Object.prototype);
  assert.ok(Object.hasOwn(restored.extra, '__proto__'));

  // A body that is one big string is given back as that string.
  const lone = JSON.stringify('x'.repeat(BIG_STRING_CHARS * 2));
  const whole = await onJsonThread<ParseOutcome>('parse', new Uint8Array(Buffer.from(lone)), (message) => ({ error: 'worker', message }));
  assert.ok('value' in whole && whole.big);
  assert.equal(whole.value, null);
  assert.equal(await restoreBigStrings(whole.value, whole.big), JSON.parse(lone));
});

test("big body: the native body's big strings go to the JSON thread in the request's spare buffer, which is then let go, and the value is left as it was", async () => {
  const { value } = awkwardBody();
  const before = structuredClone(value);
  const expected = Buffer.from(JSON.stringify(value));
  const holder = new ByteBudget(() => 1 << 30).reserve();
  const spare = new Uint8Array(expected.length * 2);
  holder.spare = spare;
  const first = await jsonBytes(value, true, holder);
  assert.equal(Buffer.compare(Buffer.from(first.bytes), expected), 0);
  assert.equal(first.sha256, createHash('sha256').update(expected).digest('hex'));
  // The spare moved to the thread (it is detached here) and is not held any longer.
  assert.equal(spare.byteLength, 0);
  assert.equal(holder.spare, undefined);
  assert.deepEqual(value, before);
  // No spare (a fallback's send), or one too small: a buffer of its own.
  assert.equal(Buffer.compare(Buffer.from((await jsonBytes(value, true, holder)).bytes), expected), 0);
  holder.spare = new Uint8Array(16);
  assert.equal(Buffer.compare(Buffer.from((await jsonBytes(value, true, holder)).bytes), expected), 0);
  assert.equal(Buffer.compare(Buffer.from((await jsonBytes(value, true)).bytes), expected), 0);
  assert.deepEqual(value, before);
  holder.spare = new Uint8Array(16);
  holder.release();
  assert.equal(holder.spare, undefined);
  // A value that cannot be sent fails, and its big strings are back in place all the same.
  const bad = { image: 'Q'.repeat(BIG_STRING_CHARS), f: () => 1 };
  await assert.rejects(jsonBytes(bad, true));
  assert.equal(bad.image, 'Q'.repeat(BIG_STRING_CHARS));
});

test('big body: an image request of several MiB reaches Bedrock byte for byte on the Converse and the invoke route', async () => {
  const h = await startHarness({
    logging: { level: 'silent' },
    models: [
      { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
      { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
    ],
  });
  try {
    const image = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7919) % 256)).toString('base64');
    for (const model of ['claude-converse', 'claude-invoke']) {
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'what is this' },
                { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } },
              ],
            },
          ],
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.arrayBuffer();
    }
    const [converse, invoke] = h.emu.requests.map((r) => JSON.stringify(r.json));
    assert.ok(converse?.includes(`"bytes":"${image}"`), 'Converse got the image as its bytes');
    assert.ok(invoke?.includes(`"data":"${image}"`), 'invoke got the image as its data');
  } finally {
    await h.close();
  }
});
