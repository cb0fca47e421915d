// Stream faults on real sockets: each kind is observed from the client side, and RecordedRequest.done
// reports what the emulator did (frames written, client aborts, backpressure pauses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ACCESS_KEY, CLAUDE, chunkEvents, claudeBody, decodeFrames, post, SECRET } from './helpers.ts';
import { gate, withEmulator } from '../helpers/emulator.ts';

const STREAM_PATH = `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`;
const LONG = 'The quick brown fox — jumps over the lazy dog. '.repeat(10);

/** A stream request to the emulator at `url`, signed as an AWS SDK would sign it (raw node:http tests send it). */
async function signStream(url: URL, body: string): Promise<{ headers: Record<string, string> }> {
  const signer = new SignatureV4({
    service: 'bedrock',
    region: 'us-east-1',
    sha256: Sha256,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
  });
  return signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: STREAM_PATH,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
    query: {},
  });
}

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
    const signed = await signStream(url, body);
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
    const signed = await signStream(url, body);
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path: STREAM_PATH, headers: signed.headers }, (res) => {
        res.pause();
        // Leave once the emulator had to wait for the socket (not after a fixed 300 ms: a process starved
        // that long on a loaded machine had not written enough yet). Bounded; the assertions say what was missing.
        const deadline = Date.now() + 20_000;
        const poll = setInterval(() => {
          if ((emu.requests[0]?.progress().writesPaused ?? 0) > 0 || Date.now() > deadline) {
            clearInterval(poll);
            req.destroy();
            resolve();
          }
        }, 10);
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

/** Settles with `value` after `ms` (a bound on a wait that must end long before it). */
const after = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms).unref());

test('faults: a delay with `until` holds the headers until the test opens it (not for its whole `ms`)', async () => {
  await withEmulator(async (emu) => {
    const g = gate();
    emu.script({ type: 'delay', ms: 60_000, until: g.opened, then: { type: 'text', text: 'released' } });
    let answered = false;
    const pending = post(emu.url, STREAM_PATH, JSON.stringify(claudeBody())).then((res) => {
      answered = true;
      return res;
    });
    while (emu.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(answered, false, 'held while the gate is shut');
    g.open();
    const res = await Promise.race([pending, after(20_000, undefined)]);
    assert.ok(res, 'answered once opened, long before the 60 s bound');
    assert.equal(res.status, 200);
    assert.equal(chunkEvents(decodeFrames(res.body)).filter((e) => e.type === 'content_block_delta').length, 1);
  });
});

test('faults: a stream `pause` stops after afterFrames frames until the test opens it, then the stream goes on', async () => {
  await withEmulator(
    async (emu) => {
      const g = gate();
      emu.script({ type: 'text', text: 'abcdef', deltas: ['ab', 'cd', 'ef'], pause: { afterFrames: 2, until: g.opened, ms: 60_000 } });
      const url = new URL(emu.url);
      let body = Buffer.alloc(0);
      const ended = new Promise<void>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, method: 'POST', path: STREAM_PATH }, (res) => {
          res.on('data', (c: Buffer) => {
            body = Buffer.concat([body, c]);
          });
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(JSON.stringify(claudeBody()));
      });
      while (decodeFrames(body).length < 2) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(decodeFrames(body).length, 2, 'nothing past the pause while the gate is shut');
      g.open();
      assert.equal(await Promise.race([ended.then(() => 'ended'), after(20_000, 'still paused')]), 'ended');
      const deltas = chunkEvents(decodeFrames(body)).filter((e) => e.type === 'content_block_delta');
      assert.deepEqual(
        deltas.map((e) => (e.delta as { text: string }).text),
        ['ab', 'cd', 'ef'],
      );
      assert.equal((await emu.requests[0]!.done).clientAborted, false);
    },
    { verifySignature: false },
  );
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
