/**
 * Logs (docs/contract.md#observability), asserted on parsed JSON lines through a sink: one completion line per chat
 * request with the documented fields; `logging.level` and `logging.content` honoured; and no secret in any line — not
 * the bearer token, not the AWS secret key or session token, not a request signature — even at trace level, on errors,
 * on retries, and when Bedrock's own error message echoes the signed headers back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { createLogger, logDestination, MAX_PENDING_LOG_BYTES, redactSecrets, scrubSecrets } from '../../src/ops/logger.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { CLAUDE, chat, sseChunks, until } from './helpers.ts';
import { otherCredentials } from '../helpers/credentials.ts';

const AUTH_TOKEN = 'sk-sidecar-AUTHTOKEN-7d3f9a2b';
const CREDENTIALS = otherCredentials('logtest', { session: true }) as Required<ReturnType<typeof otherCredentials>>;
const PROMPT = 'PROMPT-zebra-crossing-42';
const ANSWER = 'ANSWER-okapi-seven';
const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';

const CONFIG = {
  server: { auth_token: AUTH_TOKEN },
  logging: { level: 'info' },
  guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'], action: 'block' }],
  models: [
    { name: 'claude', model: CLAUDE, region: 'us-east-1' },
    { name: 'guarded', model: CLAUDE, region: 'us-east-1', guardrails: ['no-secrets'] },
  ],
};

const auth = (id: string): Record<string, string> => ({ authorization: `Bearer ${AUTH_TOKEN}`, 'x-request-id': id });

/** What real AWS services answer to a bad signature: the canonical request, signed headers included. */
function invalidSignatureMessage(): string {
  return (
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
    'Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n' +
    `'POST\n/model/${encodeURIComponent(MODEL_ID)}/invoke\n\naccept:application/json\ncontent-type:application/json\n` +
    `host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20261122T020000Z\nx-amz-security-token:${CREDENTIALS.sessionToken}\n\n` +
    `accept;content-type;host;x-amz-date;x-amz-security-token\n${'a'.repeat(64)}'\n\n` +
    `The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20261122T020000Z\n20261122/us-east-1/bedrock/aws4_request\n${'b'.repeat(64)}'\n`
  );
}

function completions(r: Harness): Array<Record<string, unknown>> {
  return r.logs.filter((l) => l.msg === 'request completed');
}

function lineFor(r: Harness, requestId: string): Record<string, unknown> {
  const lines = completions(r).filter((l) => l.requestId === requestId);
  assert.equal(lines.length, 1, `one completion line for ${requestId}, got ${lines.length}`);
  return lines[0]!;
}

function assertNoSecret(r: Harness, extra: string[] = []): void {
  const signatures = r.emu.requests
    .map((q) => /Signature=([0-9a-f]{64})/.exec(String(q.headers.authorization))?.[1])
    .filter((s): s is string => !!s);
  assert.ok(signatures.length > 0);
  const secrets = [AUTH_TOKEN, CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, CREDENTIALS.accessKeyId, ...signatures, ...extra];
  for (const line of r.raw) {
    for (const secret of secrets) assert.ok(!line.includes(secret), `a log line contains ${secret.slice(0, 12)}…: ${line}`);
  }
}

test('logging: one JSON completion line per request, with the documented fields, and no secret in any line even at trace level', async () => {
  const r = await startHarness({ ...CONFIG, logging: { level: 'trace', content: false } }, { credentials: CREDENTIALS });
  try {
    // a stream
    r.emu.script({ type: 'text', text: `${ANSWER} in several pieces`, usage: { inputTokens: 12, outputTokens: 6 } });
    const streamed = await chat(
      r,
      {
        model: 'claude',
        stream: true,
        stream_chunk_size: 8,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: PROMPT }],
      },
      auth('req-stream'),
    );
    assert.equal(streamed.status, 200);
    assert.equal(streamed.requestId, 'req-stream');
    // a whole answer after one throttling retry
    r.emu.script(
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { type: 'text', text: ANSWER, usage: { inputTokens: 3, outputTokens: 2 } },
    );
    assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-retry'))).status, 200);
    // an input guardrail block
    assert.equal(
      (await chat(r, { model: 'guarded', messages: [{ role: 'user', content: `${PROMPT} Project Nightingale` }] }, auth('req-guard')))
        .status,
      400,
    );
    // a wrong bearer token
    assert.equal(
      (
        await chat(
          r,
          { model: 'claude', messages: [{ role: 'user', content: PROMPT }] },
          { authorization: 'Bearer wrong-token-XYZ123', 'x-request-id': 'req-401' },
        )
      ).status,
      401,
    );
    await until(() => completions(r).length >= 3, 'three completion lines');

    const stream = lineFor(r, 'req-stream');
    const content = sseChunks(streamed.text).filter(
      (c) => ((c.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? '') !== '',
    );
    assert.equal(stream.level, 'info');
    assert.equal(stream.service, 'bedrock-sidecar');
    assert.match(String(stream.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(stream.alias, 'claude');
    assert.equal(stream.modelId, MODEL_ID);
    assert.equal(stream.route, 'invoke');
    assert.equal(stream.status, 200);
    assert.equal(typeof stream.ttfbMs, 'number');
    assert.equal(typeof stream.durationMs, 'number');
    assert.ok((stream.durationMs as number) >= (stream.ttfbMs as number));
    assert.equal(stream.chunks, content.length);
    assert.equal(stream.inputTokens, 12);
    assert.equal(stream.outputTokens, 6);
    assert.equal(stream.guardrail, 'none');
    assert.equal(stream.retries, 0);

    const retried = lineFor(r, 'req-retry');
    assert.equal(retried.status, 200);
    assert.equal(retried.retries, 1);
    assert.ok(r.logs.some((l) => l.level === 'warn' && l.msg === 'retrying Bedrock'));

    const guarded = lineFor(r, 'req-guard');
    assert.equal(guarded.status, 400);
    assert.equal(guarded.alias, 'guarded');
    assert.match(String(guarded.guardrail), /^input:no-secrets:block$/);
    assert.equal((guarded.error as { type: string }).type, 'guardrail_violation');

    // trace level logged more than the completion lines, and still nothing secret or content-bearing
    assert.ok(r.logs.some((l) => l.level === 'debug' || l.level === 'trace'));
    assertNoSecret(r, ['wrong-token-XYZ123', PROMPT, ANSWER]);
  } finally {
    await r.close();
  }
});

test('logging: a Bedrock error that echoes the canonical request (with x-amz-security-token) leaks the token into no log line', async () => {
  const r = await startHarness({ ...CONFIG, logging: { level: 'trace', content: false } }, { credentials: CREDENTIALS });
  try {
    r.emu.script({ type: 'error', status: 403, errorType: 'InvalidSignatureException', message: invalidSignatureMessage() });
    const res = await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-403'));
    assert.equal(res.status, 403);
    await until(() => completions(r).length === 1, 'the completion line');
    const line = lineFor(r, 'req-403');
    assert.equal((line.error as { type: string }).type, 'permission_error');
    assertNoSecret(r);
  } finally {
    await r.close();
  }
});

test('logging: the same error answer never hands the session token to the client either', async () => {
  const r = await startHarness({ ...CONFIG, logging: { level: 'silent', content: false } }, { credentials: CREDENTIALS });
  try {
    r.emu.script({ type: 'error', status: 403, errorType: 'InvalidSignatureException', message: invalidSignatureMessage() });
    const res = await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-403'));
    assert.equal(res.status, 403);
    assert.equal((JSON.parse(res.text) as { error: { type: string } }).error.type, 'permission_error');
    assert.ok(!res.text.includes(CREDENTIALS.sessionToken), res.text);
  } finally {
    await r.close();
  }
});

test('logging: logging.content true logs the request body at debug, still without credentials', async () => {
  const r = await startHarness({ ...CONFIG, logging: { level: 'debug', content: true } }, { credentials: CREDENTIALS });
  try {
    r.emu.script({ type: 'text', text: ANSWER });
    assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-content'))).status, 200);
    await until(() => completions(r).length === 1, 'the completion line');
    assert.ok(
      r.raw.some((l) => l.includes(PROMPT)),
      'the prompt is logged when logging.content is true',
    );
    assert.ok(
      r.logs.filter((l) => JSON.stringify(l).includes(PROMPT)).every((l) => l.level === 'debug'),
      'content only at debug',
    );
    assertNoSecret(r);
  } finally {
    await r.close();
  }
});

test('logging: logging.level warn keeps the completion lines out and the warnings in', async () => {
  const r = await startHarness({ ...CONFIG, logging: { level: 'warn', content: false } }, { credentials: CREDENTIALS });
  try {
    r.emu.script(
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { type: 'text', text: ANSWER },
    );
    assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-warn'))).status, 200);
    await until(() => r.logs.some((l) => l.msg === 'retrying Bedrock'), 'the retry warning');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(
      r.logs.filter((l) => l.level === 'info' || l.level === 'debug' || l.level === 'trace'),
      [],
    );
  } finally {
    await r.close();
  }
});

test('logging: scrubSecrets removes credential-shaped text from a finished line and leaves prose alone', () => {
  const cases: Array<[string, string]> = [
    [
      '"message":"...\\nx-amz-security-token:IQoJb3JpZ2luX2Vj+/abc=\\n\\nhost"',
      '"message":"...\\nx-amz-security-token:[redacted]\\n\\nhost"',
    ],
    ['"headers":{"x-amz-security-token":"IQoJb3JpZ2luX2Vj"}', '"headers":{"x-amz-security-token":"[redacted]"}'],
    ['url?X-Amz-Security-Token=IQoJb3JpZ2luX2Vj&X-Amz-Signature=ok', 'url?X-Amz-Security-Token=[redacted]&X-Amz-Signature=ok'],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG', 'aws_secret_access_key = [redacted]'],
    ['"sessionToken":"abc"', '"sessionToken":"[redacted]"'],
    [`Signature=${'0f'.repeat(32)}`, 'Signature=[redacted]'],
    ['Authorization: Bearer sk-abcdefgh12345678', 'Authorization: Bearer [redacted]'],
    ['key ASIAQWERTYUIOPASDFGH used', 'key [redacted] used'],
  ];
  for (const [input, expected] of cases) assert.equal(scrubSecrets(input), expected);
  for (const prose of [
    'missing or wrong token (Authorization: Bearer <server.auth_token>, or x-api-key: <server.auth_token>)',
    '{"sessionTokenExpiry":5,"msg":"request completed","alias":"claude"}',
  ])
    assert.equal(scrubSecrets(prose), prose);
});

test('logging: secret-named keys are redacted at every depth up to REDACT_DEPTH, and the logged object is left as it was', () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  const log = createLogger('info', sink);
  const logged = {
    authorization: 'AWS4-HMAC-SHA256 opaque',
    apiKey: 'key-top',
    req: { headers: { authorization: 'Bearer opaque', 'x-amz-security-token': 'tok', accept: 'x' } },
    upstream: { credentials: { accessKeyId: 'id' }, region: 'us-east-1' },
    deep: { a: { b: { c: { apiKey: 'beyond the walk' } } } },
    list: [{ apiKey: 'in an array' }],
    alias: 'claude',
    absent: { apiKey: undefined },
  };
  const before = JSON.stringify(logged);
  log.info(logged, 'with secrets');
  assert.equal(JSON.stringify(logged), before, "the caller's object is not changed");
  const line = lines[0]!;
  assert.equal(line.authorization, '[redacted]');
  assert.equal(line.apiKey, '[redacted]');
  assert.deepEqual(line.req, { headers: { authorization: '[redacted]', 'x-amz-security-token': '[redacted]', accept: 'x' } });
  assert.deepEqual(line.upstream, { credentials: '[redacted]', region: 'us-east-1' });
  assert.equal(line.alias, 'claude');
  assert.deepEqual(line.absent, {}, 'an undefined secret stays absent');
  // Past the walk's depth and inside arrays the keys are not looked at; such shapes are not logged here.
  assert.deepEqual(line.deep, logged.deep);
  assert.deepEqual(line.list, logged.list);
  // An object with no secret is handed on as it is, not copied.
  const clean = { alias: 'claude', nested: { status: 200 } };
  assert.equal(redactSecrets(clean), clean);
});

test('logging: a request turned away by the router still gets its one line, and a chat one is counted; probes are not logged', async () => {
  const r = await startHarness(CONFIG, { credentials: CREDENTIALS });
  try {
    const wrong = await chat(
      r,
      { model: 'claude', messages: [{ role: 'user', content: PROMPT }] },
      { authorization: 'Bearer not-the-token', 'x-request-id': 'req-401' },
    );
    assert.equal(wrong.status, 401);
    const missing = await fetch(`${r.url}/v1/nothing`, { headers: { 'x-request-id': 'req-404' } });
    assert.equal(missing.status, 404);
    assert.equal((await fetch(`${r.url}/healthz`, { headers: { 'x-request-id': 'req-probe' } })).status, 200);
    await until(() => completions(r).length >= 2, 'the two lines');
    const line401 = lineFor(r, 'req-401');
    assert.equal(line401.status, 401);
    assert.equal(line401.path, '/v1/chat/completions');
    assert.equal((line401.error as { type: string }).type, 'authentication_error');
    assert.equal(lineFor(r, 'req-404').status, 404);
    assert.equal(completions(r).filter((l) => l.requestId === 'req-probe').length, 0, 'a probe that answered 200 is not logged');
    const metrics = await (await fetch(`${r.url}/metrics`, { headers: auth('req-metrics') })).text();
    assert.match(metrics, /^sidecar_requests_total\{model="unknown",route="none",status="401",surface="chat"\} 1$/m);
    assert.doesNotMatch(metrics, /status="404"/, 'only the chat path counts as a chat request');
    for (const secret of [AUTH_TOKEN, 'not-the-token'])
      assert.ok(
        r.raw.every((l) => !l.includes(secret)),
        `no line carries ${secret}`,
      );
  } finally {
    await r.close();
  }
});

test('logging: a request answered without model work (inference profiles, a stored response, the model list) gets its one line', async () => {
  const r = await startHarness(CONFIG, { credentials: CREDENTIALS });
  try {
    const asks: Array<[string, string, string, number, string | null]> = [
      ['req-profile', 'GET', '/inference-profiles/us.anthropic.claude-opus-4-7', 404, 'native'],
      ['req-profiles', 'GET', '/inference-profiles', 200, 'native'],
      ['req-stored', 'GET', '/v1/responses/resp_missing', 404, 'responses'],
      ['req-delete', 'DELETE', '/v1/responses/resp_missing', 404, 'responses'],
      ['req-models', 'GET', '/v1/models', 200, null],
      ['req-model', 'GET', '/v1/models/claude', 200, null],
    ];
    for (const [id, method, path, status] of asks) {
      const res = await fetch(`${r.url}${path}`, { method, headers: auth(id) });
      assert.equal(res.status, status, `${method} ${path}`);
      await res.arrayBuffer();
    }
    await until(() => asks.every(([id]) => completions(r).some((l) => l.requestId === id)), 'a line for each');
    for (const [id, method, path, status, surface] of asks) {
      const line = lineFor(r, id);
      assert.deepEqual(
        { method: line.method, path: line.path, status: line.status, surface: line.surface, alias: line.alias, cancelled: line.cancelled },
        { method, path, status, surface, alias: null, cancelled: false },
        id,
      );
      assert.equal(typeof line.durationMs, 'number');
      if (status === 404) assert.equal((line.error as { type: string }).type, 'not_found', id);
      else assert.equal(line.error, null, id);
    }
    // Probes and scrapes that succeed stay unlogged.
    assert.equal((await fetch(`${r.url}/readyz`, { headers: { 'x-request-id': 'req-ready' } })).status, 200);
    await (await fetch(`${r.url}/metrics`, { headers: auth('req-scrape') })).text();
    assert.equal(completions(r).filter((l) => l.requestId === 'req-ready' || l.requestId === 'req-scrape').length, 0);
  } finally {
    await r.close();
  }
});

test('logging: retries are counted when they run out too, and every field is on every line (null when unknown)', async () => {
  const r = await startHarness(CONFIG, { credentials: CREDENTIALS });
  try {
    const throttle = { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' } as const;
    r.emu.script(throttle, throttle, throttle);
    assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: PROMPT }] }, auth('req-exhausted'))).status, 429);
    r.emu.script({ type: 'text', text: ANSWER });
    assert.equal((await chat(r, { model: CLAUDE, messages: [{ role: 'user', content: PROMPT }] }, auth('req-direct'))).status, 200);
    assert.equal(
      (await chat(r, { model: 'no-such-alias', messages: [{ role: 'user', content: PROMPT }] }, auth('req-unknown'))).status,
      404,
    );
    // Turned away before any model work (a wrong token): the same line, every field there too.
    const refused = await chat(
      r,
      { model: 'claude', messages: [{ role: 'user', content: PROMPT }] },
      { ...auth('req-refused'), authorization: 'Bearer wrong' },
    );
    assert.equal(refused.status, 401);
    await until(() => completions(r).length === 4, 'four lines');

    const exhausted = lineFor(r, 'req-exhausted');
    assert.equal(exhausted.status, 429);
    assert.equal(exhausted.retries, 2, 'max_attempts 3: two retries, counted although none succeeded');
    const fields = [
      'requestId',
      'surface',
      'alias',
      'modelId',
      'route',
      'servedBy',
      'status',
      'ttfbMs',
      'durationMs',
      'chunks',
      'inputTokens',
      'outputTokens',
      'guardrail',
      'retries',
      'cancelled',
    ];
    for (const id of ['req-exhausted', 'req-direct', 'req-unknown', 'req-refused']) {
      const line = lineFor(r, id);
      for (const field of fields) assert.ok(Object.hasOwn(line, field), `${id} has ${field}`);
    }
    assert.equal(lineFor(r, 'req-direct').alias, null, 'a direct route has no alias');
    assert.equal(lineFor(r, 'req-direct').modelId, MODEL_ID);
    assert.equal(lineFor(r, 'req-unknown').modelId, null);
  } finally {
    await r.close();
  }
});

test('logging: a destination that fails (EBADF) drops lines instead of throwing or growing without bound', () => {
  // A descriptor number no process has open: every write fails with EBADF. Without an 'error' listener
  // sonic-boom throws from the log call (from the uncaughtException handler, that ends the process).
  const destination = logDestination(999_999) as ReturnType<typeof logDestination> & EventEmitter;
  // No 'error' listener here: the test must see what the process sees.
  let dropped = 0;
  destination.on('drop', () => {
    dropped++;
  });
  const log = createLogger('info', destination);
  const filler = 'x'.repeat(1000);
  const lines = Math.ceil((2 * MAX_PENDING_LOG_BYTES) / filler.length);
  assert.doesNotThrow(() => {
    for (let i = 0; i < lines; i++) log.info({ i, filler }, 'a line to a closed descriptor');
    log.error({ err: new Error('boom') }, 'an error line too');
  });
  assert.ok(dropped >= lines / 2 - 1, `lines past MAX_PENDING_LOG_BYTES are dropped (dropped ${dropped} of ${lines})`);
});
