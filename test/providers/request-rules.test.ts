/**
 * Today's request rules on the provider side (docs/contract.md#request-rules): prompt-cache points, documents,
 * service tiers, forgiving hints. Golden bodies per family and route live in test/fixtures/providers/rules/
 * (UPDATE_GOLDENS=1 rewrites them); every refusal is checked for its 400 and, where drop_params applies, its drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ModelAliasConfig, Route } from '../../src/config/schema.ts';
import { SidecarError } from '../../src/errors.ts';
import { adapterFor, applyParamPolicy } from '../../src/providers/index.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';
import { servingHeaders } from '../../src/providers/serving.ts';
import { documentName } from '../../src/providers/documents.ts';
import { expectJsonGolden } from '../helpers/golden.ts';
import { targetFor } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/providers/rules');
const PDF = Buffer.from('%PDF-1.4 tiny').toString('base64');
const TEXT = Buffer.from('name,qty\nbolt,3\n').toString('base64');
const LONG = 'You are a careful assistant. '.repeat(10);
const ephemeral = { type: 'ephemeral' } as const;

function alias(extra: Partial<ModelAliasConfig>): ModelAliasConfig {
  return {
    name: 'a',
    model: 'x',
    region: undefined,
    endpoint: undefined,
    provider: undefined,
    streamChunkSize: undefined,
    maxHoldMs: undefined,
    guardrails: [],
    dropParams: undefined,
    additionalModelRequestFields: undefined,
    apiKeyEnv: undefined,
    line: undefined,
    fallbacks: [],
    fallbackOn: [],
    ...extra,
  };
}

interface Built {
  body: Record<string, unknown>;
  notes: string[];
  headers: Record<string, string>;
}

function build(
  route: Route,
  modelId: string,
  body: Record<string, unknown>,
  opts: { alias?: Partial<ModelAliasConfig>; drop?: boolean } = {},
): Built {
  const target = targetFor({ route, modelId }, opts.alias ? alias(opts.alias) : undefined);
  const adapter = adapterFor(route, target.family);
  assert.ok(adapter);
  const { request, unknown } = readChatRequest({ model: 'm', max_tokens: 256, ...body });
  const notes: string[] = [];
  const note = (m: string): void => {
    notes.push(m);
  };
  const drop = opts.drop ?? false;
  const prepared = applyParamPolicy(request, unknown, adapter, drop, `${target.family ?? 'model'} on ${route}`, note);
  return { body: adapter.buildBody(prepared, { target, note, dropParams: drop }), notes, headers: servingHeaders(prepared, target) };
}

function refusal(fn: () => unknown): SidecarError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SidecarError, String(err));
    return err;
  }
  assert.fail('expected a 400');
}

function golden(name: string, body: unknown): void {
  expectJsonGolden(join(FIXTURES, `${name}.json`), body);
}

const TOOL = {
  type: 'function',
  function: { name: 'lookup', description: 'Look up', parameters: { type: 'object' } },
  cache_control: ephemeral,
};
const CACHED = {
  tools: [{ ...TOOL, cache_control: { type: 'ephemeral', ttl: '1h' } }],
  messages: [
    { role: 'system', content: [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    { role: 'user', content: 'First question' },
    { role: 'assistant', content: 'First answer' },
    { role: 'user', content: [{ type: 'text', text: 'Second question', cache_control: ephemeral }] },
  ],
};

const GOLDEN: Array<[string, Route, string, Record<string, unknown>, Partial<ModelAliasConfig>?]> = [
  ['cache-claude-converse', 'converse', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', CACHED],
  ['cache-claude-invoke', 'invoke', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', CACHED],
  [
    'cache-nova-converse',
    'converse',
    'us.amazon.nova-pro-v1:0',
    {
      messages: CACHED.messages.map((m) =>
        m.role === 'system' ? { ...m, content: [{ type: 'text', text: LONG, cache_control: ephemeral }] } : m,
      ),
    },
  ],
  [
    'cache-nova-invoke-message-level',
    'invoke',
    'us.amazon.nova-lite-v1:0',
    {
      messages: [
        { role: 'system', content: LONG, cache_control: ephemeral },
        { role: 'user', content: 'Hi' },
      ],
    },
  ],
  [
    'cache-auto-claude-invoke',
    'invoke',
    'anthropic.claude-opus-4-7',
    {
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: LONG },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'Again' },
      ],
    },
    { promptCaching: 'auto' },
  ],
  [
    'cache-auto-nova-converse',
    'converse',
    'amazon.nova-micro-v1:0',
    {
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: LONG },
        { role: 'user', content: 'Hi' },
      ],
    },
    { promptCaching: 'auto' },
  ],
  [
    'document-claude-converse',
    'converse',
    'global.anthropic.claude-sonnet-4-6',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarise' },
            { type: 'file', file: { filename: 'Q3 report (final).v2.pdf', file_data: `data:application/pdf;base64,${PDF}` } },
            {
              type: 'file',
              file: {
                filename: 'stock.xlsx',
                file_data: `data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,${PDF}`,
              },
            },
          ],
        },
      ],
    },
  ],
  [
    'document-claude-invoke',
    'invoke',
    'anthropic.claude-opus-4-7',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'file', file: { filename: 'report.pdf', file_data: `data:application/pdf;base64,${PDF}` } },
            { type: 'file', file: { filename: 'stock.csv', file_data: `data:text/csv;base64,${TEXT}` }, cache_control: ephemeral },
            { type: 'text', text: 'Compare them' },
          ],
        },
      ],
    },
  ],
  [
    'document-nova-invoke',
    'invoke',
    'us.amazon.nova-pro-v1:0',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'file', file: { filename: 'notes.md', file_data: `data:text/markdown;base64,${TEXT}` } },
            { type: 'text', text: 'Read it' },
          ],
        },
      ],
    },
  ],
  [
    'service-tier-converse',
    'converse',
    'nvidia.nemotron-nano-3-30b',
    { service_tier: 'flex', messages: [{ role: 'user', content: 'Hi' }] },
    { performance: 'optimized' },
  ],
];

for (const [name, route, modelId, body, aliasConfig] of GOLDEN) {
  test(`request rules golden body: ${name} (${modelId}, ${route})`, () => {
    const built = build(route, modelId, { ...body, stream: true }, aliasConfig ? { alias: aliasConfig } : {});
    assert.deepEqual(build(route, modelId, body, aliasConfig ? { alias: aliasConfig } : {}).body, built.body);
    golden(name, built.body);
  });
}

test('request rules: prompt_caching auto says where it put the points', () => {
  const { notes } = build(
    'invoke',
    'anthropic.claude-opus-4-7',
    {
      messages: [
        { role: 'system', content: LONG },
        { role: 'user', content: 'Hi' },
      ],
    },
    { alias: { promptCaching: 'auto' } },
  );
  assert.ok(
    notes.some((n) => n.includes('after the system prompt') && n.includes('on the last user turn')),
    notes.join('\n'),
  );
});

test("request rules: prompt_caching auto adds nothing in front of a client's hour-long point (the TTL order would break)", () => {
  const request = {
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
    messages: [
      { role: 'system', content: LONG },
      { role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    ],
  };
  for (const route of ['invoke', 'converse'] as const) {
    const { body, notes } = build(route, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', request, { alias: { promptCaching: 'auto' } });
    const text = JSON.stringify(body);
    assert.equal(text.match(/cache_control|cachePoint/g)?.length, 1, `${route}: only the client's own point: ${text}`);
    assert.ok(text.includes('"ttl":"1h"'), text);
    assert.ok(
      notes.some((n) => n.includes('hour-long')),
      notes.join('\n'),
    );
  }
});

test("request rules: a cache point on a prefix below the model's minimum goes to Bedrock as asked, neither refused nor dropped", () => {
  // AWS: a prefix shorter than the model's minimum (1,024 tokens and more) is simply not cached; the sidecar
  // cannot count tokens before the call, so it never refuses or drops a point for it (README "Decisions").
  const short = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: ephemeral }] }] };
  const converse = build('converse', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', short).body as {
    messages: Array<{ content: unknown[] }>;
  };
  assert.deepEqual(converse.messages[0]!.content, [{ text: 'Hi' }, { cachePoint: { type: 'default' } }]);
  const invoke = build('invoke', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', short).body as { messages: Array<{ content: unknown[] }> };
  assert.deepEqual(invoke.messages[0]!.content, [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }]);
  const nova = build('converse', 'us.amazon.nova-pro-v1:0', short).body as { messages: Array<{ content: unknown[] }> };
  assert.deepEqual(nova.messages[0]!.content, [{ text: 'Hi' }, { cachePoint: { type: 'default' } }]);
});

test("request rules: Bedrock's cache limits are 400s naming the rule, before any call", () => {
  const many = {
    messages: [{ role: 'user', content: ['a', 'b', 'c', 'd', 'e'].map((text) => ({ type: 'text', text, cache_control: ephemeral })) }],
  };
  for (const route of ['invoke', 'converse'] as const) {
    const tooMany = refusal(() => build(route, 'anthropic.claude-sonnet-4-5-20250929-v1:0', many));
    assert.equal(tooMany.param, 'cache_control');
    assert.match(tooMany.message, /at most 4 cache points.*has 5/);
    const order = refusal(() =>
      build(route, 'anthropic.claude-sonnet-4-5-20250929-v1:0', {
        messages: [
          { role: 'system', content: [{ type: 'text', text: 's', cache_control: ephemeral }] },
          { role: 'user', content: [{ type: 'text', text: 'u', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
        ],
      }),
    );
    assert.match(order.message, /"1h" cache point cannot follow a "5m" one/);
  }
  const hour = refusal(() =>
    build('converse', 'anthropic.claude-3-7-sonnet-20250219-v1:0', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'u', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
    }),
  );
  assert.equal(hour.type, 'unsupported_parameter');
  const badTtl = refusal(() =>
    build('converse', 'anthropic.claude-opus-4-7', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'u', cache_control: { type: 'ephemeral', ttl: '2h' } }] }],
    }),
  );
  assert.equal(badTtl.param, 'messages[0].content[0].cache_control.ttl');
});

test('request rules: cache_control on a family that cannot cache is a 400, or dropped and logged with drop_params — never silent', () => {
  const body = {
    messages: [
      { role: 'system', content: LONG, cache_control: ephemeral },
      { role: 'user', content: 'Hi' },
    ],
  };
  for (const [route, modelId] of [
    ['converse', 'meta.llama3-1-70b-instruct-v1:0'],
    ['invoke', 'meta.llama3-1-70b-instruct-v1:0'],
    ['converse', 'anthropic.claude-3-haiku-20240307-v1:0'],
    ['invoke', 'mistral.mistral-large-2407-v1:0'],
  ] as const) {
    const err = refusal(() => build(route, modelId, body));
    assert.equal(err.type, 'unsupported_parameter');
    assert.equal(err.param, 'cache_control');
    const dropped = build(route, modelId, body, { drop: true });
    assert.ok(!JSON.stringify(dropped.body).includes('cache'), `${modelId}: no cache marker upstream`);
    assert.ok(
      dropped.notes.some((n) => n.includes('cache_control')),
      'the drop is logged',
    );
  }
  const novaTool = refusal(() => build('converse', 'amazon.nova-pro-v1:0', { tools: [TOOL], messages: [{ role: 'user', content: 'Hi' }] }));
  assert.match(novaTool.message, /on a tool/);
});

test("request rules: documents — file_id, formats a route cannot read, too many, names in Bedrock's alphabet", () => {
  const file = (filename: string, type = 'application/pdf'): Record<string, unknown> => ({
    type: 'file',
    file: { filename, file_data: `data:${type};base64,${PDF}` },
  });
  const id = refusal(() =>
    build('converse', 'anthropic.claude-opus-4-7', {
      messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }],
    }),
  );
  assert.equal(id.type, 'unsupported_parameter');
  assert.equal(id.param, 'messages[0].content[0].file.file_id');
  const docx = refusal(() =>
    build('invoke', 'anthropic.claude-opus-4-7', {
      messages: [{ role: 'user', content: [file('a.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')] }],
    }),
  );
  assert.match(docx.message, /converse route/);
  const titan = refusal(() =>
    build('converse', 'amazon.titan-text-express-v1', { messages: [{ role: 'user', content: [file('a.pdf')] }] }),
  );
  assert.equal(titan.param, 'messages[0].content[0]');
  const llama = refusal(() =>
    build('invoke', 'meta.llama3-1-70b-instruct-v1:0', { messages: [{ role: 'user', content: [file('a.pdf')] }] }),
  );
  assert.equal(llama.type, 'unsupported_parameter');
  const six = refusal(() =>
    build('converse', 'anthropic.claude-opus-4-7', {
      messages: [{ role: 'user', content: [1, 2, 3, 4, 5, 6].map((n) => file(`f${n}.pdf`)) }],
    }),
  );
  assert.match(six.message, /at most 5 documents/);
  const image = refusal(() =>
    build('converse', 'anthropic.claude-opus-4-7', { messages: [{ role: 'user', content: [file('a.png', 'image/png')] }] }),
  );
  assert.match(image.message, /not a document Bedrock reads/);
  assert.equal(documentName('Q3 report (final).v2.pdf', 'x'), 'Q3 report (final)-v2');
  assert.equal(documentName('名前.pdf', 'document 1'), '--');
  assert.equal(documentName(undefined, 'document 1'), 'document 1');
  const twice = build('converse', 'anthropic.claude-opus-4-7', { messages: [{ role: 'user', content: [file('a.pdf'), file('a.pdf')] }] });
  assert.match(JSON.stringify(twice.body), /"name":"a \(2\)"/);
  const octet = build('converse', 'anthropic.claude-opus-4-7', {
    messages: [{ role: 'user', content: [file('sheet.csv', 'application/octet-stream')] }],
  });
  assert.match(JSON.stringify(octet.body), /"format":"csv"/);
});

test('request rules: service_tier per request or alias, auto omitted, invoke headers, converse body', () => {
  const invoke = build(
    'invoke',
    'anthropic.claude-opus-4-7',
    { service_tier: 'priority', messages: [{ role: 'user', content: 'Hi' }] },
    { alias: { performance: 'optimized', serviceTier: 'flex' } },
  );
  assert.deepEqual(invoke.headers, { 'x-amzn-bedrock-service-tier': 'priority', 'x-amzn-bedrock-performanceconfig-latency': 'optimized' });
  assert.ok(!JSON.stringify(invoke.body).includes('priority'), 'invoke carries the tier in a header only');
  const fromAlias = build(
    'converse',
    'anthropic.claude-opus-4-7',
    { messages: [{ role: 'user', content: 'Hi' }] },
    { alias: { serviceTier: 'flex' } },
  );
  assert.deepEqual(fromAlias.body.serviceTier, { type: 'flex' });
  const auto = build(
    'converse',
    'anthropic.claude-opus-4-7',
    { service_tier: 'auto', messages: [{ role: 'user', content: 'Hi' }] },
    { alias: { serviceTier: 'flex' } },
  );
  assert.deepEqual(auto.body.serviceTier, { type: 'flex' }, "a request's auto leaves the alias's choice");
  const aliasAuto = build(
    'converse',
    'anthropic.claude-opus-4-7',
    { messages: [{ role: 'user', content: 'Hi' }] },
    { alias: { serviceTier: 'auto' } },
  );
  assert.equal(aliasAuto.body.serviceTier, undefined);
  assert.equal(
    refusal(() => build('converse', 'anthropic.claude-opus-4-7', { service_tier: 'scale', messages: [{ role: 'user', content: 'Hi' }] }))
      .param,
    'service_tier',
  );
  for (const [route, modelId] of [
    ['invoke', 'cohere.command-r-plus-v1:0'],
    ['converse', 'amazon.titan-text-express-v1'],
  ] as const) {
    const b = build(route, modelId, { service_tier: 'default', messages: [{ role: 'user', content: 'Hi' }] });
    if (route === 'invoke') assert.equal(b.headers['x-amzn-bedrock-service-tier'], 'default');
    else assert.deepEqual(b.body.serviceTier, { type: 'default' });
  }
});

test('request rules: client hints and no-op values are accepted and dropped with a debug note; non-default values stay 400s', () => {
  const hints = {
    seed: 7,
    store: true,
    verbosity: 'low',
    prompt_cache_key: 'k',
    safety_identifier: 'u1',
    frequency_penalty: 0,
    presence_penalty: 0,
    logprobs: false,
    n: 1,
  };
  for (const [route, modelId] of [
    ['invoke', 'anthropic.claude-opus-4-7'],
    ['converse', 'us.amazon.nova-lite-v1:0'],
    ['invoke', 'meta.llama3-1-70b-instruct-v1:0'],
  ] as const) {
    const built = build(route, modelId, { ...hints, messages: [{ role: 'user', content: 'Hi' }] });
    const text = JSON.stringify(built.body);
    for (const key of Object.keys(hints)) {
      assert.ok(!text.includes(`"${key}":`), `${modelId}: ${key} not upstream`);
      assert.ok(
        built.notes.some((n) => n.includes(`"${key}"`)),
        `${modelId}: ${key} dropped with a note (${built.notes.join(' | ')})`,
      );
    }
  }
  const seeded = build('converse', 'cohere.command-r-plus-v1:0', { seed: 7, messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal((seeded.body.additionalModelRequestFields as Record<string, unknown>).seed, 7, 'a family that takes seed still gets it');
  assert.equal(
    refusal(() => build('invoke', 'anthropic.claude-opus-4-7', { frequency_penalty: 0.5, messages: [{ role: 'user', content: 'Hi' }] }))
      .param,
    'frequency_penalty',
  );
  assert.equal(
    refusal(() => build('invoke', 'anthropic.claude-opus-4-7', { logprobs: true, messages: [{ role: 'user', content: 'Hi' }] })).param,
    'logprobs',
  );
  assert.equal(
    refusal(() => build('invoke', 'anthropic.claude-opus-4-7', { n: 2, messages: [{ role: 'user', content: 'Hi' }] })).param,
    'n',
  );
});

test('request rules: response_format json_object with a schema (instructor) is json_schema with that schema', () => {
  const schema = { title: 'User Info', type: 'object', properties: { name: { type: 'string' } } };
  // Sonnet 4.6: Bedrock takes no structured outputs for Claude from Opus 4.7 on (claude-rules.ts).
  const built = build('converse', 'global.anthropic.claude-sonnet-4-6', {
    response_format: { type: 'json_object', schema },
    messages: [{ role: 'user', content: 'Hi' }],
  });
  const json = (built.body.outputConfig as Record<string, Record<string, Record<string, Record<string, unknown>>>>).textFormat!.structure!
    .jsonSchema!;
  assert.equal(json.name, 'User_Info');
  assert.deepEqual(JSON.parse(json.schema as string), { ...schema, additionalProperties: false });
});

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const FAMILY_GOLDEN: Array<[string, Route, string, Record<string, unknown>]> = [
  [
    'family-kimi-invoke',
    'invoke',
    'moonshot.kimi-k2-thinking',
    {
      temperature: 1.4,
      tools: [WEATHER],
      tool_choice: 'auto',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Oslo?' },
      ],
    },
  ],
  [
    'family-kimi-converse',
    'converse',
    'moonshot.kimi-k2-thinking',
    { tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Oslo?' }] },
  ],
  [
    'family-minimax-converse',
    'converse',
    'minimax.minimax-m2',
    { tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Oslo?' }] },
  ],
  [
    'family-qwen3-vl-converse',
    'converse',
    'qwen.qwen3-vl-235b-a22b',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    },
  ],
  [
    'family-gemma-converse',
    'converse',
    'google.gemma-3-27b-it',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    },
  ],
  [
    'family-nemotron-converse',
    'converse',
    'nvidia.nemotron-super-3-120b',
    { tools: [WEATHER], tool_choice: 'required', messages: [{ role: 'user', content: 'Weather in Oslo?' }] },
  ],
  [
    'family-deepseek-v3-converse',
    'converse',
    'us.deepseek.v3.2',
    { tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Oslo?' }] },
  ],
];

for (const [name, route, modelId, body] of FAMILY_GOLDEN) {
  test(`2026 families golden body: ${name} (${modelId}, ${route})`, () => {
    golden(name, build(route, modelId, body).body);
  });
}

test('2026 families: what each cannot take is a 400 naming it', () => {
  const image = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }] };
  assert.equal(refusal(() => build('converse', 'qwen.qwen3-32b-v1:0', image)).param, 'messages[0].content[0]');
  assert.equal(refusal(() => build('converse', 'moonshot.kimi-k2-thinking', image)).param, 'messages[0].content[0]');
  assert.equal(
    refusal(() => build('invoke', 'moonshot.kimi-k2-thinking', { stop: ['x'], messages: [{ role: 'user', content: 'Hi' }] })).param,
    'stop',
  );
  assert.equal(
    refusal(() =>
      build('invoke', 'moonshot.kimi-k2-thinking', {
        tools: [WEATHER],
        tool_choice: 'required',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).param,
    'tool_choice',
  );
  assert.equal(
    refusal(() => build('converse', 'google.gemma-3-27b-it', { tools: [WEATHER], messages: [{ role: 'user', content: 'Hi' }] })).param,
    'tools',
  );
  assert.equal(
    refusal(() => build('converse', 'us.deepseek.r1-v1:0', { tools: [WEATHER], messages: [{ role: 'user', content: 'Hi' }] })).param,
    'tools',
  );
  assert.equal(adapterFor('invoke', 'minimax'), undefined, 'MiniMax M2 is served on converse only');
});
