/**
 * Requests Node would answer with its own bare responses, and a log line too long to write, against the
 * real process: every answer is the JSON error with an x-request-id; no line vanishes without a trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { configText, killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { chat } from '../helpers/harness.ts';

/** Sends raw bytes, returns everything the server wrote until it closed. */
function raw(base: string, bytes: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(bytes);
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

function jsonAnswer(text: string): {
  status: number;
  requestId: string | undefined;
  error: { type: string; message: string; code: number };
} {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1]);
  const requestId = /\r\nx-request-id: ([^\r]+)\r\n/i.exec(text)?.[1];
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { type: string; message: string; code: number } };
  return { status, requestId, error: body.error };
}

test('odd requests: a missing Host, an unknown Expect and CONNECT get the JSON error with an x-request-id; a log line over 1 MiB leaves a trace', async () => {
  const emu = await startTestEmulator();
  const file = writeConfigFile(configText().replace('logging: {level: info}', 'logging: {level: debug, content: true}'));
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  try {
    await s.ready;
    const noHost = jsonAnswer(await raw(s.proxy, 'GET /healthz HTTP/1.1\r\n\r\n'));
    assert.equal(noHost.status, 400);
    assert.ok(noHost.requestId);
    assert.match(noHost.error.message, /Host header/);

    const expect = jsonAnswer(
      await raw(s.proxy, 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nexpect: foo\r\ncontent-length: 2\r\n\r\n{}'),
    );
    assert.equal(expect.status, 417);
    assert.ok(expect.requestId);
    assert.match(expect.error.message, /Expect: foo is not supported/);

    const tunnel = jsonAnswer(
      await raw(
        s.proxy,
        'CONNECT bedrock-runtime.us-east-1.amazonaws.com:443 HTTP/1.1\r\nhost: bedrock-runtime.us-east-1.amazonaws.com:443\r\n\r\n',
      ),
    );
    assert.equal(tunnel.status, 405);
    assert.ok(tunnel.requestId);
    assert.equal(tunnel.error.type, 'method_not_allowed');

    // logging.content puts the whole body in a debug line: 1.5 MiB is more than a line may be.
    emu.script({ type: 'text', text: 'ok' });
    const res = await chat(
      s.proxy,
      { model: 'claude-invoke', messages: [{ role: 'user', content: 'z'.repeat(1.5 * 1024 * 1024) }] },
      { 'x-request-id': 'big-line-1' },
    );
    assert.equal(res.status, 200);
    await waitFor(() => s.lines.some((l) => l.requestId === 'big-line-1' && l.msg === 'request completed'));
    const trace = s.lines.find((l) => typeof l.droppedBytes === 'number');
    assert.ok(trace, 'the dropped line left a trace');
    assert.equal(trace.requestId, 'big-line-1');
    assert.ok((trace.droppedBytes as number) > 1024 * 1024);
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});
