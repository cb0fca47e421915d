// Stream faults on real sockets: each kind is observed from the client side, and RecordedRequest.done
// reports what the emulator did (frames written, client aborts, backpressure pauses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ACCESS_KEY, CLAUDE, chunkEvents, claudeBody, decodeFrames, post, SECRET } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const STREAM_PATH = `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`;
const LONG = 'The quick brown fox — jumps over the lazy dog. '.repeat(10);

test('faults: exception after N frames is a :message-type exception frame, then the response ends', async () => {
  await withEmulator(async (emu) => {
    emu.script({
      type: 'text',
      text: LONG,
      fault: { afterFrames: 2, kind: 'exception', exceptionType: 'internalServerException', message: 'oops' },
    });
    const res = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.amazon.eventstream');
    const frames = decodeFrames(res.body);
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[2]!.headers, {
      ':exception-type': 'internalServerException',
      ':content-type': 'application/json',
      ':message-type': 'exception',
    });
    assert.deepEqual(frames[2]!.json, { message: 'oops' });
    assert.deepEqual((await emu.requests[0]!.done).framesWritten, 3);
  });
});

test('faults: corrupt-crc, corrupt-prelude and truncate produce bytes a strict decoder rejects', async () => {
  await withEmulator(async (emu) => {
    for (const kind of ['corrupt-crc', 'corrupt-prelude', 'truncate'] as const) {
      emu.script({ type: 'text', text: LONG, fault: { afterFrames: 2, kind } });
      const res = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
      assert.equal(res.status, 200, kind);
      assert.throws(() => decodeFrames(res.body), Error, kind);
      // The first two frames are intact.
      const first = res.body.readUInt32BE(0);
      const second = res.body.readUInt32BE(first);
      assert.equal(decodeFrames(res.body.subarray(0, first + second)).length, 2, kind);
    }
  });
});

test('faults: end stops without the terminal event; reset destroys the socket', async () => {
  await withEmulator(async (emu) => {
    emu.script(
      { type: 'text', text: LONG, fault: { afterFrames: 4, kind: 'end' } },
      { type: 'text', text: LONG, fault: { afterFrames: 2, kind: 'reset' } },
    );
    const ended = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
    const events = chunkEvents(decodeFrames(ended.body));
    assert.equal(events.length, 4);
    assert.ok(!events.some((e) => e.type === 'message_stop'));
    const reset = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
    assert.ok(reset.error, 'client sees a connection error');
    const done = await emu.requests[1]!.done;
    assert.equal(done.clientAborted, false);
    assert.equal(done.framesWritten, 2);
  });
});

test('faults: hang keeps the socket open until the client leaves, then done reports clientAborted', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'text', text: LONG, fault: { afterFrames: 1, kind: 'hang' } });
    const body = JSON.stringify(claudeBody());
    const url = new URL(emu.url);
    const signer = new SignatureV4({
      service: 'bedrock',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: STREAM_PATH,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
      query: {},
    });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path: STREAM_PATH, headers: signed.headers }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          // One frame arrived; wait a little to prove nothing else comes, then leave.
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
        res.on('error', () => {});
        void bytes;
      });
      req.on('error', () => {});
      req.on('timeout', reject);
      req.end(body);
    });
    const done = await emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.equal(done.framesWritten, 1);
  });
});

test('backpressure: a client that does not read makes writes pause; leaving stops the stream', async () => {
  await withEmulator(async (emu) => {
    // ~20 MB of text, produced lazily.
    emu.script({ type: 'text', text: 'x'.repeat(1000) + '€', deltas: ['x'.repeat(1000) + '€'], repeat: 20_000 });
    const body = JSON.stringify(claudeBody());
    const url = new URL(emu.url);
    const signer = new SignatureV4({
      service: 'bedrock',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: STREAM_PATH,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
      query: {},
    });
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path: STREAM_PATH, headers: signed.headers }, (res) => {
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      });
      req.on('error', () => {});
      req.end(body);
    });
    const done = await emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.ok(done.writesPaused >= 1, `writesPaused=${done.writesPaused}`);
    assert.ok(done.framesWritten < 20_000, `framesWritten=${done.framesWritten}`);
  });
});

test('faults: delay holds the response headers; frameDelayMs spaces the frames', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'delay', ms: 150, then: { type: 'text', text: 'ab', deltas: ['a', 'b'], frameDelayMs: 30 } });
    const t0 = Date.now();
    const res = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 200);
    // 7 frames → 6 pauses of 30 ms after the 150 ms delay.
    assert.ok(elapsed >= 150 + 6 * 30 - 10, `elapsed ${elapsed}`);
  });
});

test('raw: invoke-stream events are sent as-is in chunk frames, strings verbatim', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'raw', events: [{ type: 'message_start', custom: 1 }, '{"type":"weird"'] });
    const res = await post(emu.url, STREAM_PATH, JSON.stringify(claudeBody()));
    const frames = decodeFrames(res.body);
    assert.equal(frames.length, 2);
    const second = Buffer.from((frames[1]!.json as { bytes: string }).bytes, 'base64').toString('utf8');
    assert.equal(second, '{"type":"weird"');
    assert.deepEqual(chunkEvents([frames[0]!]), [{ type: 'message_start', custom: 1 }]);
    assert.equal(typeof (frames[0]!.json as { p?: string }).p, 'string');
  });
});
