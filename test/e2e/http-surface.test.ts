/**
 * The HTTP surface (docs/contract.md#surfaces): routes, probes, request ids, auth, JSON errors, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chat, withHarness } from '../helpers/harness.ts';

const hi = [{ role: 'user', content: 'Hi' }];

test('http: probes answer on both listeners; readyz is 200 once credentials resolved', () =>
  withHarness({}, async (h) => {
    for (const base of [h.url, h.adminUrl]) {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      while (!h.app.ready) await new Promise((r) => setTimeout(r, 5));
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /sidecar_requests_total/);
    }
  }));

test('http: the admin listener never serves a model call', () =>
  withHarness({}, async (h) => {
    const res = await fetch(`${h.adminUrl}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.equal(h.emu.requests.length, 0);
  }));

test('http: unknown paths are 404 and wrong methods 405, both JSON with x-request-id', () =>
  withHarness({}, async (h) => {
    const missing = await fetch(`${h.url}/v1/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'not_found');
    assert.ok(missing.headers.get('x-request-id'));
    const wrong = await fetch(`${h.url}/v1/chat/completions`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    assert.equal(((await wrong.json()) as { error: { type: string } }).error.type, 'method_not_allowed');
  }));

test('http: a client x-request-id is echoed, else a new one is made', () =>
  withHarness({}, async (h) => {
    const mine = await fetch(`${h.url}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'req-123');
    // A header value may hold spaces (RFC 9110 §5.5): "the client's own if it sent one".
    const spaced = await fetch(`${h.url}/healthz`, { headers: { 'x-request-id': 'conformance run 7' } });
    assert.equal(spaced.headers.get('x-request-id'), 'conformance run 7');
    const a = (await fetch(`${h.url}/healthz`)).headers.get('x-request-id');
    const b = (await fetch(`${h.url}/healthz`)).headers.get('x-request-id');
    assert.ok(a && b && a !== b);
  }));

test('http: /v1/models lists the aliases with family and route', () =>
  withHarness(
    {
      models: [
        { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
        { name: 'nova-eu', model: 'bedrock/converse/eu.amazon.nova-micro-v1:0', region: 'eu-west-1' },
      ],
    },
    async (h) => {
      const body = (await (await fetch(`${h.url}/v1/models`)).json()) as { object: string; data: Array<Record<string, unknown>> };
      assert.equal(body.object, 'list');
      assert.deepEqual(
        body.data.map((m) => [m.id, m.family, m.route]),
        [
          ['claude-invoke', 'anthropic', 'invoke'],
          ['nova-eu', 'amazon-nova', 'converse'],
        ],
      );
    },
  ));

test('http: /v1/models also lists an alias that waits for provider: (its requests answer 400 saying so)', () =>
  withHarness(
    {
      models: [
        { name: 'opaque', model: 'bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123' },
        { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
      ],
    },
    async (h) => {
      const body = (await (await fetch(`${h.url}/v1/models`)).json()) as { data: Array<Record<string, unknown>> };
      assert.deepEqual(
        body.data.map((m) => [m.id, m.family, m.route]),
        [
          ['opaque', null, 'converse'],
          ['claude-invoke', 'anthropic', 'invoke'],
        ],
      );
      const res = await chat(h, { model: 'opaque', messages: hi });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /provider:/);
    },
  ));

test('http: with auth_token set, proxy routes need the bearer token; probes do not', () =>
  withHarness({ server: { auth_token: 's3cret' } }, async (h) => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const none = await chat(h, { model: 'claude-invoke', messages: hi });
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { type: string } }).error.type, 'authentication_error');
    assert.equal((await chat(h, { model: 'claude-invoke', messages: hi }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await fetch(`${h.url}/v1/models`)).status, 401);
    const ok = await chat(h, { model: 'claude-invoke', messages: hi }, { authorization: 'Bearer s3cret' });
    assert.equal(ok.status, 200);
    assert.equal(h.emu.requests.length, 1);
    // The scheme is case-insensitive (RFC 9110), the token is not.
    assert.equal((await chat(h, { model: 'claude-invoke', messages: hi }, { authorization: 'bearer s3cret' })).status, 200);
    assert.equal((await chat(h, { model: 'claude-invoke', messages: hi }, { authorization: 'Bearer S3CRET' })).status, 401);
    // the client's Authorization never travels upstream
    assert.match(String(h.emu.requests[0]!.headers.authorization), /^AWS4-HMAC-SHA256 /);
  }));

test('http: an unknown alias or malformed route is a 404 model_not_found naming it', () =>
  withHarness({}, async (h) => {
    for (const model of ['gpt-4o', 'bedrock/', 'bedrock/invoke/', 'bedrock/invoke/a/b']) {
      const res = await chat(h, { model, messages: hi });
      assert.equal(res.status, 404, model);
      const body = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'model_not_found');
      assert.ok(body.error.message.includes(model), body.error.message);
    }
  }));

test('http: an ARN route without a provider is a 400 that says to set provider:', () =>
  withHarness({}, async (h) => {
    const res = await chat(h, {
      model: 'bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123',
      messages: hi,
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /provider:/);
  }));

test('http: bad input gets a 4xx naming the problem', () =>
  withHarness({ server: { max_body_bytes: 1000 } }, async (h) => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: Array<[Response, number, RegExp]> = [
      [await post('{not json'), 400, /not valid JSON/],
      [await post('[]'), 400, /JSON object/],
      [await post(JSON.stringify({ model: 'claude-invoke' })), 400, /messages/],
      [await post(JSON.stringify({ model: 'claude-invoke', messages: [] })), 400, /at least one message/],
      [await post(JSON.stringify({ model: 'claude-invoke', messages: [{ role: 'wizard', content: 'x' }] })), 400, /role/],
      [await post(JSON.stringify({ model: 'claude-invoke', messages: hi, temperature: 'hot' })), 400, /temperature/],
      [await post(JSON.stringify({ model: 'claude-invoke', messages: hi, stream: 'yes' })), 400, /stream/],
      [
        await post(JSON.stringify({ model: 'claude-invoke', messages: [{ role: 'user', content: 'x'.repeat(2000) }] })),
        413,
        /max_body_bytes/,
      ],
      // The content type is not checked: a body that is not JSON is a 400 whatever the header says.
      [await post('hello', 'text/plain'), 400, /not valid JSON/],
    ];
    for (const [res, status, message] of cases) {
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(body.error.message, message);
    }
    const invalidUtf8 = await new Promise<number>((resolve) => {
      const req = request(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    });
    assert.equal(invalidUtf8, 400);
    assert.equal(h.emu.requests.length, 0);
    // and the sidecar still serves
    assert.equal((await chat(h, { model: 'claude-invoke', messages: hi })).status, 200);
    // `curl -d` sends form-urlencoded: a JSON body is served whatever the content type says.
    const form = await post(JSON.stringify({ model: 'claude-invoke', messages: hi }), 'application/x-www-form-urlencoded');
    assert.equal(form.status, 200, await form.clone().text());
    await form.arrayBuffer();
  }));

test('http: no client header travels upstream, not even an x-amzn-bedrock-* one', () =>
  withHarness({}, async (h) => {
    const res = await chat(
      h,
      { model: 'claude-invoke', messages: hi },
      {
        'x-amzn-bedrock-guardrailidentifier': 'gr-evil',
        'x-amzn-bedrock-trace': 'ENABLED',
        'x-amz-security-token': 'client-token',
        'x-forwarded-for': '10.0.0.1',
        cookie: 'a=b',
        'x-custom': 'yes',
      },
    );
    assert.equal(res.status, 200);
    const headers = Object.keys(h.emu.requests[0]!.headers).sort();
    assert.deepEqual(headers, [
      'accept',
      'authorization',
      'connection',
      'content-length',
      'content-type',
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
    ]);
    const signed = /SignedHeaders=([^,]+)/.exec(String(h.emu.requests[0]!.headers.authorization))![1]!.split(';');
    assert.deepEqual(signed, ['accept', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date']);
  }));

test('http: a quiet stream gets ": keep-alive" comments every heartbeat_ms', () =>
  withHarness({ streaming: { heartbeat_ms: 50 } }, async (h) => {
    h.emu.script({ type: 'text', text: 'slow words', deltas: ['slow ', 'words'], frameDelayMs: 180 });
    const text = await (await chat(h, { model: 'claude-invoke', stream: true, messages: hi })).text();
    assert.match(text, /\n\n: keep-alive\n\n/);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
  }));

test('http: an alias naming a guardrail nobody defined is refused with a 500 naming it; the others serve', () =>
  withHarness(
    {
      guardrails: [],
      models: [
        {
          name: 'guarded',
          model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0',
          region: 'us-east-1',
          guardrails: ['corp-policy'],
        },
        { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
      ],
    },
    async (h) => {
      const refused = await chat(h, { model: 'guarded', stream: true, messages: hi });
      assert.equal(refused.status, 500);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /"corp-policy"/);
      assert.equal(h.emu.requests.length, 0, 'never sent to the model without its guardrail');
      assert.equal((await chat(h, { model: 'claude-invoke', messages: hi })).status, 200);
      assert.ok(
        h.logs.some((l) => l.level === 'warn' && l.alias === 'guarded'),
        'the load warned about it',
      );
    },
  ));

test('http: a body nested deeper than any real request is a 400 naming where, not a stack overflow', () =>
  withHarness({}, async (h) => {
    let schema = '{"type":"object"}';
    for (let i = 0; i < 5_000; i++) schema = `{"type":"object","properties":{"a":${schema}}}`;
    const body =
      `{"model":"claude-invoke","messages":[{"role":"user","content":"hi"}],` +
      `"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`;
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    const error = ((await res.json()) as { error: { type: string; message: string; param: string } }).error;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'tools');
    assert.match(error.message, /nests deeper than 512 levels/);
    assert.equal(h.emu.requests.length, 0);
    assert.ok(!h.logs.some((l) => l.level === 'error'), 'no internal error');
  }));
