import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, validateConfig, compilePattern } from '../../src/config/load.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { routeSupport } from '../../src/providers/index.ts';

function error(text: string): ConfigError {
  try {
    parseConfig(text, 'sidecar.yaml');
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

test('config: defaults are those of the SPEC', () => {
  const c = validateConfig({ models: [{ name: 'a', model: 'bedrock/x.y' }] });
  assert.deepEqual(
    [c.server.host, c.server.port, c.server.adminHost, c.server.adminPort, c.server.authToken, c.server.maxBodyBytes, c.server.drainTimeoutS],
    ['127.0.0.1', 4000, '0.0.0.0', 9901, '', 20971520, 25]);
  assert.deepEqual(c.streaming, { streamChunkSize: 1024, maxHoldMs: 0, heartbeatMs: 15000 });
  assert.deepEqual(c.upstream, { maxAttempts: 3, connectTimeoutMs: 5000, firstByteTimeoutMs: 60000, idleTimeoutMs: 60000, connections: 64 });
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
    ['models:\n  - name: a\n    model: bedrock/x.y\n    guardrails: [nope]\n', 4, /names no guardrail defined/],
    ['models:\n  - {name: a, model: bedrock/x.y}\n  - {name: a, model: bedrock/x.z}\n', 3, /"a" is defined twice/],
    ['guardrails:\n  - name: g\n    type: regex\n    patterns: ["(unclosed"]\n', 4, /not a valid regular expression/],
    ['guardrails:\n  - name: g\n    type: regex\n    patterns: [x]\n    action: mask\n    stream_mode: async\n', 5, /mask needs stream_mode: sync/],
    ['guardrails:\n  - name: g\n    type: regex\n    patterns: [x]\n    action: mask\n    stages: [input]\n    stream_mode: async\n', 5, /mask needs stream_mode: sync/],
    ['guardrails:\n  - name: g\n    type: bedrock\n', 2, /is required for a bedrock guardrail/],
    ['routing:\n  allow_direct_models: false\n', 1, /nothing could be served/],
    ['server: [1, 2]\n', 1, /server: must be a mapping/],
    ['a: [unclosed\n', 2, /invalid YAML/],
  ];
  for (const [text, line, message] of cases) {
    const e = error(text);
    assert.match(e.message, message, text);
    assert.equal(e.line, line, text);
  }
});

test('config: inline (?i) flags in guardrail patterns become JavaScript flags', () => {
  const re = compilePattern('(?i)project\\s+nightingale');
  assert.ok(re.test('PROJECT   Nightingale'));
  assert.ok(re.flags.includes('i'));
});

test('config: the SPEC section 9 example parses', () => {
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
  assert.deepEqual(registry.list().map((m) => [m.name, m.family, m.route, m.region]), [
    ['claude-invoke', 'anthropic', 'invoke', 'us-east-1'],
    ['nova-eu', 'amazon-nova', 'invoke', 'eu-west-1'],
    ['tuned-claude', 'anthropic', 'converse', 'us-east-1'],
  ]);
});
