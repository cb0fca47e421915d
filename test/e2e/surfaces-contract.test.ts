/**
 * What every surface keeps (docs/contract.md#surfaces), held side by side on all five: one model
 * resolution (bare Bedrock ids included), auth by Bearer and x-api-key, x-request-id and
 * x-sidecar-served-by, one log line and one request metric labelled with the surface, overload and drain
 * in each surface's own shape, and in-band failures after the commit with each surface's own ending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Anthropic from '@anthropic-ai/sdk';
import type { ExceptionType } from '../../src/emulator/index.ts';
import { otherCredentials } from '../helpers/credentials.ts';
import { gate } from '../helpers/emulator.ts';
import { parseStream, startHarness, type Harness } from '../helpers/harness.ts';
import { parsePrometheusText, valueOf } from '../ops/prom-text.ts';
import { decodeFrames } from '../surfaces/bedrock-native-helpers.ts';

const TOKEN = 'surfaces-test-token';
const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' };
const TITAN = { name: 'titan-embed', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' };

type Surface = 'chat' | 'messages' | 'responses' | 'embeddings' | 'native';

/** One request of each surface for `model` (native: the model path), optionally streamed. */
function call(h: Harness, surface: Surface, model: string, headers: Record<string, string> = {}, stream = false): Promise<Response> {
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  switch (surface) {
    case 'chat':
      return post('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] });
    case 'messages':
      return post('/v1/messages', { model, stream, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    case 'responses':
      return post('/v1/responses', { model, stream, input: 'hi' });
    case 'embeddings':
      return post('/v1/embeddings', { model, input: 'hi' });
    case 'native':
      return post(`/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`, {
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      });
  }
}

function upstreamPath(h: Harness): string {
  const request = h.emu.requests.at(-1);
  assert.ok(request, 'the emulator saw a request');
  return request.rawPath;
}

test('surfaces: a bare Bedrock model id is resolved on every surface (Claude and embeddings on invoke, others on converse)', async () => {
  const h = await startHarness({ models: [CLAUDE] });
  try {
    const cases: Array<[Surface, string, string]> = [
      ['chat', 'eu.amazon.nova-micro-v1:0', '/model/eu.amazon.nova-micro-v1%3A0/converse'],
      ['chat', 'global.anthropic.claude-sonnet-4-6', '/model/global.anthropic.claude-sonnet-4-6/invoke'],
      ['messages', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
      ['messages', 'us.amazon.nova-pro-v1:0', '/model/us.amazon.nova-pro-v1%3A0/converse'],
      ['responses', 'anthropic.claude-opus-4-7', '/model/anthropic.claude-opus-4-7/invoke'],
      ['embeddings', 'amazon.titan-embed-text-v2:0', '/model/amazon.titan-embed-text-v2%3A0/invoke'],
      ['native', 'eu.amazon.nova-micro-v1:0', '/model/eu.amazon.nova-micro-v1%3A0/converse'],
    ];
    for (const [surface, model, path] of cases) {
      const res = await call(h, surface, model);
      assert.equal(res.status, 200, `${surface} ${model}: ${await res.clone().text()}`);
      await res.arrayBuffer();
      assert.equal(upstreamPath(h), path, `${surface} ${model}`);
    }
    // Not a Bedrock id (no known family, no ARN): still the unknown model it always was, never a call.
    const calls = h.emu.requests.length;
    const chat = await call(h, 'chat', 'gpt-4o');
    assert.equal(chat.status, 404);
    const body = (await chat.json()) as { error: { type: string; message: string; param: string } };
    assert.equal(body.error.type, 'model_not_found');
    assert.match(body.error.message, /"gpt-4o"/);
    const messages = await call(h, 'messages', 'claude-sonnet-4-5-20250929');
    assert.equal(messages.status, 404);
    assert.equal(((await messages.json()) as { error: { type: string } }).error.type, 'not_found_error');
    assert.equal(h.emu.requests.length, calls);
  } finally {
    await h.close();
  }
  const closed = await startHarness({ routing: { allow_direct_models: false }, models: [CLAUDE] });
  try {
    const res = await call(closed, 'chat', 'eu.amazon.nova-micro-v1:0');
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /allow_direct_models is false/);
    assert.equal(closed.emu.requests.length, 0);
  } finally {
    await closed.close();
  }
});

test('surfaces: every surface takes Bearer and x-api-key, echoes x-request-id, names the alias served, logs and counts its surface', async () => {
  const h = await startHarness({ server: { auth_token: TOKEN }, models: [CLAUDE, NOVA, TITAN] });
  try {
    const plan: Array<[Surface, string]> = [
      ['chat', 'claude'],
      ['messages', 'claude'],
      ['responses', 'claude'],
      ['embeddings', 'titan-embed'],
      ['native', 'nova'],
    ];
    for (const [surface, model] of plan) {
      for (const auth of [{ authorization: `Bearer ${TOKEN}` }, { 'x-api-key': TOKEN }] as Array<Record<string, string>>) {
        const id = `req-${surface}-${Object.keys(auth)[0]!}`;
        const res = await call(h, surface, model, { ...auth, 'x-request-id': id });
        assert.equal(res.status, 200, `${surface} ${JSON.stringify(auth)}: ${await res.clone().text()}`);
        assert.equal(res.headers.get('x-request-id'), id, surface);
        assert.equal(res.headers.get('x-sidecar-served-by'), model, surface);
        await res.arrayBuffer();
      }
      const refused = await call(h, surface, model, { 'x-api-key': 'wrong' });
      assert.equal(refused.status, 401, surface);
      await refused.arrayBuffer();
    }
    const metrics = parsePrometheusText(await (await fetch(`${h.adminUrl}/metrics`)).text());
    for (const [surface, model] of plan) {
      const route = model === 'nova' ? 'converse' : 'invoke';
      assert.equal(valueOf(metrics, 'sidecar_requests_total', { model, route, status: '200', surface }), 2, `${surface} 200s`);
      assert.equal(
        valueOf(metrics, 'sidecar_requests_total', { model: 'unknown', route: 'none', status: '401', surface }),
        1,
        `${surface} 401`,
      );
      const lines = h.logs.filter((l) => l.msg === 'request completed' && l.surface === surface && l.status === 200);
      assert.equal(lines.length, 2, `${surface}: one log line per request`);
      assert.ok(
        lines.every((l) => typeof l.requestId === 'string' && l.requestId.startsWith(`req-${surface}-`)),
        surface,
      );
    }
  } finally {
    await h.close();
  }
});

test('native: every answer carries x-amzn-RequestId, which the AWS SDK reports as the request id', async () => {
  const h = await startHarness({ models: [NOVA] });
  try {
    const sdk = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: h.url,
      credentials: otherCredentials('app'),
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    });
    const answer = await sdk.send(new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    assert.match(answer.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    await assert.rejects(sdk.send(new ConverseCommand({ modelId: 'nova', messages: [] })), (error: unknown) => {
      const { requestId, httpStatusCode } = (error as { $metadata: { requestId?: string; httpStatusCode?: number } }).$metadata;
      return httpStatusCode === 400 && /^[0-9a-f-]{36}$/.test(requestId ?? '');
    });
    const raw = await call(h, 'native', 'nova', { 'x-request-id': 'mine-1' });
    assert.equal(raw.headers.get('x-amzn-requestid'), 'mine-1');
    await raw.arrayBuffer();
  } finally {
    await h.close();
  }
});

test('messages: every answer carries request-id, which the Anthropic SDK reports as the request id (answers and errors)', async () => {
  const h = await startHarness({ models: [CLAUDE] });
  try {
    const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    h.emu.script({ type: 'text', text: 'hi' });
    const answer = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    assert.match(answer._request_id ?? '', /^[0-9a-f-]{36}$/);
    await assert.rejects(
      client.messages.create({ model: 'no-such-alias', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.NotFoundError && /^[0-9a-f-]{36}$/.test(error.requestID ?? ''),
    );
    const raw = await call(h, 'messages', 'claude', { 'x-request-id': 'mine-2' });
    assert.equal(raw.headers.get('request-id'), 'mine-2');
    await raw.arrayBuffer();
    const chat = await call(h, 'chat', 'claude');
    assert.equal(chat.headers.get('request-id'), null, 'OpenAI clients read x-request-id only');
    await chat.arrayBuffer();
  } finally {
    await h.close();
  }
});

test('surfaces: past server.max_inflight every surface answers 503 at once, in its own shape, with retry-after', async () => {
  const h = await startHarness({ server: { max_inflight: 1 }, models: [CLAUDE, NOVA, TITAN] });
  // The holder's stream stays in flight until every surface has been refused (a paced stream ended first
  // on a loaded machine, and the later surfaces were served).
  const held = gate();
  try {
    h.emu.script({ type: 'text', text: 'holding the only slot', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
    const holder = await call(h, 'chat', 'claude', {}, true);
    assert.equal(holder.status, 200);
    const expected: Record<Surface, (body: Record<string, unknown>, res: Response) => void> = {
      chat: (b) => assert.equal((b.error as { type: string }).type, 'overloaded'),
      messages: (b) => assert.deepEqual([b.type, (b.error as { type: string }).type], ['error', 'overloaded_error']),
      responses: (b) => assert.equal((b.error as { type: string }).type, 'overloaded'),
      embeddings: (b) => assert.equal((b.error as { type: string }).type, 'overloaded'),
      native: (b, res) => {
        assert.equal(res.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
        assert.deepEqual(Object.keys(b), ['message']);
      },
    };
    for (const surface of Object.keys(expected) as Surface[]) {
      const res = await call(h, surface, surface === 'embeddings' ? 'titan-embed' : surface === 'native' ? 'nova' : 'claude');
      assert.equal(res.status, 503, surface);
      assert.equal(res.headers.get('retry-after'), '1', surface);
      expected[surface]((await res.json()) as Record<string, unknown>, res);
    }
    held.open();
    assert.equal(parseStream(await holder.text()).text, 'holding the only slot', 'the held stream is untouched');
    assert.equal(h.emu.requests.length, 1, 'nothing refused reached Bedrock');
  } finally {
    held.open();
    await h.close();
  }
});

test('surfaces: while draining each surface refuses in its own shape, and a stream at the deadline ends with its own in-band error', async () => {
  // The refusals must come before the deadline (after it the listeners close): 3 s leaves a loaded machine
  // room for them, where 1 s did not always. The streams pause (never released) so they are certainly
  // still running at the deadline, and cost no CPU meanwhile.
  const h = await startHarness({ server: { drain_timeout_s: 3 }, models: [CLAUDE, NOVA] });
  try {
    const long = { type: 'text' as const, text: 'z'.repeat(20), repeat: 1000, pause: { afterFrames: 3, until: gate().opened, ms: 60_000 } };
    h.emu.script(long, long, long);
    const streams = (['messages', 'responses', 'native'] as const).map((surface) =>
      call(h, surface, surface === 'native' ? 'nova' : 'claude', {}, true).then(async (res) => Buffer.from(await res.arrayBuffer())),
    );
    while (h.emu.requests.length < 3) await new Promise((r) => setTimeout(r, 5));
    const drained = h.app.drain();

    const messages = await call(h, 'messages', 'claude');
    assert.equal(messages.status, 503);
    assert.equal(((await messages.json()) as { error: { type: string } }).error.type, 'overloaded_error');
    const responses = await call(h, 'responses', 'claude');
    assert.equal(responses.status, 503);
    assert.equal(((await responses.json()) as { error: { type: string } }).error.type, 'unavailable');
    const native = await call(h, 'native', 'nova');
    assert.equal(native.status, 503);
    assert.equal(native.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
    await native.arrayBuffer();

    await drained;
    const [messagesSse, responsesSse, nativeBytes] = (await Promise.all(streams)) as [Buffer, Buffer, Buffer];
    const anthropic = messagesSse.toString('utf8');
    assert.ok(
      anthropic.endsWith(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"the sidecar is shutting down (drain deadline reached)"}}\n\n',
      ),
      anthropic.slice(-300),
    );
    assert.ok(!anthropic.includes('message_stop') && !anthropic.includes('message_delta'));

    const events = responsesSse
      .toString('utf8')
      .slice(0, -2)
      .split('\n\n')
      .map((frame) => frame.split('\n')[0]);
    assert.deepEqual(events.slice(-2), ['event: error', 'event: response.failed']);
    assert.ok(!events.includes('event: response.completed'));
    const failed = JSON.parse(responsesSse.toString('utf8').slice(0, -2).split('\n\n').at(-1)!.split('\ndata: ')[1]!) as {
      response: { status: string; error: { code: string; message: string } };
    };
    assert.equal(failed.response.status, 'failed');
    assert.match(failed.response.error.message, /drain deadline/);

    const frames = decodeFrames(nativeBytes);
    const last = frames.at(-1)!;
    assert.equal(last.headers[':message-type'], 'exception');
    assert.equal(last.headers[':exception-type'], 'serviceUnavailableException');
    assert.ok(!frames.some((f) => f.headers[':event-type'] === 'messageStop'));
  } finally {
    await h.close();
  }
});

test('surfaces: sidecar parameters are taken out on every surface and never reach Bedrock', async () => {
  const h = await startHarness({ models: [CLAUDE, NOVA, TITAN] });
  try {
    const knobs = { stream_chunk_size: 4, guardrails: [], stream_options: { include_usage: true } };
    const bodies: Array<[string, Record<string, unknown>]> = [
      ['/v1/messages', { model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/responses', { model: 'claude', input: 'hi' }],
      ['/v1/responses', { model: 'nova', input: 'hi' }],
      ['/v1/embeddings', { model: 'titan-embed', input: 'hi' }],
      ['/model/nova/converse', { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }],
      ['/model/claude/invoke', { anthropic_version: 'bedrock-2023-05-31', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }],
    ];
    for (const [path, body] of bodies) {
      // The emulator refuses any member Bedrock would refuse, so a 200 already says none travelled.
      const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify({ ...body, ...knobs }) });
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      await res.arrayBuffer();
      const upstream = h.emu.requests.at(-1)!.body.toString('utf8');
      for (const knob of Object.keys(knobs)) assert.ok(!upstream.includes(knob), `${path}: ${knob} reached Bedrock: ${upstream}`);
    }
  } finally {
    await h.close();
  }
});

test("messages: a failure after the commit is one error event of Anthropic's type for its status, and no message_stop", async () => {
  const h = await startHarness({ models: [CLAUDE] });
  try {
    const cases: Array<[ExceptionType, string]> = [
      ['throttlingException', 'rate_limit_error'],
      ['internalServerException', 'api_error'],
      ['modelStreamErrorException', 'api_error'],
      ['serviceUnavailableException', 'api_error'],
      ['validationException', 'invalid_request_error'],
      ['modelTimeoutException', 'api_error'],
    ];
    for (const [exceptionType, type] of cases) {
      h.emu.script({ type: 'text', text: 'a few words first', fault: { kind: 'exception', exceptionType, afterFrames: 3 } });
      const res = await call(h, 'messages', 'claude', {}, true);
      assert.equal(res.status, 200);
      const frames = (await res.text()).slice(0, -2).split('\n\n');
      const last = frames.at(-1)!;
      assert.ok(last.startsWith('event: error\ndata: '), `${exceptionType}: ${last}`);
      const error = JSON.parse(last.slice('event: error\ndata: '.length)) as { type: string; error: { type: string; message: string } };
      assert.equal(error.type, 'error');
      assert.equal(error.error.type, type, exceptionType);
      assert.ok(error.error.message.includes(exceptionType), error.error.message);
      assert.equal(frames.filter((f) => f.startsWith('event: error')).length, 1);
      assert.ok(!frames.some((f) => f.startsWith('event: message_stop') || f.startsWith('event: message_delta')), exceptionType);
    }
  } finally {
    await h.close();
  }
});

test("messages: errors before the commit carry Anthropic's type for every status the sidecar answers", async () => {
  const h = await startHarness({
    server: { max_body_bytes: 4096 },
    // 2 s: every other case must get its first byte within it, a loaded machine included (200 ms did not
    // always); the late one would take a minute.
    upstream: { max_attempts: 1, first_byte_timeout_ms: 2000 },
    models: [CLAUDE],
  });
  try {
    const cases: Array<[Parameters<Harness['emu']['script']>[0] | undefined, Record<string, unknown>, number, string]> = [
      [{ type: 'error', status: 403, errorType: 'AccessDeniedException', message: 'no access' }, {}, 403, 'permission_error'],
      [{ type: 'error', status: 500, errorType: 'InternalServerException', message: 'boom' }, {}, 502, 'api_error'],
      [{ type: 'error', status: 424, errorType: 'ModelErrorException', message: 'model failed' }, {}, 502, 'api_error'],
      [{ type: 'error', status: 429, errorType: 'ThrottlingException', message: 'slow down' }, {}, 429, 'rate_limit_error'],
      [{ type: 'error', status: 400, errorType: 'ServiceQuotaExceededException', message: 'quota' }, {}, 429, 'rate_limit_error'],
      [{ type: 'delay', ms: 60_000, then: { type: 'text', text: 'late' } }, {}, 504, 'api_error'],
      [undefined, { pad: 'x'.repeat(5000) }, 413, 'request_too_large'],
      [undefined, { model: 'nope' }, 404, 'not_found_error'],
      [undefined, { messages: 'not a list' }, 400, 'invalid_request_error'],
    ];
    for (const [reply, extra, status, type] of cases) {
      if (reply) h.emu.script(reply);
      const res = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], ...extra }),
      });
      assert.equal(res.status, status, `${type}: ${await res.clone().text()}`);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['type', 'error']);
      assert.equal(body.type, 'error');
      const error = body.error as { type: string; message: string };
      assert.equal(error.type, type);
      assert.equal(typeof error.message, 'string');
    }
  } finally {
    await h.close();
  }
});

test('surfaces: a throttled primary fails over to its fallback on every surface, which the answer names; fallback_on adds access_denied', async () => {
  const BACKUP = { name: 'backup', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-2' };
  const h = await startHarness({
    upstream: { max_attempts: 1, breaker_failures: 100 },
    models: [
      { ...CLAUDE, fallbacks: ['backup'] },
      { ...CLAUDE, name: 'strict', fallbacks: ['backup'] },
      { ...CLAUDE, name: 'lenient', fallbacks: ['backup'], fallback_on: ['access_denied'] },
      BACKUP,
      { name: 'titan-a', model: TITAN.model, region: 'us-east-1', fallbacks: ['titan-b'] },
      { name: 'titan-b', model: TITAN.model, region: 'us-west-2' },
    ],
  });
  const throttled = { type: 'error' as const, status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' };
  try {
    const plan: Array<[Surface, string, boolean]> = [
      ['chat', 'claude', false],
      ['chat', 'claude', true],
      ['messages', 'claude', false],
      ['messages', 'claude', true],
      ['responses', 'claude', false],
      ['responses', 'claude', true],
      ['embeddings', 'titan-a', false],
    ];
    for (const [surface, model, stream] of plan) {
      h.emu.script(throttled);
      const before = h.emu.requests.length;
      const res = await call(h, surface, model, {}, stream);
      assert.equal(res.status, 200, `${surface} stream=${stream}: ${await res.clone().text()}`);
      assert.equal(res.headers.get('x-sidecar-served-by'), model === 'claude' ? 'backup' : 'titan-b', surface);
      await res.arrayBuffer();
      const regions = h.emu.requests.slice(before).map((r) => /\/(us-[a-z]+-\d)\/bedrock\//.exec(String(r.headers.authorization))?.[1]);
      assert.deepEqual(
        regions,
        ['us-east-1', model === 'claude' ? 'us-east-2' : 'us-west-2'],
        `${surface}: signed for each target's region`,
      );
    }
    for (const path of ['/model/claude/invoke', '/model/claude/converse']) {
      h.emu.script(throttled);
      const body = path.endsWith('invoke')
        ? { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
        : { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
      const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('x-sidecar-served-by'), 'backup', path);
      await res.arrayBuffer();
    }
    // AccessDenied is final unless the alias's fallback_on adds it.
    const denied = { type: 'error' as const, status: 403, errorType: 'AccessDeniedException', message: 'not for you' };
    h.emu.script(denied);
    const strict = await call(h, 'messages', 'strict');
    assert.equal(strict.status, 403);
    assert.equal(((await strict.json()) as { error: { type: string } }).error.type, 'permission_error');
    h.emu.script(denied);
    const lenient = await call(h, 'messages', 'lenient');
    assert.equal(lenient.status, 200);
    assert.equal(lenient.headers.get('x-sidecar-served-by'), 'backup');
    await lenient.arrayBuffer();
    const metrics = parsePrometheusText(await (await fetch(`${h.adminUrl}/metrics`)).text());
    assert.equal(valueOf(metrics, 'sidecar_fallbacks_total', { from: 'lenient', to: 'backup', reason: 'access_denied' }), 1);
  } finally {
    await h.close();
  }
});
