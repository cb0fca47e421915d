import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectModelId, parseRoute, RouteError } from '../../src/models/route.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { routeSupport } from '../../src/providers/index.ts';
import { validateConfig } from '../../src/config/load.ts';
import { encodeModelPath } from '../../src/upstream/signer.ts';
import { isSidecarError } from '../../src/errors.ts';

const cases: Array<[string, { route: string; modelId: string; family: string | undefined; geography?: string; path: string }]> = [
  [
    'bedrock/invoke/eu.amazon.nova-micro-v1:0',
    {
      route: 'invoke',
      modelId: 'eu.amazon.nova-micro-v1:0',
      family: 'amazon-nova',
      geography: 'eu',
      path: '/model/eu.amazon.nova-micro-v1%3A0/invoke-with-response-stream',
    },
  ],
  [
    'bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0',
    {
      route: 'converse',
      modelId: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      family: 'anthropic',
      path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0',
    {
      route: 'converse',
      modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
      family: 'anthropic',
      geography: 'us',
      path: '/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/invoke/apac.anthropic.claude-3-haiku-20240307-v1:0',
    {
      route: 'invoke',
      modelId: 'apac.anthropic.claude-3-haiku-20240307-v1:0',
      family: 'anthropic',
      geography: 'apac',
      path: '/model/apac.anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream',
    },
  ],
  [
    'bedrock/invoke/us-gov.anthropic.claude-3-haiku-20240307-v1:0',
    {
      route: 'invoke',
      modelId: 'us-gov.anthropic.claude-3-haiku-20240307-v1:0',
      family: 'anthropic',
      geography: 'us-gov',
      path: '/model/us-gov.anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream',
    },
  ],
  [
    'bedrock/invoke/jp.anthropic.claude-sonnet-4-5-20250929-v1:0',
    {
      route: 'invoke',
      modelId: 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0',
      family: 'anthropic',
      geography: 'jp',
      path: '/model/jp.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream',
    },
  ],
  [
    'bedrock/converse/au.anthropic.claude-sonnet-4-5-20250929-v1:0',
    {
      route: 'converse',
      modelId: 'au.anthropic.claude-sonnet-4-5-20250929-v1:0',
      family: 'anthropic',
      geography: 'au',
      path: '/model/au.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/ca.amazon.nova-lite-v1:0',
    {
      route: 'converse',
      modelId: 'ca.amazon.nova-lite-v1:0',
      family: 'amazon-nova',
      geography: 'ca',
      path: '/model/ca.amazon.nova-lite-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/global.anthropic.claude-haiku-4-5-20251001-v1:0',
    {
      route: 'converse',
      modelId: 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
      family: 'anthropic',
      geography: 'global',
      path: '/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/us.deepseek.r1-v1:0',
    {
      route: 'converse',
      modelId: 'us.deepseek.r1-v1:0',
      family: 'deepseek',
      geography: 'us',
      path: '/model/us.deepseek.r1-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/meta.llama3-1-70b-instruct-v1:0',
    {
      route: 'converse',
      modelId: 'meta.llama3-1-70b-instruct-v1:0',
      family: 'meta',
      path: '/model/meta.llama3-1-70b-instruct-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/mistral.mistral-large-2407-v1:0',
    {
      route: 'converse',
      modelId: 'mistral.mistral-large-2407-v1:0',
      family: 'mistral',
      path: '/model/mistral.mistral-large-2407-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/cohere.command-r-plus-v1:0',
    {
      route: 'converse',
      modelId: 'cohere.command-r-plus-v1:0',
      family: 'cohere',
      path: '/model/cohere.command-r-plus-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/ai21.jamba-1-5-large-v1:0',
    { route: 'converse', modelId: 'ai21.jamba-1-5-large-v1:0', family: 'ai21', path: '/model/ai21.jamba-1-5-large-v1%3A0/converse-stream' },
  ],
  [
    'bedrock/converse/openai.gpt-oss-120b-1:0',
    { route: 'converse', modelId: 'openai.gpt-oss-120b-1:0', family: 'openai', path: '/model/openai.gpt-oss-120b-1%3A0/converse-stream' },
  ],
  [
    'bedrock/converse/qwen.qwen3-32b-v1:0',
    { route: 'converse', modelId: 'qwen.qwen3-32b-v1:0', family: 'qwen', path: '/model/qwen.qwen3-32b-v1%3A0/converse-stream' },
  ],
  [
    'bedrock/converse/amazon.titan-text-premier-v1:0',
    {
      route: 'converse',
      modelId: 'amazon.titan-text-premier-v1:0',
      family: 'amazon-titan',
      path: '/model/amazon.titan-text-premier-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/invoke/arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    {
      route: 'invoke',
      modelId: 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      family: 'anthropic',
      path: '/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A%3Afoundation-model%2Fanthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream',
    },
  ],
  [
    'bedrock/converse/arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-micro-v1:0',
    {
      route: 'converse',
      modelId: 'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-micro-v1:0',
      family: 'amazon-nova',
      geography: 'eu',
      path: '/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A111122223333%3Ainference-profile%2Feu.amazon.nova-micro-v1%3A0/converse-stream',
    },
  ],
  [
    'bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123',
    {
      route: 'converse',
      modelId: 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123',
      family: undefined,
      path: '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A111122223333%3Aapplication-inference-profile%2Fabc123/converse-stream',
    },
  ],
];

test('route: the grammar and model-id table (geography is never a provider)', () => {
  for (const [input, expected] of cases) {
    const parsed = parseRoute(input);
    assert.equal(parsed.route, expected.route, input);
    assert.equal(parsed.modelId, expected.modelId, input);
    const info = inspectModelId(parsed.modelId);
    assert.equal(info.family, expected.family, input);
    assert.equal(info.geography, expected.geography, input);
    const op = parsed.route === 'invoke' ? 'invoke-with-response-stream' : 'converse-stream';
    assert.equal(encodeModelPath(parsed.modelId, op), expected.path, input);
  }
});

test('route: eu.amazon.nova-micro-v1:0 is family amazon-nova with provider amazon, not eu', () => {
  const info = inspectModelId('eu.amazon.nova-micro-v1:0');
  assert.equal(info.provider, 'amazon');
  assert.equal(info.family, 'amazon-nova');
  assert.equal(info.baseModelId, 'amazon.nova-micro-v1:0');
});

test('route: malformed route strings are rejected with a reason', () => {
  for (const bad of [
    'anthropic.claude-v2',
    'bedrock/',
    'bedrock/invoke/',
    'bedrock/converse/',
    'bedrock/invoke/a b',
    'bedrock/invoke/x/y',
    'bedrock/invoke/arn:aws:bedrock',
  ]) {
    assert.throws(() => inspectModelId(parseRoute(bad).modelId), RouteError, bad);
  }
});

test('route: ARN regions win, and an alias region that disagrees is a config error', () => {
  const config = validateConfig({
    models: [{ name: 'a', model: 'bedrock/invoke/arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0' }],
  });
  const registry = new ModelRegistry(config, { AWS_REGION: 'eu-west-1' }, routeSupport);
  const target = registry.resolve('a');
  assert.equal(target.region, 'us-west-2');
  assert.equal(target.endpoint, 'https://bedrock-runtime.us-west-2.amazonaws.com');
  const bad = validateConfig({
    models: [
      {
        name: 'a',
        region: 'eu-west-1',
        model: 'bedrock/invoke/arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      },
    ],
  });
  assert.throws(() => new ModelRegistry(bad, {}, routeSupport), /disagrees with the ARN's own region "us-west-2"/);
});

test('route: region and endpoint resolution order follows the AWS SDK convention', () => {
  const config = validateConfig({
    models: [
      { name: 'aliased', model: 'bedrock/converse/amazon.nova-micro-v1:0', region: 'eu-central-1' },
      { name: 'explicit', model: 'bedrock/converse/amazon.nova-micro-v1:0', region: 'eu-central-1', endpoint: 'http://127.0.0.1:9/' },
    ],
  });
  const r = (env: Record<string, string>) => new ModelRegistry(config, env, routeSupport);
  assert.equal(r({ AWS_REGION: 'us-east-2' }).resolve('aliased').region, 'eu-central-1');
  assert.equal(r({ AWS_REGION: 'us-east-2' }).resolve('bedrock/amazon.nova-micro-v1:0').region, 'us-east-2');
  assert.equal(r({ AWS_DEFAULT_REGION: 'ap-south-1' }).resolve('bedrock/amazon.nova-micro-v1:0').region, 'ap-south-1');
  assert.equal(r({}).resolve('aliased').endpoint, 'https://bedrock-runtime.eu-central-1.amazonaws.com');
  assert.equal(
    r({ AWS_ENDPOINT_URL: 'http://generic:1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://specific:2' }).resolve('aliased').endpoint,
    'http://specific:2',
  );
  assert.equal(r({ AWS_ENDPOINT_URL: 'http://generic:1' }).resolve('aliased').endpoint, 'http://generic:1');
  assert.equal(r({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://specific:2' }).resolve('explicit').endpoint, 'http://127.0.0.1:9');
  assert.throws(
    () => r({}).resolve('bedrock/amazon.nova-micro-v1:0'),
    (e: unknown) => isSidecarError(e) && /AWS_REGION/.test(e.message),
  );
});

test('route: an opaque ARN alias needs provider:, and provider: names the family', () => {
  const model = 'bedrock/converse/arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123';
  // The process still starts; requests to that alias get a 400 that says what to set.
  const missing = new ModelRegistry(validateConfig({ models: [{ name: 't', model }] }), {}, routeSupport);
  assert.throws(
    () => missing.resolve('t'),
    (e: unknown) => isSidecarError(e) && e.status === 400 && /provider:/.test(e.message),
  );
  const ok = new ModelRegistry(validateConfig({ models: [{ name: 't', model, provider: 'anthropic' }] }), {}, routeSupport);
  assert.equal(ok.resolve('t').family, 'anthropic');
  assert.equal(ok.resolve('t').region, 'us-east-1');
});

test('route: an alias without any region or known family answers 400 naming the fix, and the rest still serve', () => {
  const registry = new ModelRegistry(
    validateConfig({ models: [{ name: 'r', model: 'bedrock/converse/amazon.nova-micro-v1:0' }] }),
    {},
    routeSupport,
  );
  assert.throws(
    () => registry.resolve('r'),
    (e: unknown) => isSidecarError(e) && e.status === 400 && /AWS_REGION/.test(e.message),
  );
  assert.equal(
    new ModelRegistry(
      validateConfig({ models: [{ name: 'r', model: 'bedrock/converse/amazon.nova-micro-v1:0' }] }),
      { AWS_REGION: 'us-east-1' },
      routeSupport,
    ).resolve('r').region,
    'us-east-1',
  );
  const unknownFamily = new ModelRegistry(
    validateConfig({
      models: [
        { name: 'w', model: 'bedrock/invoke/writer.palmyra-x5-v1:0', region: 'us-east-1' },
        { name: 'ok', model: 'bedrock/converse/writer.palmyra-x5-v1:0', region: 'us-east-1' },
      ],
    }),
    {},
    routeSupport,
  );
  assert.throws(
    () => unknownFamily.resolve('w'),
    (e: unknown) => isSidecarError(e) && e.status === 400 && /provider:/.test(e.message),
  );
  assert.equal(unknownFamily.resolve('ok').route, 'converse');
});

test('route: Bedrock API keys come from AWS_BEARER_TOKEN_BEDROCK or an alias api_key variable', () => {
  const config = validateConfig({
    models: [
      { name: 'plain', model: 'bedrock/converse/amazon.nova-micro-v1:0', region: 'us-east-1' },
      { name: 'keyed', model: 'bedrock/converse/amazon.nova-micro-v1:0', region: 'us-east-1', api_key: 'TEAM_KEY' },
    ],
  });
  const registry = new ModelRegistry(config, { AWS_BEARER_TOKEN_BEDROCK: 'global-key', TEAM_KEY: 'team-key' }, routeSupport);
  assert.equal(registry.resolve('plain').apiKey, 'global-key');
  assert.equal(registry.resolve('keyed').apiKey, 'team-key');
  assert.throws(() => new ModelRegistry(config, {}, routeSupport), /TEAM_KEY, which is not set/);
});
