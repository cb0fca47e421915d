/**
 * Metrics (docs/contract.md#observability), end to end: traffic through the sidecar to the emulator (streamed, whole,
 * retried, blocked by a guardrail, unknown model, direct route string), then a scrape of /metrics on the admin
 * listener, parsed strictly, and the series asserted with their labels and values.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gate } from '../helpers/emulator.ts';
import { chat as sendChat, startHarness, type Harness } from '../helpers/harness.ts';
import { CLAUDE, chat, sseChunks } from './helpers.ts';
import { parsePrometheusText, sumOf, valueOf, type Family } from './prom-text.ts';

let r: Harness;

before(async () => {
  r = await startHarness(
    {
      guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'], action: 'block' }],
      models: [
        { name: 'claude', model: CLAUDE, region: 'us-east-1' },
        { name: 'guarded', model: CLAUDE, region: 'us-east-1', guardrails: ['no-secrets'] },
      ],
      logging: { level: 'info' },
    },
    { app: { processMetrics: true } },
  );
});

after(() => r?.close());

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(`${r.adminUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parsePrometheusText(await res.text());
}

const TEXT = 'Streams are measured: one chunk at a time, each counted.';

test('metrics: traffic through the sidecar shows up in the documented series (docs/contract.md#observability), with bounded labels', async () => {
  // 1. a stream, cut into small chunks, with usage
  r.emu.script({ type: 'text', text: TEXT, usage: { inputTokens: 11, outputTokens: 7 } });
  const streamed = await chat(r, {
    model: 'claude',
    stream: true,
    stream_chunk_size: 8,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'count me' }],
  });
  assert.equal(streamed.status, 200);
  const frames = sseChunks(streamed.text);

  // 2. a whole answer
  r.emu.script({ type: 'text', text: 'whole', usage: { inputTokens: 5, outputTokens: 3 } });
  assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: 'once' }] })).status, 200);

  // 3. throttled once, then answered: one retry
  r.emu.script(
    { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
    { type: 'text', text: 'after a retry', usage: { inputTokens: 2, outputTokens: 4 } },
  );
  assert.equal((await chat(r, { model: 'claude', messages: [{ role: 'user', content: 'retry' }] })).status, 200);

  // 4. an input guardrail block, 5. a model nobody configured, 6. a direct route string
  assert.equal(
    (await chat(r, { model: 'guarded', messages: [{ role: 'user', content: 'Tell me about Project Nightingale' }] })).status,
    400,
  );
  assert.equal((await chat(r, { model: 'free-form-model-name-xyz', messages: [{ role: 'user', content: 'x' }] })).status, 404);
  r.emu.script({ type: 'text', text: 'direct', usage: { inputTokens: 1, outputTokens: 1 } });
  assert.equal((await chat(r, { model: CLAUDE, messages: [{ role: 'user', content: 'direct' }] })).status, 200);

  const m = await scrape();

  // sidecar_requests_total{model,route,status}
  assert.equal(m.get('sidecar_requests_total')?.type, 'counter');
  assert.equal(valueOf(m, 'sidecar_requests_total', { model: 'claude', route: 'invoke', status: '200', surface: 'chat' }), 3);
  assert.equal(valueOf(m, 'sidecar_requests_total', { model: 'guarded', route: 'invoke', status: '400', surface: 'chat' }), 1);
  assert.equal(valueOf(m, 'sidecar_requests_total', { model: 'direct', route: 'invoke', status: '200', surface: 'chat' }), 1);
  assert.equal(sumOf(m, 'sidecar_requests_total', { status: '404' }), 1);
  assert.equal(sumOf(m, 'sidecar_requests_total'), 6);

  // durations and time to first token: histograms with LLM-sized buckets
  assert.equal(m.get('sidecar_request_duration_seconds')?.type, 'histogram');
  assert.equal(valueOf(m, 'sidecar_request_duration_seconds_count', { model: 'claude', route: 'invoke', surface: 'chat' }), 3);
  const ttft = m.get('sidecar_time_to_first_token_seconds');
  assert.equal(ttft?.type, 'histogram');
  const les = ttft.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.model === 'claude').map((s) => s.labels.le);
  assert.equal(les[0], '0.05', 'the first bucket is 50 ms');
  assert.ok(les.includes('30'), 'buckets reach 30 s');
  assert.equal(les.at(-1), '+Inf');
  assert.ok(les.length >= 10, `enough buckets between 50 ms and 30 s to read a p99 from (${les.length})`);
  assert.ok((valueOf(m, 'sidecar_time_to_first_token_seconds_count', { model: 'claude', route: 'invoke', surface: 'chat' }) ?? 0) >= 1);

  // chunks: at least every content frame (the exact count is the todo test below)
  const content = frames.filter(
    (f) =>
      typeof (f.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content === 'string' &&
      (f.choices as Array<{ delta: { content: string } }>)[0]!.delta.content !== '',
  );
  assert.equal(content.length, Math.ceil(TEXT.length / 8), 'stream_chunk_size 8 cut the text into 8-byte chunks');
  const counted = sumOf(m, 'sidecar_stream_chunks_total', { model: 'claude' });
  assert.ok(
    counted >= content.length && counted <= frames.length,
    `sidecar_stream_chunks_total ${counted}, ${content.length} content frames, ${frames.length} frames`,
  );

  // tokens by direction
  assert.equal(valueOf(m, 'sidecar_tokens_total', { direction: 'input', model: 'claude', surface: 'chat' }), 11 + 5 + 2);
  assert.equal(valueOf(m, 'sidecar_tokens_total', { direction: 'output', model: 'claude', surface: 'chat' }), 7 + 3 + 4);

  // guardrail interventions and retries
  assert.equal(valueOf(m, 'sidecar_guardrail_interventions_total', { guardrail: 'no-secrets', action: 'block', surface: 'chat' }), 1);
  assert.equal(sumOf(m, 'sidecar_upstream_retries_total'), 1);
  assert.equal(sumOf(m, 'sidecar_upstream_retries_total', { surface: 'chat' }), 1, 'the retry is labelled with its surface');

  // nothing in flight once everything ended
  assert.equal(m.get('sidecar_inflight_streams')?.type, 'gauge');
  for (const surface of ['chat', 'messages', 'responses', 'native'])
    assert.equal(valueOf(m, 'sidecar_inflight_streams', { surface }), 0, surface);

  // bounded labels: aliases, `direct`, or a fixed placeholder — never the model string a client sent
  for (const family of m.values()) {
    if (!family.name.startsWith('sidecar_')) continue;
    for (const s of family.samples) {
      for (const [label, value] of Object.entries(s.labels)) {
        assert.ok(
          !value.includes('free-form-model-name-xyz') && !value.includes('anthropic.'),
          `${s.name}{${label}="${value}"} is unbounded`,
        );
      }
      if (s.labels.route !== undefined) assert.match(s.labels.route, /^(invoke|converse|none)$/);
      if (s.labels.status !== undefined) assert.match(s.labels.status, /^(\d{3}(_[a-z_]+)?|cancelled)$/);
      // The in-flight gauges of the other streaming surfaces are there at 0 from the start.
      if (s.labels.surface !== undefined && s.name !== 'sidecar_inflight_streams') {
        assert.equal(s.labels.surface, 'chat', 'every request here came through Chat Completions');
      }
    }
  }
});

test('metrics: sidecar_stream_chunks_total counts exactly the data frames a client receives', async () => {
  for (const includeUsage of [true, false]) {
    const before = sumOf(await scrape(), 'sidecar_stream_chunks_total', { model: 'claude' });
    r.emu.script({ type: 'text', text: TEXT, usage: { inputTokens: 1, outputTokens: 1 } });
    const res = await chat(r, {
      model: 'claude',
      stream: true,
      stream_chunk_size: 16,
      stream_options: { include_usage: includeUsage },
      messages: [{ role: 'user', content: 'x' }],
    });
    const after = sumOf(await scrape(), 'sidecar_stream_chunks_total', { model: 'claude' });
    assert.equal(after - before, sseChunks(res.text).length, `include_usage: ${includeUsage}`);
  }
});

test('metrics: sidecar_inflight_streams counts a stream while it runs', async () => {
  // The stream pauses until the scrape was read (a stream paced at 100 ms a frame could end first on a
  // loaded machine).
  const held = gate();
  r.emu.script({
    type: 'text',
    text: 'slow stream',
    deltas: ['slow ', 'stream'],
    pause: { afterFrames: 3, until: held.opened, ms: 60_000 },
  });
  const res = await sendChat(r, { model: 'claude', stream: true, messages: [{ role: 'user', content: 'slowly' }] });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  try {
    await reader.read(); // the stream is committed and running
    assert.equal(valueOf(await scrape(), 'sidecar_inflight_streams', { surface: 'chat' }), 1);
  } finally {
    held.open();
  }
  while (!(await reader.read()).done);
  // The count drops as the stream's pipeline finishes, which need not be before the client read the end.
  const deadline = Date.now() + 10_000;
  while (valueOf(await scrape(), 'sidecar_inflight_streams', { surface: 'chat' }) !== 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(valueOf(await scrape(), 'sidecar_inflight_streams', { surface: 'chat' }), 0);
});

test('metrics: the default process metrics are exposed beside the sidecar series', async () => {
  const m = await scrape();
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
  ]) {
    assert.ok(m.has(name), `${name} is missing`);
  }
  for (const name of [
    'sidecar_requests_total',
    'sidecar_request_duration_seconds',
    'sidecar_time_to_first_token_seconds',
    'sidecar_stream_chunks_total',
    'sidecar_tokens_total',
    'sidecar_guardrail_interventions_total',
    'sidecar_upstream_retries_total',
    'sidecar_inflight_streams',
  ]) {
    assert.ok(m.get(name)?.help, `${name} has no HELP`);
  }
});

test('metrics: the strict exposition parser rejects what Prometheus would reject', () => {
  const bad = [
    'x{a="1"} 1\n# TYPE x counter\n',
    '# TYPE x counter\nx 1\n# TYPE y gauge\ny 1\nx{a="2"} 1\n',
    '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n',
    '# TYPE x gauge\nx{a="\\q"} 1\n',
    '# TYPE x gauge\nx{1a="1"} 1\n',
    '# TYPE x gauge\nx one\n',
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    '# TYPE x gauge\nx 1',
  ];
  for (const text of bad) assert.throws(() => parsePrometheusText(text), JSON.stringify(text));
  const ok = parsePrometheusText('# HELP x a "help"\n# TYPE x counter\nx{a="q\\"uote",b="back\\\\slash"} 3 1700000000000\n');
  assert.deepEqual(ok.get('x')?.samples, [{ name: 'x', labels: { a: 'q"uote', b: 'back\\slash' }, value: 3 }]);
});
