/**
 * What held in the adversarial pass of issue 12, kept as regression tests against the real process
 * (spawned, loopback only): request smuggling, an HTTP/2 preface, absolute-form URLs, floods of headers,
 * headers sent slowly, path variants around the bearer token, and metric labels under many model names.
 * None of these may reach Bedrock unauthenticated, stop the process, or grow what it holds without bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestEmulator } from '../helpers/emulator.ts';
import { configText, killSidecar, spawnSidecar, writeConfigFile, type Sidecar } from '../helpers/sidecar-process.ts';

const TOKEN = 'held-token-0123456789';

/** Writes `data` (all at once, or piece by piece every `everyMs`) and resolves with all the sidecar answered, once it closes. */
function raw(base: string, data: string | string[], everyMs = 0, waitMs = 5_000): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.on('close', done);
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? done() : reject(error)));
    // A kept-alive connection that answered is not closed by the sidecar: the caller's wait ends it.
    const timer = setTimeout(done, waitMs);
    socket.once('connect', () => {
      const pieces = typeof data === 'string' ? [data] : data;
      let i = 0;
      const next = (): void => {
        if (i >= pieces.length || socket.destroyed) return;
        socket.write(pieces[i++]!);
        if (everyMs > 0) setTimeout(next, everyMs);
        else next();
      };
      next();
    });
  });
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

const chatBody = JSON.stringify({ model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] });

async function withSidecar(server: string, run: (s: Sidecar, upstreamCalls: () => number) => Promise<void>): Promise<void> {
  const emu = await startTestEmulator();
  const file = writeConfigFile(configText().replace('drain_timeout_s: 3}', `drain_timeout_s: 3, auth_token: ${TOKEN}${server}}`));
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  try {
    await s.ready;
    await run(s, () => emu.requests.length);
    assert.equal((await fetch(`${s.admin}/healthz`)).status, 200, 'the process still answers');
  } finally {
    await killSidecar(s);
    await emu.close();
  }
}

test('held: smuggling, an HTTP/2 preface, absolute-form URLs and header floods never reach Bedrock; each gets a 4xx', () =>
  withSidecar('', async (s, upstreamCalls) => {
    const host = new URL(s.proxy).host;
    const smuggled =
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${chatBody.length}\r\n\r\n${chatBody}`;
    // Content-Length and Transfer-Encoding together (CL.TE / TE.CL): refused as a whole, nothing after it read.
    const clte = await raw(
      s.proxy,
      `POST /healthz HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    assert.equal(statusOf(clte), 400, clte);
    assert.equal(clte.match(/^HTTP\/1\.1 /gm)?.length, 1, 'one answer: the smuggled request was not served');
    // An obfuscated Transfer-Encoding.
    const te = await raw(
      s.proxy,
      `POST /healthz HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    assert.equal(statusOf(te), 400, te);
    assert.equal(te.match(/^HTTP\/1\.1 /gm)?.length, 1, 'one answer: the smuggled request was not served');
    // An HTTP/2 connection preface is not HTTP/1.1: a JSON 400 with an x-request-id.
    const h2 = await raw(s.proxy, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.equal(statusOf(h2), 400, h2);
    assert.match(h2, /x-request-id: /i);
    // Absolute-form: the bearer token is still required, whatever authority the URL names.
    for (const target of [`http://${host}/v1/chat/completions`, 'http://bedrock-runtime.us-east-1.amazonaws.com/v1/chat/completions']) {
      const answer = await raw(
        s.proxy,
        `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${chatBody.length}\r\nConnection: close\r\n\r\n${chatBody}`,
      );
      assert.ok([401, 404].includes(statusOf(answer)), `${target}: ${answer.slice(0, 200)}`);
    }
    // 10,000 headers (the block passes 16 KiB) and 101 small ones: 431, never a model call.
    const many = Array.from({ length: 10_000 }, (_, i) => `x-h${i}: v\r\n`).join('');
    const flood = await raw(
      s.proxy,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n${many}\r\n`,
    );
    assert.equal(statusOf(flood), 431, flood.slice(0, 200));
    const some = Array.from({ length: 101 }, (_, i) => `x-${i}: v\r\n`).join('');
    const counted = await raw(
      s.proxy,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Length: ${chatBody.length}\r\nConnection: close\r\n${some}\r\n${chatBody}`,
    );
    assert.equal(statusOf(counted), 431, counted.slice(0, 200));
    assert.equal(upstreamCalls(), 0, 'nothing reached Bedrock');
  }));

test('held: path variants around the bearer token are refused; only the exact path with the token is served', () =>
  withSidecar('', async (s, upstreamCalls) => {
    const host = new URL(s.proxy).host;
    const variants = [
      '/v1/chat/completions/',
      '//v1/chat/completions',
      '/v1//chat/completions',
      '/v1/chat/completions/.',
      '/v1/./chat/completions',
      '/v1/chat/../chat/completions',
      '/healthz/../v1/chat/completions',
      '/V1/chat/completions',
      '/v1/chat/%63ompletions',
      '/v1/chat/completions%00',
      '/v1/chat/completions%2f',
      '/v1/chat/completions;x',
      '/v1%2fchat%2fcompletions',
      '/./v1/chat/completions',
      '/v1/chat/completions?',
      '/v1/chat/completions#x',
      '/v1/chat/completions?x=/healthz',
      '/healthz?/v1/chat/completions',
      '/metrics/../v1/chat/completions',
      '/v1/messages',
      '/v1/responses',
      '/v1/embeddings',
      '/model/claude-invoke/converse',
      '/model/claude-invoke/invoke',
      '/model/claude-invoke/../../v1/chat/completions',
      '/model/claude-invoke/converse/',
    ];
    for (const path of variants) {
      const answer = await raw(
        s.proxy,
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${chatBody.length}\r\nConnection: close\r\n\r\n${chatBody}`,
      );
      assert.ok([400, 401, 404, 405].includes(statusOf(answer)), `${path}: ${answer.slice(0, 200)}`);
    }
    // A wrong token of the right length, a prefix of it, another scheme, and the token as a Basic credential.
    for (const authorization of [
      `Bearer ${'x'.repeat(TOKEN.length)}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      TOKEN,
      `Bearer  ${TOKEN} extra`,
    ]) {
      const res = await fetch(`${s.proxy}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: chatBody,
      });
      assert.equal(res.status, 401, authorization);
    }
    assert.equal(upstreamCalls(), 0, 'nothing reached Bedrock');
    const served = await fetch(`${s.proxy}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: chatBody,
    });
    assert.equal(served.status, 200, 'the exact path with the token is served (the checks above can fail)');
  }));

test('held: headers sent slowly on either listener get a 408 at headers_timeout_ms; the connection is closed', () =>
  withSidecar(', headers_timeout_ms: 800', async (s) => {
    for (const base of [s.proxy, s.admin]) {
      const host = new URL(base).host;
      // One header line every 100 ms, for longer than the limit: the limit is on the whole header block.
      const pieces = [`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`, ...Array.from({ length: 40 }, (_, i) => `x-slow-${i}: v\r\n`), '\r\n'];
      const answer = await raw(base, pieces, 100, 8_000);
      assert.equal(statusOf(answer), 408, `${base}: ${answer.slice(0, 200)}`);
    }
  }));

test('held: metric labels stay bounded under hundreds of distinct model names', () =>
  withSidecar('', async (s) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    for (let i = 0; i < 300; i++) {
      const model = i % 2 === 0 ? `no-such-alias-${i}` : `bedrock/invoke/not.a-real-model-${i}:0`;
      const res = await fetch(`${s.proxy}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
    }
    const metrics = await (await fetch(`${s.admin}/metrics`)).text();
    const labels = new Set([...metrics.matchAll(/model="([^"]*)"/g)].map((m) => m[1]));
    assert.ok(labels.size <= 4, `model labels: ${[...labels].join(', ')}`);
    assert.ok(!metrics.includes('no-such-alias-'), 'no client text becomes a label');
  }));
