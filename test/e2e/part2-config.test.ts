/**
 * The configuration example for the protocols added (docs/contract.md#configuration), as written, run by the
 * real process (`npm start -- --config FILE`) against the emulator: an alias named as Claude Code asks for
 * it serves Messages and fails over to its fallback, the embedding alias gives its configured size, and
 * the stored-response keys take effect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.ts';
import { withEmulator } from '../helpers/emulator.ts';
import { killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';

/** The example as the contract writes it (the server block only adds loopback listeners on port 0). */
const EXAMPLE = `server:
  max_inflight: 1024
streaming:
  reasoning_field: reasoning_content   # reasoning_content | reasoning | both
upstream:
  failover_budget_ms: 10000
  breaker_failures: 5
  breaker_max_cooldown_ms: 60000
  queue_timeout_ms: 5000
responses:
  store_max_entries: 1000
  store_ttl_s: 3600
models:
  - name: claude-sonnet-4-5-20250929       # named as Claude Code asks for it
    model: bedrock/invoke/global.anthropic.claude-sonnet-4-5-20250929-v1:0
    fallbacks: [claude-us-east-2]
    prompt_caching: auto                   # off (default) | auto
    service_tier: priority                 # default | flex | priority | reserved
    performance: optimized                 # standard (default) | optimized
    reasoning_field: both
  - name: claude-us-east-2
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0
    region: us-east-2
  - name: titan-embed
    model: bedrock/invoke/amazon.titan-embed-text-v2:0
    embedding: {dimensions: 512}
`;

test('config: the added keys default as documented (server.max_inflight, streaming.reasoning_field, upstream, responses)', () => {
  const c = parseConfig('models: []\n', 'sidecar.yaml');
  assert.equal(c.server.maxInflight, 1024);
  assert.equal(c.streaming.reasoningField, 'reasoning_content');
  assert.deepEqual(
    [c.upstream.failoverBudgetMs, c.upstream.breakerFailures, c.upstream.breakerMaxCooldownMs, c.upstream.queueTimeoutMs],
    [10000, 5, 60000, 5000],
  );
  assert.equal(c.responses.storeMaxEntries, 1000);
  assert.equal(c.responses.storeTtlS, 3600);
});

test('process: the added configuration example, as written, serves Messages with failover, embeddings at its size, and stored responses', () =>
  withEmulator(async (emu) => {
    const file = writeConfigFile(EXAMPLE.replace('server:\n', 'server:\n  port: 0\n  admin_port: 0\n  admin_host: 127.0.0.1\n'));
    const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AWS_REGION: 'us-east-1' });
    try {
      await s.ready;
      emu.script(
        { type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' },
        { type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' },
        { type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' },
        { type: 'text', text: 'served from us-east-2' },
      );
      const answer = await fetch(`${s.proxy}/v1/messages?beta=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'anything' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5-20250929',
          max_tokens: 50,
          system: 'be brief',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      assert.equal(answer.status, 200, await answer.clone().text());
      assert.equal(answer.headers.get('x-sidecar-served-by'), 'claude-us-east-2');
      const message = (await answer.json()) as { content: Array<{ text: string }> };
      assert.equal(message.content[0]!.text, 'served from us-east-2');
      const paths = emu.requests.map((r) => r.rawPath);
      assert.deepEqual(paths, [
        ...Array(3).fill('/model/global.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'),
        '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke',
      ]);
      // The primary's settings went with its attempts: its tier and latency headers, its automatic cache points.
      const first = emu.requests[0]!;
      assert.equal(first.headers['x-amzn-bedrock-service-tier'], 'priority');
      assert.equal(first.headers['x-amzn-bedrock-performanceconfig-latency'], 'optimized');
      assert.deepEqual((JSON.parse(first.body.toString('utf8')) as { system: unknown }).system, [
        { type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } },
      ]);

      const embedded = await fetch(`${s.proxy}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'titan-embed', input: ['a', 'b'] }),
      });
      assert.equal(embedded.status, 200);
      const vectors = (await embedded.json()) as { data: Array<{ index: number; embedding: number[] }> };
      assert.deepEqual(
        vectors.data.map((d) => [d.index, d.embedding.length]),
        [
          [0, 512],
          [1, 512],
        ],
      );

      emu.script({ type: 'text', text: 'remembered' });
      const created = await fetch(`${s.proxy}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-us-east-2', input: 'hi' }),
      });
      const { id } = (await created.json()) as { id: string };
      const stored = await fetch(`${s.proxy}/v1/responses/${id}`);
      assert.equal(stored.status, 200);
      assert.equal(((await stored.json()) as { id: string }).id, id);
    } finally {
      await killSidecar(s);
    }
  }));

test('config: a bad value of each added key is refused at load, naming the key and its line', () => {
  const alias = 'models:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n';
  const cases: Array<[string, number, RegExp]> = [
    ['server:\n  max_inflight: 0\n', 2, /server\.max_inflight: must be from 1 to/],
    ['streaming:\n  reasoning_field: thoughts\n', 2, /streaming\.reasoning_field: must be one of reasoning_content, reasoning, both/],
    ['upstream:\n  failover_budget_ms: 0\n', 2, /upstream\.failover_budget_ms: must be from 1 to/],
    ['upstream:\n  breaker_failures: 2.5\n', 2, /upstream\.breaker_failures: must be an integer/],
    ['upstream:\n  breaker_max_cooldown_ms: -1\n', 2, /upstream\.breaker_max_cooldown_ms: must be from 1 to/],
    ['upstream:\n  queue_timeout_ms: "5s"\n', 2, /upstream\.queue_timeout_ms: must be an integer/],
    ['responses:\n  store_max_entries: -1\n', 2, /responses\.store_max_entries: must be from 0 to/],
    ['responses:\n  store_ttl_s: 0\n', 2, /responses\.store_ttl_s: must be from 1 to/],
    [`${alias}    fallbacks: [nope]\n`, 4, /models\[0\]\.fallbacks\[0\]: no alias named "nope"/],
    [`${alias}    fallbacks: nope\n`, 4, /models\[0\]\.fallbacks: must be a list/],
    [`${alias}    prompt_caching: always\n`, 4, /models\[0\]\.prompt_caching: must be one of off, auto/],
    [`${alias}    service_tier: fast\n`, 4, /models\[0\]\.service_tier: must be one of/],
    [`${alias}    performance: turbo\n`, 4, /models\[0\]\.performance: must be one of standard, optimized/],
    [`${alias}    reasoning_field: thoughts\n`, 4, /models\[0\]\.reasoning_field: must be one of/],
    [`${alias}    embedding: 512\n`, 4, /models\[0\]\.embedding: must be a mapping/],
  ];
  for (const [text, line, message] of cases) {
    assert.throws(
      () => parseConfig(text, 'sidecar.yaml'),
      (error: Error & { line?: number }) => {
        assert.equal(error.name, 'ConfigError', text);
        assert.match(error.message, message, text);
        assert.equal(error.line, line, text);
        return true;
      },
    );
  }
});

test('process: a reload applies an added key (an alias embedding size) and refuses a bad value naming its key, the old config serving on', () =>
  withEmulator(async (emu) => {
    const listeners = (text: string): string => text.replace('server:\n', 'server:\n  port: 0\n  admin_port: 0\n  admin_host: 127.0.0.1\n');
    const file = writeConfigFile(listeners(EXAMPLE));
    const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AWS_REGION: 'us-east-1' });
    const size = async (): Promise<number> => {
      const res = await fetch(`${s.proxy}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'titan-embed', input: 'x', encoding_format: 'float' }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { data: Array<{ embedding: number[] }> }).data[0]!.embedding.length;
    };
    const rejected = (key: string): boolean =>
      s.lines.some((l) => l.msg === 'config reload rejected; the previous config keeps serving' && String(l.error).includes(key));
    try {
      await s.ready;
      assert.equal(await size(), 512);
      // A good reload: the alias's new size serves the next request.
      writeFileSync(file, listeners(EXAMPLE.replace('embedding: {dimensions: 512}', 'embedding: {dimensions: 256}')));
      s.child.kill('SIGHUP');
      await waitFor(async () => (await size()) === 256);
      // Bad values, one a key's own range, one the model's sizes (checked when the registry is built): refused.
      writeFileSync(file, listeners(EXAMPLE.replace('breaker_failures: 5', 'breaker_failures: 0')));
      s.child.kill('SIGHUP');
      await waitFor(() => rejected('upstream.breaker_failures'));
      writeFileSync(file, listeners(EXAMPLE.replace('embedding: {dimensions: 512}', 'embedding: {dimensions: 100}')));
      s.child.kill('SIGHUP');
      await waitFor(() => rejected('models[2].embedding.dimensions'));
      assert.equal(await size(), 256, 'the last good config serves on');
    } finally {
      await killSidecar(s);
    }
  }));
