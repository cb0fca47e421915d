/**
 * Faults from upstream, from the client and from the process's own life (docs/contract.md#streaming-and-errors,
 * #operations), injected through the emulator or raw sockets on loopback.
 */
import { test } from 'node:test';
import { otherCredentials, TEST_CREDENTIALS } from '../helpers/credentials.ts';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { chat, parseStream, startHarness, withHarness } from '../helpers/harness.ts';
import { gate } from '../helpers/emulator.ts';
import { waitFor } from '../helpers/sidecar-process.ts';

const MODEL = 'claude-invoke';
const hi = [{ role: 'user', content: 'Hi' }];

test('faults: no upstream byte for idle_timeout_ms ends the stream with upstream_timeout', () =>
  withHarness({ upstream: { idle_timeout_ms: 300 } }, async (h) => {
    h.emu.script({ type: 'text', text: 'this stream will hang halfway through', fault: { afterFrames: 3, kind: 'hang' } });
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(s.error?.type, 'upstream_timeout');
    assert.equal(s.error?.code, 504);
    assert.equal(s.finish, null);
    assert.equal(s.doneCount, 1);
    assert.equal((await h.emu.requests[0]!.done).clientAborted, true);
  }));

test('faults: no answer within first_byte_timeout_ms is a 504 before the commit', () =>
  withHarness({ upstream: { first_byte_timeout_ms: 200 } }, async (h) => {
    h.emu.script({ type: 'delay', ms: 2000, then: { type: 'text', text: 'late' } });
    const res = await chat(h, { model: MODEL, stream: true, messages: hi });
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'upstream_timeout');
  }));

test('faults: a refused connection is retried, then a 502 upstream_error', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await withHarness(
    {},
    async (h) => {
      const res = await chat(h, { model: MODEL, stream: true, messages: hi });
      assert.equal(res.status, 502);
      const body = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'upstream_error');
      assert.match(body.error.message, /ECONNREFUSED/);
      assert.match(
        await (await fetch(`${h.adminUrl}/metrics`)).text(),
        /sidecar_upstream_retries_total\{reason="upstream_error",surface="chat"\} 2/,
      );
    },
    { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${port}` },
  );
});

test('faults: an ExpiredTokenException refreshes the credentials and retries once', async () => {
  let calls = 0;
  const h = await startHarness({});
  const credentials = h.app.credentials;
  const original = credentials.invalidate.bind(credentials);
  credentials.invalidate = () => {
    calls++;
    original();
  };
  try {
    h.emu.script(
      { type: 'error', status: 403, errorType: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
      { type: 'text', text: 'fresh' },
    );
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(s.text, 'fresh');
    assert.equal(calls, 1);
    assert.equal(h.emu.requests.length, 2);
  } finally {
    await h.close();
  }
});

// The sidecar's clock stands still until the emulator has had to wait for its socket (the chain of buffers
// between them is full), then runs: the cut can only come after that backpressure, however long a loaded
// machine takes to get there (on real time, a starved process could reach the write timeout first).
let slowReaderFrozenAt: number | undefined = Date.now();
test('faults: a slow reader pauses the upstream writes, and a reader that stops is cut after write_timeout_ms', async () => {
  const h = await startHarness({ server: { write_timeout_ms: 400 } }, { app: { now: () => slowReaderFrozenAt ?? Date.now() } });
  try {
    const piece = 'y'.repeat(1000);
    h.emu.script({ type: 'text', text: piece, deltas: [piece], repeat: 20_000 }); // 20 MB of text
    const url = new URL(`${h.url}/v1/chat/completions`);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      assert.equal(res.statusCode, 200);
      res.once('data', () => res.pause()); // read one chunk, then stop reading for good
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: MODEL, stream: true, messages: hi }));
    while (h.emu.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await waitFor(() => h.emu.requests[0]!.progress().writesPaused > 0, 20_000);
    slowReaderFrozenAt = undefined;
    const done = await h.emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.ok(done.writesPaused > 0, 'the emulator saw backpressure');
    assert.ok(done.framesWritten < 20_000, `only part of the reply was produced (${done.framesWritten} frames)`);
    // The sidecar cut the reader (a reader that never reads cannot be told why) and logged why.
    let line: Record<string, unknown> | undefined;
    while (!(line = h.logs.find((l) => l.msg === 'request completed'))) await new Promise((r) => setTimeout(r, 10));
    assert.equal((line.error as { type: string }).type, 'client_timeout');
    req.destroy();
    // the sidecar still serves others
    h.emu.script({ type: 'text', text: 'still here' });
    assert.equal(parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text()).text, 'still here');
  } finally {
    await h.close();
  }
});

test('faults: oversized or too many headers are 431, slow headers time out, and nothing else breaks', () =>
  withHarness({ server: { headers_timeout_ms: 300, request_timeout_ms: 600 } }, async (h) => {
    const big = await fetch(`${h.url}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(big.status, 431);
    assert.match(big.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, "an answer from Node's parser carries x-request-id too");
    const many: Record<string, string> = {};
    for (let i = 0; i < 120; i++) many[`x-h-${i}`] = 'v';
    const tooMany = await fetch(`${h.url}/healthz`, { headers: many });
    assert.equal(tooMany.status, 431);
    assert.equal(((await tooMany.json()) as { error: { type: string } }).error.type, 'request_header_fields_too_large');

    const port = Number(new URL(h.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);

    // A chat body that never finishes: Node answers 408; the handler that was reading it logs the client's
    // doing (client_timeout), never an internal error.
    const slowBody = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":',
        ),
      );
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    assert.match(slowBody, /^HTTP\/1\.1 408/);
    // Every answer Node's parser gave has its line, under the x-request-id it sent.
    const bigId = big.headers.get('x-request-id');
    assert.ok(
      h.logs.some((l) => l.msg === 'request completed' && l.requestId === bigId && l.status === 431),
      'the 431 is logged',
    );
    // The handler that was reading the body logs once it sees the request end, which may be after the
    // client saw the 408 and the close (a fixed 50 ms was not always enough on a loaded machine).
    await waitFor(() =>
      h.logs.some((l) => l.msg === 'request completed' && (l.error as { type?: string } | null)?.type === 'client_timeout'),
    );
    assert.ok(!h.logs.some((l) => l.level === 'error'), `no error line: ${JSON.stringify(h.logs.filter((l) => l.level === 'error'))}`);
  }));

// The sidecar's clock here is the reader's pace: 1 ms per 10 kB it reads (a steady 10 MB/s reader), however
// slowly a loaded machine lets it run. Whether it is cut then depends only on what the watchdog counts as
// progress, never on CPU load.
let readerClock = Date.now();
test('faults: a reader that reads slowly but steadily is never cut by write_timeout_ms', async () => {
  const h = await startHarness({ server: { write_timeout_ms: 1000 } }, { app: { now: () => readerClock } });
  try {
    const piece = 'z'.repeat(1000);
    // 15 MB: past what loopback's socket buffers absorb, so the response stays full while it is read (the
    // kernel wakes the writer only when a good part of its buffer is free: every few hundred ms here).
    h.emu.script({ type: 'text', text: piece, deltas: [piece], repeat: 15_000 });
    const url = new URL(`${h.url}/v1/chat/completions`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          readerClock += Math.ceil(chunk.length / 10_000);
          res.pause(); // take one chunk, then wait: always reading, never fast
          setTimeout(() => res.resume(), 10);
        });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: MODEL, stream: true, messages: hi }));
    });
    const s = parseStream(body);
    assert.equal(s.error, undefined, 'not cut');
    assert.equal(s.text.length, 15_000_000);
    assert.equal(s.finish, 'stop');
  } finally {
    await h.close();
  }
});

test('faults: one broken stream leaves concurrent streams untouched', () =>
  withHarness({}, async (h) => {
    const replies = Array.from({ length: 8 }, (_, i) =>
      i === 3
        ? { type: 'text' as const, text: 'broken one', fault: { afterFrames: 2, kind: 'corrupt-crc' as const } }
        : { type: 'text' as const, text: `stream ${i} — intact`, frameDelayMs: 5 },
    );
    h.emu.script(...replies);
    const results = await Promise.all(
      replies.map(() => chat(h, { model: MODEL, stream: true, messages: hi }).then(async (r) => parseStream(await r.text()))),
    );
    const broken = results.filter((s) => s.error);
    assert.equal(broken.length, 1);
    assert.equal(broken[0]!.error?.type, 'upstream_protocol_error');
    const intact = results
      .filter((s) => !s.error)
      .map((s) => s.text)
      .sort();
    assert.deepEqual(intact, [0, 1, 2, 4, 5, 6, 7].map((i) => `stream ${i} — intact`).sort());
  }));

test('faults: new credentials sign new requests while a stream signed with the old ones runs on', async () => {
  let generation = 0;
  const keys = [{ ...TEST_CREDENTIALS }, otherCredentials('rotated')];
  const h = await startHarness({}, { emulator: { credentials: keys } });
  try {
    // Swap the app's credential source for one that rotates on demand.
    (h.app as unknown as { credentials: unknown }).credentials = { get: async () => keys[generation]!, invalidate: () => undefined };
    h.app.generation = h.app.build(h.app.config);
    h.emu.script({ type: 'text', text: 'long running answer', frameDelayMs: 30 }, { type: 'text', text: 'second' });
    const first = chat(h, { model: MODEL, stream: true, messages: hi }).then((r) => r.text());
    while (h.emu.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    generation = 1;
    const second = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(second.text, 'second');
    assert.equal(parseStream(await first).text, 'long running answer');
    assert.ok(String(h.emu.requests[0]!.headers.authorization).includes(`Credential=${keys[0]!.accessKeyId}/`));
    assert.ok(String(h.emu.requests[1]!.headers.authorization).includes(`Credential=${keys[1]!.accessKeyId}/`));
    assert.ok(h.emu.requests.every((r) => r.signature === 'valid'));
  } finally {
    await h.close();
  }
});

test('drain: readyz turns 503, new requests get 503, streams in flight finish within the deadline', () =>
  withHarness({ server: { drain_timeout_s: 5 } }, async (h) => {
    while (!h.app.ready) await new Promise((r) => setTimeout(r, 5));
    // The stream stays in flight until the refusals below were seen: once it ends the drain closes the
    // listeners, and a paced stream could end first on a loaded machine (a refused connection, not a 503).
    const held = gate();
    h.emu.script({ type: 'text', text: 'finishing while draining', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
    const inflight = chat(h, { model: MODEL, stream: true, messages: hi }).then((r) => r.text());
    while (h.emu.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const drained = h.app.drain().finally(held.open);
    assert.equal((await fetch(`${h.adminUrl}/readyz`)).status, 503);
    const refused = await chat(h, { model: MODEL, stream: true, messages: hi });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { type: string } }).error.type, 'unavailable');
    const list = await fetch(`${h.url}/v1/models`);
    assert.equal(list.status, 503, 'every new request, the model list too');
    await list.arrayBuffer();
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200, 'liveness still answers');
    held.open();
    const s = parseStream(await inflight);
    assert.equal(s.text, 'finishing while draining');
    assert.equal(s.finish, 'stop');
    await drained;
  }));

test('drain: a stream still running at the deadline ends with an unavailable frame and [DONE]', () =>
  withHarness({ server: { drain_timeout_s: 1 } }, async (h) => {
    h.emu.script({ type: 'text', text: 'z'.repeat(20), repeat: 1000, frameDelayMs: 20 });
    const inflight = chat(h, { model: MODEL, stream: true, messages: hi }).then((r) => r.text());
    while (h.emu.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await h.app.drain();
    const s = parseStream(await inflight);
    assert.equal(s.error?.type, 'unavailable');
    assert.equal(s.error?.code, 503);
    assert.equal(s.finish, null);
    assert.equal(s.doneCount, 1);
    assert.equal((await h.emu.requests[0]!.done).clientAborted, true);
  }));

// A request still waiting for Bedrock's answer when the deadline comes was left to the listeners' close,
// which destroyed its connection seconds later: an empty reply and no error, past drain_timeout_s.
test('drain: a request still waiting for Bedrock at the deadline answers 503 unavailable at the deadline', () =>
  withHarness({ server: { drain_timeout_s: 1 } }, async (h) => {
    const never = gate();
    for (let i = 0; i < 2; i++) h.emu.script({ type: 'delay', ms: 60_000, until: never.opened, then: { type: 'text', text: 'late' } });
    const answers = [true, false].map((stream) => chat(h, { model: MODEL, stream, messages: hi }));
    while (h.emu.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const drained = h.app.drain();
    for (const answer of answers) {
      const res = await answer;
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: { type: string; message: string; code: number } };
      assert.equal(body.error.type, 'unavailable');
      assert.equal(body.error.code, 503);
      assert.match(body.error.message, /drain deadline/);
    }
    assert.ok(Date.now() - started < 2_500, `answered at the deadline, not at the listeners' close (${Date.now() - started} ms)`);
    await drained;
    never.open();
    for (const request of h.emu.requests) assert.equal((await request.done).clientAborted, true, 'the upstream call is aborted');
    const lines = h.logs.filter((l) => l.msg === 'request completed');
    assert.deepEqual(
      lines.map((l) => [l.status, l.cancelled]),
      [
        [503, false],
        [503, false],
      ],
    );
  }));

test('faults: a DNS failure and a TLS failure are 502 upstream_error answers, never a crash', async () => {
  const plain = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  try {
    const endpoints: Array<[string, RegExp]> = [
      ['http://bedrock-runtime.nonexistent.invalid', /resolve|ENOTFOUND|EAI_AGAIN/],
      [`https://127.0.0.1:${(plain.address() as AddressInfo).port}`, /TLS|SSL|EPROTO|socket/i],
    ];
    for (const [endpoint, message] of endpoints) {
      await withHarness(
        {},
        async (h) => {
          const res = await chat(h, { model: MODEL, stream: true, messages: hi });
          assert.equal(res.status, 502, endpoint);
          const body = (await res.json()) as { error: { type: string; message: string } };
          assert.equal(body.error.type, 'upstream_error');
          assert.match(body.error.message, message);
          assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
        },
        { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: endpoint },
      );
    }
  } finally {
    plain.close();
  }
});

test('faults: a client that leaves mid-stream is counted as cancelled', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'text', text: 'c'.repeat(20), repeat: 200, frameDelayMs: 10 });
    const controller = new AbortController();
    const res = await chat(h, { model: MODEL, stream: true, messages: hi }, {}, controller.signal);
    await res.body!.getReader().read();
    controller.abort();
    await h.emu.requests[0]!.done;
    let text = '';
    while (!/sidecar_requests_cancelled_total\{model="claude-invoke",surface="chat"\} 1/.test(text)) {
      text = await (await fetch(`${h.adminUrl}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(text, /sidecar_requests_total\{model="claude-invoke",route="invoke",status="cancelled",surface="chat"\} 1/);
    assert.match(text, /sidecar_inflight_streams\{surface="chat"\} 0/);
  }));

test("faults: a failure after the model's final event keeps the stream's one ending (finish, [DONE]); the log still says it", () =>
  withHarness(
    { models: [{ name: 'claude-converse', model: 'bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0', region: 'us-east-1' }] },
    async (h) => {
      // ConverseStream: messageStart, one delta, contentBlockStop, messageStop (the finish) — then, instead
      // of the metadata event, an exception.
      h.emu.script({
        type: 'text',
        text: 'whole answer',
        fault: { afterFrames: 4, kind: 'exception', exceptionType: 'throttlingException' },
      });
      const raw = await (await chat(h, { model: 'claude-converse', stream: true, messages: hi })).text();
      const s = parseStream(raw);
      assert.equal(s.text, 'whole answer');
      assert.equal(s.finish, 'stop');
      assert.equal(s.error, undefined, `no error frame after the finish: ${raw.slice(-300)}`);
      assert.equal(raw.split('data: [DONE]').length, 2);
      // The line is written once the pipeline has finished, not necessarily before the client has its [DONE].
      await waitFor(() => h.logs.some((l) => l.msg === 'request completed'));
      const line = h.logs.find((l) => l.msg === 'request completed');
      assert.equal((line?.error as { type?: string } | null)?.type, 'rate_limit_error', 'the operator still sees the failure');
    },
  ));
