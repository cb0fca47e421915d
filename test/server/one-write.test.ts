/**
 * A short answer — Bedrock's whole response in one read — leaves the sidecar in one socket write on every
 * streaming surface: the headers, every frame, the ending and the last chunk together. Each write on a
 * socket costs more than rendering a short answer (bench/README.md, per request), and Node's HTTP response
 * alone would write three times (once per tick that writes). Counted on the sidecar's side of the
 * connection, in process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { startHarness } from '../helpers/harness.ts';
import { EVENT_STREAM, anthropicAnswer, startHostileUpstream } from '../helpers/hostile-upstream.ts';

const SURFACES = [
  {
    path: '/v1/chat/completions',
    body: { model: 'claude-invoke', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    ending: 'data: [DONE]\n\n',
  },
  {
    path: '/v1/messages',
    body: { model: 'claude-invoke', stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
    ending: 'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  },
  {
    path: '/v1/responses',
    body: { model: 'claude-invoke', stream: true, input: 'hi', store: false },
    ending: '"type":"response.completed"',
  },
];

test('a short answer leaves in one socket write: headers, frames, ending and last chunk (chat, messages, responses)', async () => {
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    res.end(Buffer.concat(anthropicAnswer('whole answer in one read')));
  });
  const h = await startHarness({}, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  const port = Number(new URL(h.url).port);
  const writes = { count: 0 };
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (this: Socket, ...args: unknown[]) => void>;
  const original = { _write: proto._write, _writev: proto._writev };
  for (const name of ['_write', '_writev'] as const) {
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (this.localPort === port) writes.count++;
      original[name].apply(this, args);
    };
  }
  try {
    for (const surface of SURFACES) {
      writes.count = 0;
      const res = await fetch(h.url + surface.path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(surface.body),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `${surface.path}: ${text}`);
      assert.ok(text.includes('whole answer in one read'), `${surface.path}: the answer's text: ${text}`);
      assert.ok(text.includes(surface.ending), `${surface.path}: its ending: ${text.slice(-300)}`);
      assert.equal(writes.count, 1, `${surface.path}: socket writes for one short answer`);
    }
  } finally {
    Object.assign(proto, original);
    await h.close();
    await upstream.close();
  }
});
