/**
 * Every recording of real Bedrock Runtime in test/fixtures/real-traffic/ through the sidecar's real process
 * (`src/main.ts`, spawned as `npm start` runs it), from an upstream on 127.0.0.1 that replays the recorded
 * status, `x-amzn-*` headers and body bytes: whole, one byte per write, at seeded random splits, and again
 * with `stream_chunk_size: 5`. What the client gets is checked against an oracle computed here from the
 * recorded native events (own event-stream reader, own reading of each family's format; nothing from
 * src/providers or src/pipeline): content byte-identical, reasoning only in `reasoning_content`, tool calls
 * (id, name, arguments), exactly one finish reason with the documented mapping, usage, exactly one
 * `[DONE]`, and the documented HTTP error for the recorded errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRecordings, type Recording } from '../helpers/real-traffic.ts';
import { expectedOf, type Json, type ToolCall, type Usage } from '../helpers/real-traffic-oracle.ts';
import { killSidecar, spawnSidecar, writeConfigFile, type Sidecar } from '../helpers/sidecar-process.ts';
import { seeded } from '../helpers/streams.ts';
import { chat } from '../helpers/harness.ts';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.ts';

/** Chat's `prompt_tokens_details`: the cache reads, and the writes when there were any. */
function promptDetails(usage: Usage): Record<string, number> {
  return usage.cache_write_tokens > 0
    ? { cached_tokens: usage.cached_tokens, cache_write_tokens: usage.cache_write_tokens }
    : { cached_tokens: usage.cached_tokens };
}

// ---------------------------------------------------------------------------------------------------------
// The replay upstream and the sidecar process.

type Split = 'whole' | 'bytes' | 'random';

interface Replay {
  recording: Recording;
  split: Split;
  seed: number;
  served: number;
}
let current: Replay | undefined;
let upstream: HostileUpstream;
let sidecar: Sidecar;
let proxy = '';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function writeSplit(res: import('node:http').ServerResponse, body: Buffer, split: Split, seed: number): Promise<void> {
  if (split === 'whole') {
    res.end(body);
    return;
  }
  const random = seeded(seed); // the suite's seeded PRNG: a failing split can be replayed
  // One write per piece; the event loop turns every few writes (each turn costs more than the write).
  for (let at = 0, writes = 0; at < body.length; writes++) {
    const size = split === 'bytes' ? 1 : 1 + Math.floor(random() * 97);
    if (!res.write(body.subarray(at, at + size))) await new Promise((resolve) => res.once('drain', resolve));
    at += size;
    if (writes % 8 === 7) await turn();
  }
  res.end();
}

before(async () => {
  upstream = await startHostileUpstream((req, res) => {
    const replay = current;
    if (!replay) {
      res.writeHead(500).end();
      return;
    }
    replay.served++;
    const { recording } = replay;
    assert.ok(req.url?.startsWith('/model/'), req.url);
    res.writeHead(recording.status, { ...recording.headers, 'content-length': recording.body.length });
    res.flushHeaders();
    void writeSplit(res, recording.body, replay.split, replay.seed);
  });
  const config = writeConfigFile(
    'server: {port: 0, admin_port: 0, admin_host: 127.0.0.1}\nlogging: {level: info}\nupstream: {max_attempts: 1}\nmodels: []\n',
  );
  sidecar = spawnSidecar(['--config', config], { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url });
  await sidecar.ready;
  proxy = sidecar.proxy;
});

after(async () => {
  await killSidecar(sidecar);
  await upstream.close();
});

// ---------------------------------------------------------------------------------------------------------
// One replay, checked.

interface Run {
  split: Split;
  seed: number;
  chunkSize?: number;
}

async function replay(rec: Recording, run: Run): Promise<void> {
  const label = `${rec.id} (${run.split}${run.split === 'random' ? ` seed ${run.seed}` : ''}${run.chunkSize ? `, stream_chunk_size ${run.chunkSize}` : ''})`;
  const expected = expectedOf(rec);
  const stream = rec.operation.endsWith('stream');
  current = { recording: rec, split: run.split, seed: run.seed, served: 0 };
  const res = await chat(
    proxy,
    {
      model: rec.route,
      stream,
      messages: [{ role: 'user', content: 'Hello' }],
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      ...(run.chunkSize ? { stream_chunk_size: run.chunkSize } : {}),
    },
    {},
    AbortSignal.timeout(20_000),
  );
  const text = await res.text();
  assert.equal(current.served, 1, `${label}: one upstream call`);
  if (expected.kind === 'error') {
    assert.equal(res.status, expected.status, `${label}: ${text}`);
    assert.equal((JSON.parse(text) as { error: { type: string } }).error.type, expected.type, label);
    return;
  }
  assert.equal(res.status, 200, `${label}: ${text}`);
  if (!stream) {
    const body = JSON.parse(text) as { choices: Array<{ message: Json; finish_reason: string }>; usage: Json };
    const choice = body.choices[0]!;
    assert.equal(body.choices.length, 1, label);
    assert.equal(choice.message.content ?? '', expected.content, `${label}: content`);
    assert.equal(choice.message.reasoning_content ?? '', expected.reasoning, `${label}: reasoning`);
    const tools = (choice.message.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }> | undefined) ?? [];
    assert.deepEqual(
      tools.map((t) => ({ id: t.id, name: t.function.name, arguments: JSON.parse(t.function.arguments) as unknown })),
      expected.tools.map((t) => ({ ...t, arguments: JSON.parse(t.arguments) as unknown })),
      `${label}: tool calls`,
    );
    assert.equal(choice.finish_reason, expected.finish, `${label}: finish`);
    assert.deepEqual(
      body.usage,
      {
        prompt_tokens: expected.usage.prompt_tokens,
        completion_tokens: expected.usage.completion_tokens,
        total_tokens: expected.usage.prompt_tokens + expected.usage.completion_tokens,
        prompt_tokens_details: promptDetails(expected.usage),
      },
      `${label}: usage`,
    );
    return;
  }
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/, label);
  assert.ok(text.endsWith('data: [DONE]\n\n'), `${label}: ends with [DONE]: ${JSON.stringify(text.slice(-300))}`);
  const data = text
    .slice(0, -2)
    .split('\n\n')
    .filter((f) => !f.startsWith(':'))
    .map((f) => f.slice('data: '.length));
  assert.equal(data.filter((d) => d === '[DONE]').length, 1, `${label}: exactly one [DONE]`);
  let content = '';
  let reasoning = '';
  const finishes: string[] = [];
  const usages: Json[] = [];
  const tools: ToolCall[] = [];
  for (const frame of data.slice(0, -1)) {
    const chunk = JSON.parse(frame) as Json;
    assert.equal(chunk.error, undefined, `${label}: error frame ${frame}`);
    if (chunk.usage) usages.push(chunk.usage as Json);
    const choice = (chunk.choices as Array<Json>)[0];
    if (!choice) continue;
    const delta = choice.delta as Json;
    if (typeof delta.content === 'string') {
      content += delta.content;
      if (run.chunkSize)
        assert.ok(Buffer.byteLength(delta.content) <= run.chunkSize, `${label}: a chunk of ${Buffer.byteLength(delta.content)} bytes`);
    }
    if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content;
    for (const call of (delta.tool_calls as
      Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> | undefined) ?? []) {
      if (call.id !== undefined) {
        assert.equal(call.index, tools.length, `${label}: dense tool index`);
        tools.push({ id: call.id, name: call.function?.name ?? '', arguments: '' });
      }
      tools[call.index]!.arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) finishes.push(choice.finish_reason as string);
  }
  assert.equal(content, expected.content, `${label}: content`);
  assert.equal(reasoning, expected.reasoning, `${label}: reasoning`);
  assert.deepEqual(tools, expected.tools, `${label}: tool calls`);
  assert.deepEqual(finishes, [expected.finish], `${label}: exactly one finish reason`);
  assert.deepEqual(
    usages,
    [
      {
        prompt_tokens: expected.usage.prompt_tokens,
        completion_tokens: expected.usage.completion_tokens,
        total_tokens: expected.usage.prompt_tokens + expected.usage.completion_tokens,
        prompt_tokens_details: promptDetails(expected.usage),
      },
    ],
    `${label}: usage`,
  );
}

const RECORDINGS = loadRecordings();

test('the fixtures hold the 60 recordings, each with an oracle', () => {
  assert.equal(RECORDINGS.length, 60);
  for (const rec of RECORDINGS) assert.ok(expectedOf(rec), rec.id);
});

const RUNS: Run[] = [
  { split: 'whole', seed: 0 },
  { split: 'bytes', seed: 0 },
  { split: 'random', seed: 1 },
  { split: 'random', seed: 2, chunkSize: 5 },
  { split: 'whole', seed: 0, chunkSize: 5 },
];

for (const run of RUNS) {
  test(`every recording replayed through the sidecar process: ${run.split}${run.split === 'random' ? ` splits (seed ${run.seed})` : ''}${run.chunkSize ? `, stream_chunk_size ${run.chunkSize}` : ''}`, async (t) => {
    for (const rec of RECORDINGS) await t.test(rec.id, () => replay(rec, run));
  });
}
