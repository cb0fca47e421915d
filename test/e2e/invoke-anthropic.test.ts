/**
 * End to end through the emulator: Claude on the invoke route, streaming and not, with the sidecar
 * parameters, re-chunking, errors before and after the commit, and client disconnects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, parseStream, startHarness, withHarness } from '../helpers/harness.ts';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';

const MODEL = 'claude-invoke';
const hi = [{ role: 'user', content: 'Hi there' }];

test('invoke: a streamed completion has SSE headers, role first, text, finish, usage and one [DONE]', () =>
  withHarness({}, async (h) => {
    h.emu.script({
      type: 'text',
      text: 'Hello, world — from Claude.',
      usage: { inputTokens: 11, outputTokens: 7, cacheReadTokens: 3, cacheWriteTokens: 2 },
    });
    const res = await chat(h, { model: MODEL, stream: true, stream_options: { include_usage: true }, messages: hi });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    assert.equal(res.headers.get('content-length'), null);
    assert.ok(res.headers.get('x-request-id'));
    const s = parseStream(await res.text());
    const first = s.chunks[0]!;
    assert.deepEqual((first.choices as Array<{ delta: unknown }>)[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(first.object, 'chat.completion.chunk');
    assert.equal(first.model, MODEL);
    assert.equal(s.text, 'Hello, world — from Claude.');
    assert.equal(s.finish, 'stop');
    assert.deepEqual(s.usage, {
      prompt_tokens: 16,
      completion_tokens: 7,
      total_tokens: 23,
      prompt_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
    });
    assert.equal(s.doneCount, 1);
    assert.equal(s.frames.at(-1), '[DONE]');
    assert.equal(s.error, undefined);
  }));

test('invoke: stream_chunk_size never reaches Bedrock, and neither do guardrails or stream_options', () =>
  withHarness({}, async (h) => {
    const text = 'a'.repeat(5000);
    h.emu.script({ type: 'text', text, deltas: [text] });
    const res = await chat(h, {
      model: MODEL,
      stream: true,
      stream_chunk_size: 2048,
      guardrails: [],
      stream_options: { include_usage: false },
      messages: hi,
    });
    assert.equal(res.status, 200);
    const s = parseStream(await res.text());
    assert.equal(s.text, text);
    assert.deepEqual(
      s.content.map((c) => c.length),
      [2048, 2048, 904],
    );
    const upstream = h.emu.requests[0]!;
    assert.equal(upstream.status, 200);
    assert.equal(upstream.signature, 'valid');
    const body = upstream.json as Record<string, unknown>;
    for (const key of ['stream_chunk_size', 'guardrails', 'stream_options', 'stream', 'model']) assert.equal(key in body, false, key);
    assert.equal(upstream.rawPath, '/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke-with-response-stream');
  }));

test('invoke: small chunk limits split multi-byte text only between code points, and rejoin byte-identically', () =>
  withHarness({}, async (h) => {
    const text = 'añ€😀b—中\u{1F468}\u200D\u{1F469}z';
    for (const limit of [1, 2, 3, 4, 5, 7]) {
      h.emu.script({ type: 'text', text, deltas: ['añ€', '😀b—', '中\u{1F468}\u200D', '\u{1F469}z'] });
      const res = await chat(h, { model: MODEL, stream: true, stream_chunk_size: limit, messages: hi });
      const s = parseStream(await res.text());
      assert.equal(s.text, text, `limit ${limit}`);
      for (const piece of s.content) {
        const bytes = Buffer.byteLength(piece);
        assert.ok(bytes <= limit || [...piece].length === 1, `limit ${limit}: chunk ${JSON.stringify(piece)} is ${bytes} bytes`);
        assert.ok(!/[\uD800-\uDBFF]$/.test(piece) && !/^[\uDC00-\uDFFF]/.test(piece), 'no split surrogate pair');
      }
    }
  }));

test('invoke: the chunk size comes from the request, else the alias, else the per-pod default', () =>
  withHarness(
    {
      streaming: { stream_chunk_size: 5 },
      models: [
        { name: 'pod-default', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
        { name: 'alias-3', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1', stream_chunk_size: 3 },
      ],
    },
    async (h) => {
      const text = 'abcdefghijklmnopqrstuvwxyz';
      const sizes = async (body: Record<string, unknown>): Promise<number[]> => {
        h.emu.script({ type: 'text', text, deltas: [text] });
        const s = parseStream(await (await chat(h, { stream: true, messages: hi, ...body })).text());
        assert.equal(s.text, text);
        return s.content.map((c) => c.length);
      };
      assert.deepEqual(new Set(await sizes({ model: 'pod-default' })), new Set([5, 1]));
      assert.deepEqual(new Set(await sizes({ model: 'alias-3' })), new Set([3, 2]));
      assert.deepEqual(new Set(await sizes({ model: 'alias-3', stream_chunk_size: 13 })), new Set([13]));
    },
  ));

test('invoke: deltas waiting in one upstream read are coalesced up to the limit', () =>
  withHarness({}, async (h) => {
    const deltas = Array.from({ length: 40 }, (_, i) => `w${i} `);
    h.emu.script({ type: 'text', text: deltas.join(''), deltas });
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, stream_chunk_size: 1024, messages: hi })).text());
    assert.equal(s.text, deltas.join(''));
    assert.ok(s.content.length < deltas.length, `expected coalescing, got ${s.content.length} chunks for ${deltas.length} deltas`);
  }));

test('invoke: an invalid stream_chunk_size is a 400 that names it', () =>
  withHarness({}, async (h) => {
    for (const value of [0, 1048577, 1.5, 'big', -3]) {
      const res = await chat(h, { model: MODEL, stream: true, stream_chunk_size: value, messages: hi });
      assert.equal(res.status, 400, String(value));
      const body = (await res.json()) as { error: { type: string; param: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.equal(body.error.param, 'stream_chunk_size');
      assert.match(body.error.message, /stream_chunk_size/);
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test('invoke: stream false answers one chat.completion with usage', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'text', text: 'Plain answer ✓', usage: { inputTokens: 4, outputTokens: 3 } });
    const res = await chat(h, { model: MODEL, messages: hi, stream_chunk_size: 1 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, MODEL);
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(body.choices[0].message.content, 'Plain answer ✓');
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.deepEqual(body.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } });
    assert.equal(h.emu.requests[0]!.operation, 'InvokeModel');
    assert.equal('stream_chunk_size' in (h.emu.requests[0]!.json as object), false);
  }));

test('invoke: the finish reason maps max_tokens to length and tool_use to tool_calls', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'text', text: 'cut', stopReason: 'max_tokens' });
    assert.equal(parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text()).finish, 'length');
    h.emu.script({
      type: 'tool_use',
      calls: [{ id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' }, argumentDeltas: ['{"city"', ': "Par', 'is"}'] }],
    });
    const res = await chat(h, {
      model: MODEL,
      stream: true,
      messages: hi,
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      ],
    });
    const s = parseStream(await res.text());
    assert.equal(s.finish, 'tool_calls');
    const calls = s.chunks.flatMap((c) => ((c.choices as any[])[0]?.delta?.tool_calls ?? []) as any[]);
    assert.equal(calls[0].index, 0);
    assert.equal(calls[0].id, 'toolu_1');
    assert.equal(calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(calls.map((c) => c.function.arguments ?? '').join('')), { city: 'Paris' });
    const upstream = h.emu.requests[1]!.json as Record<string, any>;
    assert.deepEqual(upstream.tools, [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
  }));

test('invoke: an unknown parameter is a 400 unsupported_parameter, or dropped with drop_params', async () => {
  await withHarness({}, async (h) => {
    const res = await chat(h, { model: MODEL, messages: hi, frobnicate: 1 });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { type: string; param: string } };
    assert.equal(body.error.type, 'unsupported_parameter');
    assert.equal(body.error.param, 'frobnicate');
    const res2 = await chat(h, { model: MODEL, messages: hi, logit_bias: { 1: 2 } });
    assert.equal(res2.status, 400);
    assert.equal(((await res2.json()) as { error: { param: string } }).error.param, 'logit_bias');
    assert.equal(h.emu.requests.length, 0);
  });
  await withHarness({ drop_params: true }, async (h) => {
    const res = await chat(h, { model: MODEL, messages: hi, frobnicate: 1, logit_bias: { 1: 2 }, seed: 4 });
    assert.equal(res.status, 200);
    await res.text();
    const body = h.emu.requests[0]!.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['anthropic_version', 'max_tokens', 'messages']);
  });
});

test('invoke: n greater than 1 is unsupported', () =>
  withHarness({}, async (h) => {
    const res = await chat(h, { model: MODEL, messages: hi, n: 2 });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'unsupported_parameter');
  }));

test('invoke: a Bedrock error before the stream is an HTTP error with the documented status', () =>
  withHarness({}, async (h) => {
    const cases: Array<[number, string, number, string, number]> = [
      [400, 'ValidationException', 400, 'invalid_request_error', 1],
      [403, 'AccessDeniedException', 403, 'permission_error', 1],
      [429, 'ThrottlingException', 429, 'rate_limit_error', 3],
      [400, 'ServiceQuotaExceededException', 429, 'rate_limit_error', 1],
      [503, 'ServiceUnavailableException', 502, 'upstream_error', 3],
      [424, 'ModelErrorException', 502, 'upstream_error', 1],
      [408, 'ModelTimeoutException', 504, 'upstream_timeout', 1],
      [404, 'ResourceNotFoundException', 404, 'model_not_found', 1],
    ];
    for (const [status, errorType, expected, type, attempts] of cases) {
      h.emu.reset();
      for (let i = 0; i < 3; i++) h.emu.script({ type: 'error', status, errorType, message: `${errorType} says no` });
      const res = await chat(h, { model: MODEL, stream: true, messages: hi });
      assert.equal(res.status, expected, errorType);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const body = (await res.json()) as { error: { type: string; message: string; code: number } };
      assert.equal(body.error.type, type, errorType);
      assert.equal(body.error.code, expected);
      assert.match(body.error.message, new RegExp(errorType));
      assert.equal(h.emu.requests.length, attempts, `${errorType} attempts`);
      // Retried here already: an OpenAI SDK is told not to retry on top (its default would triple them).
      assert.equal(res.headers.get('x-should-retry'), attempts > 1 ? 'false' : null, `${errorType} x-should-retry`);
    }
  }));

test('invoke: a throttled first attempt is retried, re-signed, and then streams', () =>
  withHarness({}, async (h) => {
    h.emu.script(
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'slow down' },
      { type: 'text', text: 'second time lucky' },
    );
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(s.text, 'second time lucky');
    assert.equal(h.emu.requests.length, 2);
    assert.ok(h.emu.requests.every((r) => r.signature === 'valid'));
  }));

test('invoke: an exception after the 200 ends the stream with an error frame and [DONE], never a finish', () =>
  withHarness({}, async (h) => {
    const cases: Array<[string, string, number]> = [
      ['throttlingException', 'rate_limit_error', 429],
      ['modelStreamErrorException', 'upstream_error', 502],
      ['internalServerException', 'upstream_error', 502],
      ['serviceUnavailableException', 'upstream_error', 502],
      ['validationException', 'invalid_request_error', 400],
      ['modelTimeoutException', 'upstream_timeout', 504],
    ];
    for (const [exceptionType, type, code] of cases) {
      h.emu.script({
        type: 'text',
        text: 'partial answer that breaks',
        fault: { afterFrames: 3, kind: 'exception', exceptionType: exceptionType as never },
      });
      const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
      assert.equal(s.finish, null, exceptionType);
      assert.equal(s.error?.type, type);
      assert.equal(s.error?.code, code);
      assert.equal(s.frames.at(-1), '[DONE]');
      assert.equal(s.frames.at(-2)?.startsWith('{"error":'), true);
      assert.equal(s.doneCount, 1);
    }
  }));

test('invoke: corrupt frames, resets and a cut stream are upstream_protocol_error frames', () =>
  withHarness({}, async (h) => {
    for (const kind of ['corrupt-crc', 'corrupt-prelude', 'truncate', 'end', 'reset'] as const) {
      h.emu.script({ type: 'text', text: 'some text that will not finish cleanly', fault: { afterFrames: 2, kind } });
      const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
      assert.equal(s.finish, null, kind);
      assert.equal(s.error?.type, 'upstream_protocol_error', kind);
      assert.equal(s.error?.code, 502);
      assert.equal(s.doneCount, 1);
    }
    // the pool is still healthy afterwards
    h.emu.script({ type: 'text', text: 'fine again' });
    assert.equal(parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text()).text, 'fine again');
  }));

test('invoke: a client that disconnects mid-stream aborts the upstream request', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'text', text: 'x'.repeat(20), repeat: 500, frameDelayMs: 20 });
    const controller = new AbortController();
    const res = await chat(h, { model: MODEL, stream: true, messages: hi }, {}, controller.signal);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const done = await h.emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.ok(done.framesWritten < 500);
  }));

test('invoke: a client that disconnects before the first token aborts the upstream request', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'delay', ms: 3000, then: { type: 'text', text: 'too late' } });
    const controller = new AbortController();
    const pending = chat(h, { model: MODEL, stream: true, messages: hi }, {}, controller.signal).catch((e: Error) => e);
    while (h.emu.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    assert.ok((await pending) instanceof Error);
    const done = await h.emu.requests[0]!.done;
    assert.equal(done.clientAborted, true);
    assert.equal(done.framesWritten, 0);
  }));

test('invoke: a 200 that is not an event stream is an error, never an empty success', async () => {
  // A bare upstream that answers 200 with the JSON envelope of an unknown operation.
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Output: { __type: 'com.amazon.coral.service#UnknownOperationException' }, Version: '1.0' }));
  });
  const h = await startHarness({}, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    for (const stream of [true, false]) {
      const res = await chat(h, { model: MODEL, stream, messages: hi });
      assert.equal(res.status, 502, `stream: ${stream}`);
      const body = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'upstream_protocol_error');
    }
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('invoke: an event stream with no events is a protocol error after the 200, not a success', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'raw', events: [] });
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(s.finish, null);
    assert.equal(s.error?.type, 'upstream_protocol_error');
    assert.equal(s.doneCount, 1);
  }));

test('invoke: a chunk that is not JSON, or of the wrong shape, ends in a protocol error frame and nothing crashes', () =>
  withHarness({}, async (h) => {
    h.emu.script({ type: 'raw', events: [{ type: 'message_start', message: { usage: { input_tokens: 1 } } }, '{not json'] });
    const s = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(s.error?.type, 'upstream_protocol_error');
    assert.equal(s.finish, null);
    h.emu.script({
      type: 'raw',
      events: [
        { type: 'content_block_delta', index: 0, delta: null },
        { type: 'content_block_start', index: 'x', content_block: 7 },
        42,
        [],
        { type: 'message_stop' },
      ],
    });
    const odd = parseStream(await (await chat(h, { model: MODEL, stream: true, messages: hi })).text());
    assert.equal(odd.doneCount, 1);
    assert.ok(odd.finish === 'stop' || odd.error?.type === 'upstream_protocol_error', JSON.stringify(odd.frames));
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
  }));
