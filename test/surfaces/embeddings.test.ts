/**
 * POST /v1/embeddings end to end: the official `openai` SDK (float and its default base64) against the
 * sidecar and the emulator for every family, batches larger than each model's limit split and kept in
 * order, Bedrock's token counts summed, and the 400s that must come before any call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { deterministicVector, tokenEstimate, type EmbeddingModelName } from '../../src/emulator/embeddings.ts';
import { gate } from '../helpers/emulator.ts';
import { CLAUDE_INVOKE, startHarness, type Harness } from '../helpers/harness.ts';
import { EMBEDDING_ALIASES } from './embeddings-helpers.ts';

/** alias → the emulator's model, its size, the texts one call takes, and the request size that overflows it. */
const FAMILIES: Array<{ alias: string; emulated: EmbeddingModelName; dims: number; perCall: number; inputs: number }> = [
  { alias: 'titan-embed', emulated: 'titan-v2', dims: 512, perCall: 1, inputs: 5 },
  { alias: 'cohere-v4', emulated: 'cohere-v4', dims: 256, perCall: 96, inputs: 200 },
  { alias: 'cohere-v3', emulated: 'cohere-v3', dims: 1024, perCall: 96, inputs: 97 },
  { alias: 'nova-embed', emulated: 'nova-mme', dims: 1024, perCall: 1, inputs: 3 },
];

function texts(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `${tag} passage ${i} — ünïcödé ${'x'.repeat(i % 7)}`);
}

/** Compares as float32, which is what both Bedrock's JSON and the base64 form carry. */
function assertVector(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: size`);
  for (let i = 0; i < expected.length; i++) {
    if (Math.fround(actual[i]!) !== Math.fround(expected[i]!))
      assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

function post(h: Harness, body: unknown): Promise<Response> {
  return fetch(`${h.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('embeddings with the openai SDK', () => {
  let h: Harness;
  let client: OpenAI;
  before(async () => {
    h = await startHarness({ models: [...EMBEDDING_ALIASES, CLAUDE_INVOKE], upstream: { max_attempts: 2 } });
    client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  after(async () => h.close());

  for (const f of FAMILIES) {
    for (const format of ['float', 'base64 (the SDK default)'] as const) {
      test(`openai SDK embeddings.create, ${f.alias}, ${format}: ${f.inputs} inputs in ${Math.ceil(f.inputs / f.perCall)} calls, order and usage kept`, async () => {
        h.emu.reset();
        const input = texts(f.inputs, `${f.alias} ${format}`);
        const answer =
          format === 'float'
            ? await client.embeddings.create({ model: f.alias, input, encoding_format: 'float' })
            : await client.embeddings.create({ model: f.alias, input });
        assert.equal(answer.object, 'list');
        assert.equal(answer.model, f.alias);
        assert.equal(answer.data.length, f.inputs);
        answer.data.forEach((d, i) => {
          assert.equal(d.index, i);
          assert.equal(d.object, 'embedding');
          assertVector(d.embedding, deterministicVector(f.emulated, input[i]!, f.dims), `input ${i}`);
        });
        const tokens = input.reduce((sum, t) => sum + tokenEstimate(t), 0);
        assert.deepEqual(answer.usage, { prompt_tokens: tokens, total_tokens: tokens });
        const calls = h.emu.requests;
        assert.equal(calls.length, Math.ceil(f.inputs / f.perCall), "one call per batch of the model's size");
        for (const call of calls) {
          assert.equal(call.operation, 'InvokeModel');
          assert.equal(call.signature, 'valid');
          assert.equal(call.status, 200);
        }
        if (f.perCall > 1) {
          const sizes = calls.map((c) => (c.json as { texts: string[] }).texts.length).sort((a, b) => b - a);
          assert.ok(
            sizes.every((s) => s <= f.perCall),
            `no call over ${f.perCall} texts: ${sizes.join(', ')}`,
          );
        }
      });
    }
  }

  test('embeddings: a single string input is one embedding; the same text always gets the same vector', async () => {
    const a = await client.embeddings.create({ model: 'titan-embed', input: 'same text', encoding_format: 'float' });
    const b = await client.embeddings.create({ model: 'titan-embed', input: ['other', 'same text'], encoding_format: 'float' });
    assert.equal(a.data.length, 1);
    assert.deepEqual(a.data[0]!.embedding, b.data[1]!.embedding);
    assert.notDeepEqual(b.data[0]!.embedding, b.data[1]!.embedding);
  });

  test("embeddings: the request's dimensions override the alias's and reach Bedrock as the family's own key", async () => {
    h.emu.reset();
    const titan = await client.embeddings.create({ model: 'titan-embed', input: 'x', dimensions: 256, encoding_format: 'float' });
    assert.equal(titan.data[0]!.embedding.length, 256);
    const cohere = await client.embeddings.create({ model: 'cohere-v4', input: 'x', dimensions: 512, encoding_format: 'float' });
    assert.equal(cohere.data[0]!.embedding.length, 512);
    const nova = await client.embeddings.create({ model: 'nova-embed', input: 'x', dimensions: 384, encoding_format: 'float' });
    assert.equal(nova.data[0]!.embedding.length, 384);
    const bodies = h.emu.requests.map((r) => r.json as Record<string, unknown>);
    assert.equal(bodies[0]!.dimensions, 256);
    assert.equal(bodies[1]!.output_dimension, 512);
    assert.equal(bodies[1]!.input_type, 'search_query', "the alias's input_type");
    assert.equal((bodies[2]!.singleEmbeddingParams as Record<string, unknown>).embeddingDimension, 384);
  });

  test('embeddings: a route string serves too, and /embeddings is an alias of /v1/embeddings', async () => {
    const res = await fetch(`${h.url}/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'bedrock/invoke/cohere.embed-multilingual-v3', input: ['a', 'b'] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: Array<{ embedding: number[] }>; model: string };
    assert.equal(body.model, 'bedrock/invoke/cohere.embed-multilingual-v3');
    assert.equal(body.data[1]!.embedding.length, 1024);
  });

  const BAD: Array<[string, Record<string, unknown>, number, string, RegExp]> = [
    ['token-array input', { model: 'titan-embed', input: [1, 2, 3] }, 400, 'input', /token-array input is not supported/],
    ['a list of token arrays', { model: 'cohere-v4', input: [[1, 2], [3]] }, 400, 'input', /token-array input is not supported/],
    ['an empty string', { model: 'titan-embed', input: '' }, 400, 'input', /empty string/],
    ['an empty string in the list', { model: 'cohere-v4', input: ['a', ''] }, 400, 'input', /"input\[1\]" is an empty string/],
    ['an empty list', { model: 'cohere-v4', input: [] }, 400, 'input', /empty list/],
    ['a non-string item', { model: 'cohere-v4', input: ['a', { text: 'b' }] }, 400, 'input', /"input\[1\]" must be a string/],
    ['no input', { model: 'cohere-v4' }, 400, 'input', /"input" is required/],
    [
      'a chat model',
      { model: 'claude-invoke', input: 'x' },
      400,
      'model',
      /"claude-invoke" is not an embedding model \(anthropic family\)/,
    ],
    [
      'a size Titan cannot give',
      { model: 'titan-embed', input: 'x', dimensions: 100 },
      400,
      'dimensions',
      /Titan Text Embeddings v2 gives 256, 512 or 1024 dimensions, not 100/,
    ],
    [
      'a size Cohere v3 cannot give',
      { model: 'cohere-v3', input: 'x', dimensions: 512 },
      400,
      'dimensions',
      /Cohere Embed v3 gives 1024 dimensions, not 512/,
    ],
    ['a size that is not an integer', { model: 'cohere-v4', input: 'x', dimensions: 'big' }, 400, 'dimensions', /positive integer/],
    ['an unknown encoding', { model: 'cohere-v4', input: 'x', encoding_format: 'int8' }, 400, 'encoding_format', /"float" or "base64"/],
    [
      'an unknown parameter',
      { model: 'cohere-v4', input: 'x', truncate: 'END' },
      400,
      'truncate',
      /"truncate" is not an embeddings parameter/,
    ],
    [
      'the converse route',
      { model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'x' },
      400,
      'model',
      /use bedrock\/invoke\/amazon\.titan-embed-text-v2:0/,
    ],
    ['an unknown alias', { model: 'nope', input: 'x' }, 404, 'model', /The model "nope" does not exist/],
  ];
  for (const [what, body, status, param, message] of BAD) {
    test(`embeddings: ${what} is a ${status} naming "${param}", before any Bedrock call`, async () => {
      h.emu.reset();
      const res = await post(h, body);
      assert.equal(res.status, status);
      const { error } = (await res.json()) as { error: { message: string; param: string; type: string } };
      assert.equal(error.param, param);
      assert.match(error.message, message);
      assert.equal(h.emu.requests.length, 0, 'no Bedrock call');
    });
  }

  test('embeddings: user is accepted and goes nowhere', async () => {
    h.emu.reset();
    const res = await post(h, { model: 'cohere-v4', input: 'x', user: 'user-42' });
    assert.equal(res.status, 200);
    assert.ok(!h.emu.requests[0]!.body.toString().includes('user-42'));
  });

  test("embeddings: one failed call fails the whole request with the chat surface's mapping, no partial list", async () => {
    h.emu.reset();
    h.emu.script({
      type: 'error',
      status: 400,
      errorType: 'ValidationException',
      message: 'Malformed input request: #/inputText: too long',
    });
    const res = await post(h, { model: 'titan-embed', input: texts(4, 'fail') });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /ValidationException: Malformed input request/);
    assert.ok(!('data' in error));
  });

  test('embeddings: throttling is retried like chat; past upstream.max_attempts it is a 429 with x-should-retry: false', async () => {
    h.emu.reset();
    const throttle = { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Too many requests' } as const;
    h.emu.script(throttle);
    const ok = await post(h, { model: 'cohere-v4', input: ['a', 'b'] });
    assert.equal(ok.status, 200);
    assert.equal(h.emu.requests.length, 2, 'one retry');
    const line = h.logs.filter((l) => l.msg === 'request completed' && l.surface === 'embeddings').at(-1)!;
    assert.equal(line.retries, 1);

    h.emu.script(throttle, throttle);
    const failed = await post(h, { model: 'cohere-v4', input: ['a', 'b'] });
    assert.equal(failed.status, 429);
    assert.equal(failed.headers.get('x-should-retry'), 'false');
    assert.equal(((await failed.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
  });

  test(`embeddings: calls for one request run at most 8 at a time`, async () => {
    h.emu.reset();
    // Every call is held until the test opens the gate: with a 300 ms delay, the first calls of a loaded
    // machine were answered before the eighth arrived, and a ninth rightly followed.
    const held = gate();
    const slow = Array.from(
      { length: 12 },
      () => ({ type: 'delay', ms: 60_000, until: held.opened, then: { type: 'text', text: '' } }) as const,
    );
    h.emu.script(...slow);
    const pending = post(h, { model: 'titan-embed', input: texts(12, 'bounded') });
    try {
      const deadline = Date.now() + 20_000;
      while (h.emu.requests.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(h.emu.requests.length, 8, 'the ninth call waits for one of the first eight');
    } finally {
      held.open();
    }
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(h.emu.requests.length, 12);
  });

  test('embeddings: a Cohere batch answered after the later ones still takes its place: input order is kept', async () => {
    h.emu.reset();
    // The first call to arrive (the first batch of 96) is held until the other two have been answered.
    const held = gate();
    h.emu.script({ type: 'delay', ms: 60_000, until: held.opened, then: { type: 'text', text: '' } });
    const input = texts(200, 'out of order');
    const pending = client.embeddings.create({ model: 'cohere-v4', input, encoding_format: 'float' });
    try {
      const deadline = Date.now() + 20_000;
      while (h.emu.requests.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(h.emu.requests.slice(1).map((r) => r.done));
    } finally {
      held.open();
    }
    const answer = await pending;
    assert.equal(answer.data.length, 200);
    answer.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assertVector(d.embedding, deterministicVector('cohere-v4', input[i]!, 256), `input ${i}`);
    });
  });

  test('embeddings: the log line and the request metric say surface embeddings', async () => {
    await client.embeddings.create({ model: 'nova-embed', input: ['one', 'two'] });
    const line = h.logs.filter((l) => l.msg === 'request completed').at(-1)!;
    assert.equal(line.surface, 'embeddings');
    assert.equal(line.alias, 'nova-embed');
    assert.equal(line.inputs, 2);
    assert.equal(line.calls, 2);
    assert.equal(line.inputTokens, tokenEstimate('one') + tokenEstimate('two'));
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    const counted = metrics
      .split('\n')
      .find((l) => l.startsWith('sidecar_requests_total{') && l.includes('model="nova-embed"') && l.includes('status="200"'));
    assert.ok(counted, 'the request is counted');
    assert.match(counted, /surface="embeddings"/);
  });

  test('embeddings: a chat request to an embedding alias is a 400, not a Bedrock call', async () => {
    h.emu.reset();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'titan-embed', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /"titan-embed" is an embedding model \(amazon-titan-embed\): it answers POST \/v1\/embeddings only/,
    );
    assert.equal(h.emu.requests.length, 0);
  });
});

describe('embeddings with drop_params', () => {
  test('embeddings: drop_params drops an unknown parameter instead of a 400', async () => {
    const h = await startHarness({ models: EMBEDDING_ALIASES, drop_params: true });
    try {
      const res = await post(h, { model: 'cohere-v4', input: 'x', truncate: 'END' });
      assert.equal(res.status, 200);
      assert.ok(!h.emu.requests[0]!.body.toString().includes('truncate'));
    } finally {
      await h.close();
    }
  });
});

/** Every call the emulator recorded, once each has ended (calls still arriving are waited for too). */
async function settled(h: Harness): Promise<Array<{ clientAborted: boolean; status: number | undefined }>> {
  let seen = -1;
  while (seen !== h.emu.requests.length) {
    seen = h.emu.requests.length;
    await Promise.all(h.emu.requests.map((r) => r.done));
  }
  return Promise.all(h.emu.requests.map(async (r) => ({ clientAborted: (await r.done).clientAborted, status: r.status })));
}

describe('embeddings: calls that are no longer needed', () => {
  const slow = { type: 'delay', ms: 10_000, then: { type: 'text', text: '' } } as const;

  test('embeddings: the first failed call aborts the calls still in flight', async () => {
    const h = await startHarness({ models: EMBEDDING_ALIASES });
    try {
      // The failure comes after the other three calls have arrived (they are sent at once: 4 < 8).
      h.emu.script(
        { type: 'delay', ms: 300, then: { type: 'error', status: 400, errorType: 'ValidationException', message: 'bad' } },
        slow,
        slow,
        slow,
      );
      const res = await post(h, { model: 'titan-embed', input: texts(4, 'abort') });
      assert.equal(res.status, 400);
      const calls = await settled(h);
      assert.equal(calls.length, 4);
      assert.deepEqual(
        calls.filter((c) => c.status !== 400).map((c) => c.clientAborted),
        [true, true, true],
      );
    } finally {
      await h.close();
    }
  });

  test('embeddings: a client that goes away aborts every Bedrock call of its request', async () => {
    const h = await startHarness({ models: EMBEDDING_ALIASES });
    try {
      h.emu.script(slow, slow, slow);
      const controller = new AbortController();
      const pending = fetch(`${h.url}/v1/embeddings`, {
        method: 'POST',
        body: JSON.stringify({ model: 'nova-embed', input: texts(3, 'gone') }),
        signal: controller.signal,
      }).catch(() => undefined);
      const deadline = Date.now() + 5_000;
      while (h.emu.requests.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      await pending;
      assert.deepEqual(
        (await settled(h)).map((c) => c.clientAborted),
        [true, true, true],
      );
      while (!h.logs.some((l) => l.msg === 'request completed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const line = h.logs.find((l) => l.msg === 'request completed')!;
      assert.equal(line.cancelled, true);
      assert.equal(line.surface, 'embeddings');
    } finally {
      await h.close();
    }
  });
});

test('embeddings: refusals for want of memory (server.max_inflight_bytes) count in sidecar_requests_shed_total as on the chat path', async () => {
  const KiB = 1024;
  const h = await startHarness({
    models: [...EMBEDDING_ALIASES, CLAUDE_INVOKE],
    server: { max_body_bytes: 64 * KiB, max_inflight_bytes: 96 * KiB },
  });
  const held = gate();
  try {
    // A 60 KiB body held while Bedrock thinks (on the first of its three texts); a second one does not fit beside it.
    h.emu.script({ type: 'delay', ms: 60_000, until: held.opened, then: { type: 'text', text: '' } });
    const big = ['a', 'b', 'c'].map((c) => c.repeat(20 * KiB));
    const first = post(h, { model: 'titan-embed', input: big });
    const deadline = Date.now() + 20_000;
    while (h.emu.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const second = await post(h, { model: 'titan-embed', input: big });
    assert.equal(second.status, 503, await second.clone().text());
    const refused = ((await second.json()) as { error: { type: string; message: string } }).error;
    assert.equal(refused.type, 'unavailable');
    assert.match(refused.message, /memory budget for request bodies in flight \(server\.max_inflight_bytes/);
    held.open();
    assert.equal((await first).status, 200);

    // An answer larger than the whole budget is not buffered: 20 Cohere vectors of 1024 floats are ~400 KB of JSON.
    const answer = await post(h, { model: 'cohere-v3', input: texts(20, 'wide') });
    assert.equal(answer.status, 503);
    assert.match(((await answer.json()) as { error: { message: string } }).error.message, /buffered Bedrock answers/);
    // Each call's answer is given back once parsed: many calls in a row, each within the budget, pass.
    assert.equal((await post(h, { model: 'titan-embed', input: texts(12, 'in turn') })).status, 200);

    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    assert.match(metrics, /sidecar_requests_shed_total\{what="body"\} 1\n/);
    assert.match(metrics, /sidecar_requests_shed_total\{what="answer"\} 1\n/);
    // The body is refused as it arrives, before its model is read.
    assert.match(metrics, /sidecar_requests_total\{model="unknown",route="none",status="503",surface="embeddings"\} 1\n/);
    assert.match(metrics, /sidecar_requests_total\{model="cohere-v3",route="invoke",status="503",surface="embeddings"\} 1\n/);
  } finally {
    held.open();
    await h.close();
  }
});
