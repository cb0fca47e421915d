/**
 * How a stream ends, against the real process: at the model's final event (not when the upstream
 * closes its response), and never with raw HTTP written into it by a malformed pipelined request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { chunkPayload, eventFrame } from '../../src/emulator/frames.ts';
import { chat, parseStream, startHarness } from '../helpers/harness.ts';
import { EVENT_STREAM, anthropicAnswer, exceptionFrame, startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { configText, killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';
import { gate, startTestEmulator } from '../helpers/emulator.ts';

const converseAnswer = (text: string): Buffer[] => [
  eventFrame('messageStart', JSON.stringify({ role: 'assistant' })),
  eventFrame('contentBlockDelta', JSON.stringify({ contentBlockIndex: 0, delta: { text } })),
  eventFrame('contentBlockStop', JSON.stringify({ contentBlockIndex: 0 })),
  eventFrame('messageStop', JSON.stringify({ stopReason: 'end_turn' })),
  eventFrame('metadata', JSON.stringify({ usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 10 } })),
];

test("stream ending: [DONE] follows the model's final event at once, and the upstream response is released, though the upstream keeps it open", async () => {
  let released = 0;
  const upstream = await startHostileUpstream((req, res) => {
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    for (const frame of req.url!.includes('converse') ? converseAnswer('whole answer') : anthropicAnswer('whole answer')) res.write(frame);
    res.on('close', () => released++); // and never res.end(): the response stays open
  });
  const file = writeConfigFile(
    configText(`  - name: claude-converse
    model: bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
`).replace('logging: {level: info}', 'logging: {level: info}\nupstream: {idle_timeout_ms: 60000}'),
  );
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url });
  try {
    await s.ready;
    for (const model of ['claude-invoke', 'claude-converse']) {
      // Bounded far below idle_timeout_ms: waiting for the upstream to close fails here.
      const res = await chat(
        s.proxy,
        { model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] },
        {},
        AbortSignal.timeout(20_000),
      );
      const parsed = parseStream(await res.text());
      assert.equal(parsed.text, 'whole answer', model);
      assert.equal(parsed.finish, 'stop', model);
      assert.equal(parsed.error, undefined, model);
      assert.equal(parsed.doneCount, 1);
      assert.equal(
        (parsed.usage as { completion_tokens: number } | undefined)?.completion_tokens,
        2,
        `${model}: the usage that came last is there`,
      );
    }
    await waitFor(() => released === 2, 5_000);
    await waitFor(() => s.lines.filter((l) => l.msg === 'request completed').length === 2);
    const line = s.lines.filter((l) => l.msg === 'request completed');
    assert.deepEqual(
      line.map((l) => [l.status, l.cancelled, l.error]),
      [
        [200, false, null],
        [200, false, null],
      ],
    );
  } finally {
    await killSidecar(s);
    await upstream.close();
  }
});

test('stream ending: a whole answer whose response ends just after its final event keeps the upstream connection for the next stream', async () => {
  let connections = 0;
  let closed = 0;
  const upstream = await startHostileUpstream((_req, res) => {
    res.on('close', () => closed++);
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    for (const frame of converseAnswer('whole answer')) res.write(frame);
    setTimeout(() => res.end(), 10); // the end of the response in a read of its own, after the final event
  });
  upstream.server.on('connection', () => connections++);
  const h = await startHarness(
    { models: [{ name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' }] },
    { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } },
  );
  try {
    for (let i = 0; i < 3; i++) {
      const parsed = parseStream(
        await (await chat(h, { model: 'claude-converse', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text(),
      );
      assert.equal(parsed.text, 'whole answer');
      assert.equal(parsed.doneCount, 1);
      await waitFor(() => closed === i + 1, 5_000); // the client has its [DONE] before the upstream response ends
    }
    assert.equal(connections, 1, 'three streams one after the other, one upstream connection');
    assert.equal(upstream.requests.length, 3);
  } finally {
    await h.close();
    await upstream.close();
  }
});

/** Nova's InvokeModelWithResponseStream chunks: converse's events as JSON objects named after the event. */
const novaChunk = (event: Record<string, unknown>): Buffer => eventFrame('chunk', chunkPayload(JSON.stringify(event), ''));

test("stream ending: Nova's invoke stream that ends or fails after messageStop, before its metadata, is a finished answer; cut before, it is broken", async () => {
  // messageStop carries the stop reason: the family's terminal event (SPEC §8). Bedrock sends a metadata chunk
  // after it as a rule; a stream without one, or with an exception in its place, still holds the whole answer
  // (one ending per stream: the log says the failure). Cut before messageStop, the stream is broken.
  const answer = [
    novaChunk({ messageStart: { role: 'assistant' } }),
    novaChunk({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'whole answer' } } }),
    novaChunk({ contentBlockStop: { contentBlockIndex: 0 } }),
    novaChunk({ messageStop: { stopReason: 'end_turn' } }),
  ];
  const upstream = await startHostileUpstream((_req, res, body) => {
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    for (const frame of body.includes('cut') ? answer.slice(0, -1) : answer) res.write(frame);
    if (body.includes('late')) res.write(exceptionFrame('internalServerException', JSON.stringify({ message: 'late' })));
    res.end();
  });
  const h = await startHarness(
    { models: [{ name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-micro-v1:0', region: 'us-east-1' }] },
    { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } },
  );
  const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const read = async (content: string): Promise<{ text: string; finish: string | null }> => {
    const stream = await openai.chat.completions.create({
      model: 'nova-invoke',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content }],
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { text, finish };
  };
  try {
    assert.deepEqual(await read('hi'), { text: 'whole answer', finish: 'stop' });
    assert.deepEqual(await read('late'), { text: 'whole answer', finish: 'stop' });
    await assert.rejects(read('cut'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.match(error.message, /ended before the model's final event/);
      return true;
    });
    await waitFor(() => h.logs.filter((l) => l.msg === 'request completed').length === 3);
    const done = h.logs.filter((l) => l.msg === 'request completed');
    assert.deepEqual(
      done.map((l) => [l.status, (l.error as { type?: string } | null)?.type ?? null]),
      [
        [200, null],
        [200, 'upstream_error'],
        [200, 'upstream_protocol_error'],
      ],
    );
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('stream ending: a malformed request pipelined behind a stream never writes raw HTTP into it; the stream ends with [DONE]', async () => {
  const emu = await startTestEmulator();
  const s = spawnSidecar(['--config', writeConfigFile(configText())], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  // The stream pauses until the sidecar has met the garbage (a paced stream could end first on a loaded
  // machine: the garbage then followed a finished response, and its 400 was rightly written).
  const held = gate();
  try {
    await s.ready;
    emu.script({
      type: 'text',
      text: 'a stream with garbage behind it',
      deltas: ['a stream ', 'with garbage ', 'behind it'],
      pause: { afterFrames: 3, until: held.opened, ms: 60_000 },
    });
    const url = new URL(s.proxy);
    const body = JSON.stringify({ model: 'claude-invoke', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const receiving = new Promise<string>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      // Once the stream is under way: a request line no parser accepts, on the same connection.
      const poll = setInterval(() => {
        if (text.includes('data: ')) {
          clearInterval(poll);
          socket.write('NOT A REQUEST AT ALL\r\n\r\n');
        }
      }, 5);
      setTimeout(() => socket.destroy(), 30_000).unref();
    });
    receiving.catch(() => undefined); // awaited below
    const pipelined = (l: Record<string, unknown>): boolean =>
      l.msg === 'request completed' &&
      /^bad request: .*pipelined behind a response in progress/.test(String((l.error as { message?: string } | null)?.message));
    await waitFor(() => s.lines.some(pipelined), 20_000);
    held.open();
    const received = await receiving;
    assert.equal(received.match(/HTTP\/1\.1 /g)?.length, 1, received);
    assert.match(received, /^HTTP\/1\.1 200 /);
    assert.ok(!received.includes('HTTP/1.1 400'));
    const parsed = parseStream(dechunk(received.slice(received.indexOf('\r\n\r\n') + 4)));
    assert.equal(parsed.text, 'a stream with garbage behind it');
    assert.equal(parsed.finish, 'stop');
    assert.equal(parsed.doneCount, 1);
    assert.equal(s.lines.filter(pipelined).length, 1);
  } finally {
    held.open();
    await killSidecar(s);
    await emu.close();
  }
});

/** The payload of an HTTP/1.1 chunked body (up to its last chunk). */
function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) return out;
    const size = parseInt(body.slice(at, eol), 16);
    if (!size) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
