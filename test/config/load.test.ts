import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, validateConfig, compilePattern } from '../../src/config/load.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { routeSupport } from '../../src/providers/index.ts';

/** Loads as the process does: parse and validate, then resolve every alias (route, family, region …). */
function error(text: string): ConfigError {
  try {
    new ModelRegistry(parseConfig(text, 'sidecar.yaml'), {}, routeSupport);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('config: the shipped sidecar.yaml is valid and every alias resolves', () => {
  const config = parseConfig(readFileSync(new URL('../../sidecar.yaml', import.meta.url), 'utf8'), 'sidecar.yaml');
  assert.ok(config.models.length > 0);
  const registry = new ModelRegistry(config, {}, routeSupport);
  for (const m of config.models) assert.equal(registry.resolve(m.name).name, m.name);
});

test('config: defaults are those of docs/contract.md#configuration', () => {
  const c = validateConfig({ models: [{ name: 'a', model: 'bedrock/x.y' }] });
  assert.deepEqual(
    [
      c.server.host,
      c.server.port,
      c.server.adminHost,
      c.server.adminPort,
      c.server.authToken,
      c.server.maxBodyBytes,
      c.server.drainTimeoutS,
    ],
    ['127.0.0.1', 4000, '0.0.0.0', 9901, '', 20971520, 25],
  );
  assert.deepEqual(c.streaming, { streamChunkSize: 1024, maxHoldMs: 0, heartbeatMs: 15000, reasoningField: 'reasoning_content' });
  assert.deepEqual(c.upstream, {
    maxAttempts: 3,
    connectTimeoutMs: 5000,
    firstByteTimeoutMs: 60000,
    idleTimeoutMs: 60000,
    connections: 64,
    failoverBudgetMs: 10000,
    breakerFailures: 5,
    breakerCooldownMs: 1000,
    breakerMaxCooldownMs: 60000,
    queueTimeoutMs: 5000,
    credentialsTimeoutMs: 5000,
  });
  assert.equal(c.server.maxInflight, 1024);
  assert.deepEqual(
    [c.server.keepAliveTimeoutMs, c.server.maxConnections, c.server.adminMaxConnections, c.server.maxInflightBytes],
    [5000, 768, 32, 40 * 1024 * 1024],
  );
  assert.equal(c.routing.allowDirectModels, true);
  assert.equal(c.dropParams, false);
  assert.deepEqual(c.logging, { level: 'info', content: false });
});

test('config: an unknown key is an error naming the key, its line and a suggestion', () => {
  const e = error('server:\n  port: 4000\n  admin_prot: 9901\nmodels: []\n');
  assert.equal(e.line, 3);
  assert.match(e.message, /^sidecar\.yaml:3: server\.admin_prot: unknown key \(did you mean "admin_port"\?\)/);
  const top = error('streming:\n  stream_chunk_size: 5\n');
  assert.equal(top.line, 1);
  assert.match(top.message, /streming: unknown key \(did you mean "streaming"\?\)/);
});

test('config: wrong types and ranges name the key and line', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['streaming:\n  stream_chunk_size: 0\n', 2, /streaming\.stream_chunk_size: must be from 1 to 1048576, got 0/],
    ['streaming:\n  stream_chunk_size: 2000000\n', 2, /must be from 1 to 1048576/],
    ['server:\n  port: "80"\n', 2, /server\.port: must be an integer, got "80"/],
    ['logging:\n  level: loud\n', 2, /logging\.level: must be one of/],
    ['drop_params: yes please\n', 1, /drop_params: must be true or false/],
    ['models:\n  - name: a\n    model: bedrock/x.y\n    stream_chunk_size: -1\n', 4, /models\[0\]\.stream_chunk_size/],
    ['models:\n  - name: a\n', 2, /models\[0\]\.model: is required/],
    ['models:\n  - {name: a, model: bedrock/x.y}\n  - {name: a, model: bedrock/x.z}\n', 3, /"a" is defined twice/],
    ['guardrails:\n  - name: g\n    type: regex\n    patterns: ["(unclosed"]\n', 4, /not a valid regular expression/],
    [
      'guardrails:\n  - name: g\n    type: regex\n    patterns: [x]\n    action: mask\n    stream_mode: async\n',
      5,
      /mask needs stream_mode: sync/,
    ],
    [
      'guardrails:\n  - name: g\n    type: regex\n    patterns: [x]\n    action: mask\n    stages: [input]\n    stream_mode: async\n',
      5,
      /mask needs stream_mode: sync/,
    ],
    ['guardrails:\n  - name: g\n    type: bedrock\n', 2, /is required for a bedrock guardrail/],
    ['routing:\n  allow_direct_models: false\n', 1, /nothing could be served/],
    ['server: [1, 2]\n', 1, /server: must be a mapping/],
    ['a: [unclosed\n', 2, /invalid YAML/],
    // Checks on an alias's route, family, region and extra fields name the key, not only the alias.
    [
      'server:\n  port: 4000\nmodels:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n    region: us-east-1\n' +
        '  - name: b\n    model: bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc\n' +
        '    region: us-east-1\n    provider: nope\n',
      10,
      /^sidecar\.yaml:10: models\[1\]\.provider: provider "nope" is not a known family \(/,
    ],
    [
      'streaming:\n  max_hold_ms: 0\n  heartbeat_ms: 1000\nmodels:\n  - name: a\n    model: nova-micro\n',
      6,
      /^sidecar\.yaml:6: models\[0\]\.model: "nova-micro" is not a route: expected bedrock\//,
    ],
    [
      'models:\n  - name: a\n    region: us-east-1\n    model: bedrock/converse/arn:aws:bedrock\n',
      4,
      /^sidecar\.yaml:4: models\[0\]\.model: "arn:aws:bedrock" is not a well-formed ARN/,
    ],
    [
      'drop_params: false\nlogging:\n  level: info\nmodels:\n  - name: a\n' +
        '    model: bedrock/invoke/arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0\n' +
        '    provider: anthropic\n    region: eu-west-1\n',
      8,
      /^sidecar\.yaml:8: models\[0\]\.region: region "eu-west-1" disagrees with the ARN's own region "us-west-2"$/,
    ],
    [
      'models:\n  - {name: a, model: bedrock/converse/amazon.nova-micro-v1:0, region: us-east-1}\n' +
        '  - {name: b, model: bedrock/converse/amazon.nova-micro-v1:0, region: us-east-1}\n' +
        '  - name: c\n    model: bedrock/invoke/us.amazon.nova-lite-v1:0\n    region: us-east-1\n' +
        '    additional_model_request_fields:\n      inferenceConfig: {topK: 5}\n      stream: true\n',
      9,
      /^sidecar\.yaml:9: models\[2\]\.additional_model_request_fields\.stream: "stream" is not a field amazon-nova on the invoke route takes \(allowed: /,
    ],
    [
      'models:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n    additional_model_request_fields: {top_k: 1}\n' +
        '    region: us-east-1\n',
      4,
      /^sidecar\.yaml:4: models\[0\]\.additional_model_request_fields\.top_k: "top_k" is not a field/,
    ],
    [
      'models:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n    region: us-east-1\n    endpoint: ftp://x\n',
      5,
      /^sidecar\.yaml:5: models\[0\]\.endpoint: endpoint "ftp:\/\/x" is not an http\(s\) URL/,
    ],
    [
      'models:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n    api_key: env:SIDECAR_TEST_UNSET_KEY\n    region: us-east-1\n',
      4,
      /^sidecar\.yaml:4: models\[0\]\.api_key: api_key names the environment variable SIDECAR_TEST_UNSET_KEY, which is not set/,
    ],
    [
      'guardrails:\n  - {name: n1, type: bedrock_native, id: g1, version: "1"}\n  - {name: n2, type: bedrock_native, id: g2, version: "1"}\n' +
        'models:\n  - name: a\n    model: bedrock/converse/amazon.nova-micro-v1:0\n    guardrails:\n      - n1\n      - n2\n',
      9,
      /^sidecar\.yaml:9: models\[0\]\.guardrails\[1\]: at most one bedrock_native guardrail can apply to a model call \(Bedrock takes one per call\), got n1, n2/,
    ],
  ];
  for (const [text, line, message] of cases) {
    const e = error(text);
    assert.match(e.message, message, text);
    assert.equal(e.line, line, text);
  }
});

test('config: alias checks made by the model registry name the key even without line numbers', () => {
  const config = validateConfig({
    models: [
      { name: 'a', model: 'bedrock/converse/amazon.nova-micro-v1:0', region: 'us-east-1' },
      { name: 'b', model: 'bedrock/converse/amazon.nova-micro-v1:0', provider: 'nope' },
    ],
  });
  assert.throws(
    () => new ModelRegistry(config, {}, routeSupport),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.line === undefined &&
      e.key === 'models[1].provider' &&
      /^<config>: models\[1\]\.provider: provider "nope"/.test(e.message),
  );
});

test("config: a route that cannot serve an alias's family names the alias's model key", () => {
  const config = parseConfig(
    'models:\n  - name: a\n    region: us-east-1\n    model: bedrock/invoke/amazon.nova-micro-v1:0\n',
    'sidecar.yaml',
  );
  const support = { supports: (route: string) => route === 'converse' };
  assert.throws(
    () => new ModelRegistry(config, {}, support),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.line === 4 &&
      e.message ===
        'sidecar.yaml:4: models[0].model: the invoke route cannot serve the amazon-nova family; use bedrock/converse/amazon.nova-micro-v1:0',
  );
});

test('config: inline (?i) flags in guardrail patterns become JavaScript flags', () => {
  const re = compilePattern('(?i)project\\s+nightingale');
  assert.ok(re.test('PROJECT   Nightingale'));
  assert.ok(re.flags.includes('i'));
});

test('config: the documented example in flow style parses', () => {
  const text = `
server: {host: 127.0.0.1, port: 4000, admin_host: 0.0.0.0, admin_port: 9901, auth_token: "", max_body_bytes: 20971520, drain_timeout_s: 25}
streaming: {stream_chunk_size: 1024, max_hold_ms: 0, heartbeat_ms: 15000}
upstream: {max_attempts: 3, connect_timeout_ms: 5000, first_byte_timeout_ms: 60000, idle_timeout_ms: 60000, connections: 64}
routing: {allow_direct_models: true}
drop_params: false
logging: {level: info, content: false}
guardrails:
  - name: corp-policy
    type: bedrock
    id: gr-abc123
    version: "1"
    stages: [input, output]
    stream_mode: sync
    interval_chars: 1000
    on_error: block
  - name: no-secrets
    type: regex
    patterns: ["(?i)project\\\\s+nightingale"]
    action: block
models:
  - name: claude-invoke
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
    stream_chunk_size: 2048
    guardrails: [corp-policy]
    drop_params: true
  - name: nova-eu
    model: bedrock/invoke/eu.amazon.nova-micro-v1:0
    region: eu-west-1
  - name: tuned-claude
    model: bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123
    provider: anthropic
    additional_model_request_fields: {top_k: 50}
`;
  const config = parseConfig(text, 'spec.yaml');
  assert.equal(config.guardrails.length, 2);
  assert.equal(config.models[0]!.streamChunkSize, 2048);
  assert.deepEqual(config.models[2]!.additionalModelRequestFields, { top_k: 50 });
  const registry = new ModelRegistry(config, {}, routeSupport);
  assert.equal(registry.deferred.size, 0);
  assert.deepEqual(
    registry.list().map((m) => [m.name, m.family, m.route, m.region]),
    [
      ['claude-invoke', 'anthropic', 'invoke', 'us-east-1'],
      ['nova-eu', 'amazon-nova', 'invoke', 'eu-west-1'],
      ['tuned-claude', 'anthropic', 'converse', 'us-east-1'],
    ],
  );
});

/** The complete example of docs/contract.md#configuration, with the defaults (it names a guardrail it does not define). */
const SPEC_EXAMPLE = `server:
  host: 127.0.0.1          # proxy listener
  port: 4000               # 0 = any free port (the bound address is logged at start)
  admin_host: 0.0.0.0      # probes + metrics listener
  admin_port: 9901         # 0 = any free port, as for port
  auth_token: ""           # empty = no bearer token required
  max_body_bytes: 20971520
  drain_timeout_s: 25
streaming:
  stream_chunk_size: 1024  # per-pod default, bytes of UTF-8 content per SSE chunk
  max_hold_ms: 0
  heartbeat_ms: 15000
upstream:
  max_attempts: 3
  connect_timeout_ms: 5000
  first_byte_timeout_ms: 60000
  idle_timeout_ms: 60000
  connections: 64          # per origin
routing:
  allow_direct_models: true
drop_params: false
logging:
  level: info
  content: false
guardrails: []             # section 7
models:
  - name: claude-invoke
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1               # optional
    stream_chunk_size: 2048         # optional, overrides the pod default
    guardrails: [corp-policy]       # optional
    drop_params: true               # optional
  - name: nova-eu
    model: bedrock/invoke/eu.amazon.nova-micro-v1:0
    region: eu-west-1
  - name: tuned-claude
    model: bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123
    provider: anthropic             # required where the id does not name the family
    additional_model_request_fields: {top_k: 50}
`;

test('config: the complete example of docs/contract.md#configuration loads as written; the alias naming an undefined guardrail is refused, never served without it', () => {
  const config = parseConfig(SPEC_EXAMPLE, 'sidecar.yaml');
  const registry = new ModelRegistry(config, {}, routeSupport);
  assert.equal(registry.resolve('nova-eu').modelId, 'eu.amazon.nova-micro-v1:0');
  assert.equal(registry.resolve('tuned-claude').family, 'anthropic');
  assert.throws(
    () => registry.resolve('claude-invoke'),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /"corp-policy".*define them under guardrails:/);
      assert.equal((e as { status?: number }).status, 500);
      return true;
    },
  );
  // The same alias with the guardrail defined is served, with it.
  const fixed = parseConfig(
    SPEC_EXAMPLE.replace('guardrails: []             # section 7', 'guardrails:\n  - {name: corp-policy, type: regex, patterns: [x]}'),
    'sidecar.yaml',
  );
  const served = new ModelRegistry(fixed, {}, routeSupport).resolve('claude-invoke');
  assert.deepEqual(served.alias?.guardrails, ['corp-policy']);
});

test('config: the request-rule keys of docs/contract.md#configuration load, and a wrong value names its key', () => {
  const c = validateConfig({
    streaming: { reasoning_field: 'both' },
    models: [
      {
        name: 'claude',
        model: 'bedrock/invoke/global.anthropic.claude-sonnet-4-5-20250929-v1:0',
        prompt_caching: 'auto',
        service_tier: 'priority',
        performance: 'optimized',
        reasoning_field: 'reasoning',
      },
    ],
  });
  assert.equal(c.streaming.reasoningField, 'both');
  const alias = c.models[0]!;
  assert.equal(alias.promptCaching, 'auto');
  assert.equal(alias.serviceTier, 'priority');
  assert.equal(alias.performance, 'optimized');
  assert.equal(alias.reasoningField, 'reasoning');
  for (const [key, value] of [
    ['prompt_caching', 'always'],
    ['service_tier', 'scale'],
    ['performance', 'fast'],
    ['reasoning_field', 'thoughts'],
  ] as const) {
    assert.throws(
      () => validateConfig({ models: [{ name: 'x', model: 'bedrock/converse/anthropic.claude-opus-4-7', [key]: value }] }),
      (err: Error) => err.message.includes(key) && err.message.includes(value),
    );
  }
});
