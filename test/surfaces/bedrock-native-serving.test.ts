// Service tier and latency on native InvokeModel (docs/contract.md#request-rules, #bedrock-native): the AWS
// SDK sends `serviceTier` / `performanceConfigLatency` as InvokeModel's own request headers; they go on to
// Bedrock as the target takes them — the same headers on invoke, Converse `serviceTier` / `performanceConfig`
// for a converse alias — and a tier Bedrock does not have is its ValidationException before any call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startHarness } from '../helpers/harness.ts';
import { otherCredentials } from '../helpers/credentials.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODELS = [
  { name: 'claude', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' },
  { name: 'claude-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' },
];
const body = Buffer.from(
  JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
);

test("native invoke: the SDK's serviceTier and performanceConfigLatency reach Bedrock as the target takes them", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: h.url,
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
      credentials: otherCredentials('app-client'),
    });
    const whole = await client.send(
      new InvokeModelCommand({ modelId: 'claude', body, serviceTier: 'priority', performanceConfigLatency: 'optimized' }),
    );
    assert.equal(whole.serviceTier, 'priority', "the output names the tier Bedrock's answer said served");
    assert.equal(whole.performanceConfigLatency, 'optimized', 'and the latency');
    let seen = h.emu.requests.at(-1)!;
    assert.equal(seen.headers['x-amzn-bedrock-service-tier'], 'priority');
    assert.equal(seen.headers['x-amzn-bedrock-performanceconfig-latency'], 'optimized');

    const stream = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: 'claude', body, serviceTier: 'flex' }));
    for await (const _part of stream.body ?? []);
    assert.equal(stream.serviceTier, 'flex', 'and on a stream, from its response headers');
    assert.equal(stream.performanceConfigLatency, undefined, 'no latency asked, none said');
    seen = h.emu.requests.at(-1)!;
    assert.equal(seen.headers['x-amzn-bedrock-service-tier'], 'flex');
    assert.equal(seen.headers['x-amzn-bedrock-performanceconfig-latency'], undefined);

    // A converse alias of Claude: Converse's own fields, no headers.
    const translated = await client.send(
      new InvokeModelCommand({ modelId: 'claude-converse', body, serviceTier: 'default', performanceConfigLatency: 'standard' }),
    );
    assert.equal(translated.serviceTier, 'default', "a converse alias's whole answer names its tier in its body: the header says it");
    assert.equal(translated.performanceConfigLatency, 'standard');
    seen = h.emu.requests.at(-1)!;
    const converse = JSON.parse(seen.body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(converse.serviceTier, { type: 'default' });
    assert.deepEqual(converse.performanceConfig, { latency: 'standard' });
    assert.equal(seen.headers['x-amzn-bedrock-service-tier'], undefined);

    const before = h.emu.requests.length;
    await assert.rejects(
      client.send(new InvokeModelCommand({ modelId: 'claude', body, serviceTier: 'scale' as 'flex' })),
      (error: unknown) => error instanceof ValidationException && /X-Amzn-Bedrock-Service-Tier/.test(error.message),
    );
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
  } finally {
    await h.close();
  }
});
