/**
 * What a hostile client or a hostile upstream sends, against the real process (spawned, loopback only):
 * bodies built to make a check quadratic, model ids with dot segments, an upstream that echoes the
 * pod's credentials in its error text, client and upstream text far longer than any error should be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, parseStream } from '../helpers/harness.ts';
import { EVENT_STREAM, anthropicChunk, exceptionFrame, startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { configText, killSidecar, spawnSidecar, writeConfigFile, type Sidecar } from '../helpers/sidecar-process.ts';
import { otherCredentials } from '../helpers/credentials.ts';
import { startTestEmulator } from '../helpers/emulator.ts';

const hi = [{ role: 'user', content: 'hi' }];

function post(s: Sidecar, body: Record<string, unknown> | string, signal?: AbortSignal): Promise<Response> {
  return chat(s.proxy, body, {}, signal);
}

test('hostile input: a body of one huge key and millions of colons is refused in linear time; /healthz answers meanwhile', async () => {
  const emu = await startTestEmulator();
  const s = spawnSidecar(['--config', writeConfigFile(configText())], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  try {
    await s.ready;
    // Not JSON at all: `{"kkk…k":::::…`. The nesting pre-check used to re-read the key at every colon
    // (key length × colons: minutes for this body, every stream and probe frozen meanwhile).
    const key = 'k'.repeat(3 * 1024 * 1024);
    const body = `{"${key}"${':'.repeat(3 * 1024 * 1024)}`;
    const answer = post(s, body, AbortSignal.timeout(20_000));
    const health = await fetch(`${s.admin}/healthz`, { signal: AbortSignal.timeout(20_000) });
    assert.equal(health.status, 200);
    const res = await answer;
    assert.equal(res.status, 400);
    const error = ((await res.json()) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /not valid JSON/);
    assert.ok(error.message.length < 4_000, `the error quotes at most a bounded excerpt (got ${error.message.length} characters)`);
    assert.equal(emu.requests.length, 0);
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});

test('hostile input: dot segments and other non-ids in a model route never reach Bedrock; a 5 MiB model name gets a short error', async () => {
  const emu = await startTestEmulator();
  const s = spawnSidecar(['--config', writeConfigFile(configText())], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  try {
    await s.ready;
    for (const model of [
      'bedrock/..',
      'bedrock/converse/.',
      'bedrock/invoke/..',
      'bedrock/converse/..%2f',
      'bedrock/a..b',
      'bedrock/arn:aws:bedrock:us-east-1:123456789012:inference-profile/../../converse-stream',
    ]) {
      const res = await post(s, { model, stream: true, messages: hi });
      assert.equal(res.status, 404, model);
      const error = ((await res.json()) as { error: { type: string; param: string } }).error;
      assert.equal(error.type, 'model_not_found', model);
      assert.equal(error.param, 'model');
    }
    assert.deepEqual(
      emu.requests.map((r) => r.rawPath),
      [],
      'no request left /model/{id}/',
    );

    const long = `bedrock/${'x'.repeat(5 * 1024 * 1024)}`;
    const res = await post(s, { model: long, messages: hi });
    assert.equal(res.status, 404);
    const text = await res.text();
    assert.ok(text.length < 4_000, `a bounded error, got ${text.length} bytes`);
    assert.match(text, /more characters/);
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});

const SESSION_TOKEN = `IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ${'Dx9k+Q/z'.repeat(40)}==`;
const ACCESS_KEY = otherCredentials('hostile', { session: true }).accessKeyId;
// `/` and `+` as real secret keys have them: the scrubbing must treat them as plain characters.
const SECRET_KEY = 'hostile/SecretKey+0123456789abcdefghijklmnopq';
const API_KEY = `ABSKQmVkcm9ja0FQSUtleS1${'x7Yq'.repeat(20)}`;

test('hostile upstream: credentials echoed by the upstream in any wording never reach the client (bodies, frames, logs)', async () => {
  let mode = 'json';
  const upstream = await startHostileUpstream((req, res) => {
    // Everything the request carried, and the secret key, in words no pattern foresaw.
    const echo = `we saw: ${JSON.stringify(req.headers)} and your key is ${SECRET_KEY} (url-encoded ${encodeURIComponent(SESSION_TOKEN)})`;
    if (mode === 'json') {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' });
      res.end(JSON.stringify({ message: echo }));
    } else if (mode === 'text') {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`token=${SESSION_TOKEN.slice(0, 400)}`); // a piece of the token, cut by a length limit
    } else {
      res.writeHead(200, { 'content-type': EVENT_STREAM });
      res.write(
        anthropicChunk({
          type: 'message_start',
          message: { id: 'm', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1, output_tokens: 1 } },
        }),
      );
      res.end(exceptionFrame('internalServerException', JSON.stringify({ message: echo })));
    }
  });
  const file = writeConfigFile(
    `${configText(`  - name: keyed
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
    api_key: env:KEYED_API_KEY
`)}`.replace('drain_timeout_s: 3}', 'drain_timeout_s: 3, auth_token: sidecar-token-0123456789}'),
  );
  const s = spawnSidecar(['--config', file], {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
    KEYED_API_KEY: API_KEY,
  });
  const ask = (model: string, stream: boolean): Promise<Response> =>
    chat(s.proxy, { model, stream, messages: hi }, { authorization: 'Bearer sidecar-token-0123456789' });
  const secrets = [
    SESSION_TOKEN,
    SESSION_TOKEN.slice(0, 200),
    encodeURIComponent(SESSION_TOKEN).slice(0, 200),
    ACCESS_KEY,
    SECRET_KEY,
    API_KEY,
    'sidecar-token-0123456789',
  ];
  const assertClean = (what: string, text: string): void => {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what} carries a secret: ${secret.slice(0, 12)}…`);
  };
  try {
    await s.ready;
    for (const [m, model, stream] of [
      ['json', 'claude-invoke', false],
      ['json', 'keyed', true],
      ['text', 'claude-invoke', false],
      ['stream', 'claude-invoke', true],
      ['stream', 'keyed', true],
    ] as const) {
      mode = m;
      const res = await ask(model, stream);
      const text = await res.text();
      assertClean(`${m}/${model}: the answer (${res.status})`, text + JSON.stringify([...res.headers]));
      if (m === 'stream') assert.equal(parseStream(text).error?.type, 'upstream_error');
      else assert.ok(res.status >= 400, text);
    }
    assert.ok(
      upstream.requests.some((r) => r.headers['x-amz-security-token'] === SESSION_TOKEN),
      'the upstream did see the token',
    );
    assert.ok(
      upstream.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`),
      'and the API key',
    );
    assertClean('the logs', JSON.stringify(s.lines));
  } finally {
    await killSidecar(s);
    await upstream.close();
  }
});

test('hostile input: an auth_token written as a number is refused at start without printing it', async () => {
  const s = spawnSidecar(['--config', writeConfigFile('server:\n  auth_token: 918273645546372819\n')], {});
  assert.equal(await s.exit, 1);
  assert.match(s.stderr, /server\.auth_token: must be a string/);
  assert.ok(!s.stderr.includes('918273645'), s.stderr);
  assert.ok(!JSON.stringify(s.lines).includes('918273645'));
});
