/**
 * The per-family parameter policy (docs/contract.md#parameters): what a family or model cannot take is a 400
 * `unsupported_parameter` naming it, or dropped with drop_params; alias extras are checked against the
 * family's allow-list when the config loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/load.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { adapterFor, applyParamPolicy, routeSupport } from '../../src/providers/index.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';
import { isSidecarError } from '../../src/errors.ts';
import { targetFor } from './helpers.ts';

function build(
  route: Route,
  modelId: string,
  body: Record<string, unknown>,
  dropParams = false,
  alias?: Record<string, unknown>,
): { body: Record<string, unknown>; notes: string[] } {
  const target = targetFor({ route, modelId }, alias as never);
  const adapter = adapterFor(route, target.family)!;
  const notes: string[] = [];
  const note = (m: string): void => {
    notes.push(m);
  };
  const { request, unknown } = readChatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], ...body });
  const prepared = applyParamPolicy(request, unknown, adapter, dropParams, `${target.family} on ${route}`, note);
  return { body: adapter.buildBody(prepared, { target, note, dropParams }), notes };
}

function rejects(fn: () => unknown, param: string, type = 'unsupported_parameter'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSidecarError(e), String(e));
    assert.equal(e.type, type);
    assert.equal(e.param, param);
    return true;
  });
}

const NOVA1 = 'us.amazon.nova-lite-v1:0';
const NOVA2 = 'us.amazon.nova-2-lite-v1:0';
const TOOL = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } };

test('policy: response_format where the family cannot honour it is a 400 naming it', () => {
  rejects(() => build('invoke', NOVA1, { response_format: { type: 'json_object' } }), 'response_format');
  rejects(() => build('converse', 'meta.llama3-1-8b-instruct-v1:0', { response_format: { type: 'json_object' } }), 'response_format');
  rejects(
    () => build('invoke', 'ai21.jamba-1-5-mini-v1:0', { response_format: { type: 'json_schema', json_schema: { name: 'n', schema: {} } } }),
    'response_format',
  );
});

test("policy: response_format json_object on Claude's invoke body asks in the prompt, as on converse: no output_config", () => {
  const { body } = build('invoke', 'anthropic.claude-3-haiku-20240307-v1:0', { response_format: { type: 'json_object' } });
  assert.equal(body.output_config, undefined);
});

test('policy: response_format {"type":"text"} asks for nothing and is accepted by every family', () => {
  for (const [route, id] of [
    ['invoke', NOVA1],
    ['invoke', 'amazon.titan-text-express-v1'],
    ['converse', 'meta.llama3-1-8b-instruct-v1:0'],
  ] as const) {
    assert.doesNotThrow(() => build(route, id, { response_format: { type: 'text' } }));
  }
});

test('policy: response_format json_schema on converse goes to outputConfig.textFormat with the schema as a string, closed', () => {
  const { body } = build('converse', 'openai.gpt-oss-20b-1:0', {
    response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: {} } } },
  });
  assert.deepEqual(body.outputConfig, {
    textFormat: {
      type: 'json_schema',
      structure: { jsonSchema: { schema: '{"type":"object","properties":{},"additionalProperties":false}', name: 'n' } },
    },
  });
});

test('policy: Bedrock takes a structured-output schema only closed — every object schema naming its properties that the client left open gets additionalProperties: false (converse and invoke), what it set is kept', () => {
  const schema = {
    type: 'object',
    properties: {
      city: { type: 'string' },
      where: { type: 'object', properties: { lat: { type: 'number' } }, required: ['lat'] },
      stops: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
      either: { anyOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { type: 'null' }] },
      free: { type: 'object', additionalProperties: { type: 'object', properties: {} } },
      ref: { $ref: '#/$defs/tag' },
      meta: { type: 'object' },
    },
    $defs: { tag: { type: ['object', 'null'], properties: { t: { type: 'string' } } } },
    required: ['city'],
  };
  const closed = {
    type: 'object',
    properties: {
      city: { type: 'string' },
      where: { type: 'object', properties: { lat: { type: 'number' } }, required: ['lat'], additionalProperties: false },
      stops: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
      either: { anyOf: [{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, { type: 'null' }] },
      free: { type: 'object', additionalProperties: { type: 'object', properties: {}, additionalProperties: false } },
      ref: { $ref: '#/$defs/tag' },
      // A free-form map stays open: closed it would allow only {} (Bedrock's refusal names the rule instead).
      meta: { type: 'object' },
    },
    $defs: { tag: { type: ['object', 'null'], properties: { t: { type: 'string' } }, additionalProperties: false } },
    required: ['city'],
    additionalProperties: false,
  };
  const request = { response_format: { type: 'json_schema', json_schema: { name: 'n', schema } } };
  const converse = build('converse', 'anthropic.claude-sonnet-4-5-20250929-v1:0', request).body.outputConfig as {
    textFormat: { structure: { jsonSchema: { schema: string } } };
  };
  assert.deepEqual(JSON.parse(converse.textFormat.structure.jsonSchema.schema), closed);
  const invoke = build('invoke', 'openai.gpt-oss-120b-1:0', request).body.response_format as { json_schema: { schema: unknown } };
  assert.deepEqual(invoke.json_schema.schema, closed);
  // The client's own schema object is not changed.
  assert.equal((schema.properties.where as Record<string, unknown>).additionalProperties, undefined);
});

test('policy: reasoning_effort on Nova 1 is a 400; on Nova 2 it is reasoningConfig; drop_params drops it', () => {
  rejects(() => build('invoke', NOVA1, { reasoning_effort: 'low' }), 'reasoning_effort');
  rejects(() => build('converse', NOVA1, { reasoning_effort: 'low' }), 'reasoning_effort');
  assert.deepEqual((build('invoke', NOVA2, { reasoning_effort: 'high' }).body.inferenceConfig as Record<string, unknown>).reasoningConfig, {
    type: 'enabled',
    maxReasoningEffort: 'high',
  });
  const dropped = build('invoke', NOVA1, { reasoning_effort: 'low' }, true);
  assert.equal(dropped.body.inferenceConfig, undefined);
  assert.ok(dropped.notes.some((n) => n.includes('reasoning_effort')));
});

test('policy: reasoning_effort never sends a `reasoning` key to any family', () => {
  for (const [route, id] of [
    ['invoke', 'anthropic.claude-3-7-sonnet-20250219-v1:0'],
    ['converse', 'anthropic.claude-3-7-sonnet-20250219-v1:0'],
    ['invoke', NOVA2],
    ['converse', NOVA2],
    ['invoke', 'openai.gpt-oss-20b-1:0'],
    ['converse', 'openai.gpt-oss-20b-1:0'],
  ] as const) {
    const text = JSON.stringify(build(route, id, { reasoning_effort: 'medium' }).body);
    assert.ok(!text.includes('"reasoning"'), `${route} ${id}: ${text}`);
  }
  rejects(() => build('invoke', 'meta.llama3-1-8b-instruct-v1:0', { reasoning_effort: 'low' }), 'reasoning_effort');
});

test('policy: Claude thinking refuses temperature and forced tool use, as Bedrock would', () => {
  rejects(() => build('invoke', 'anthropic.claude-3-7-sonnet-20250219-v1:0', { reasoning_effort: 'low', temperature: 0.2 }), 'temperature');
  rejects(
    () => build('invoke', 'anthropic.claude-3-7-sonnet-20250219-v1:0', { reasoning_effort: 'low', tools: [TOOL], tool_choice: 'required' }),
    'tool_choice',
  );
  const { body } = build('invoke', 'anthropic.claude-3-7-sonnet-20250219-v1:0', { reasoning_effort: 'low', temperature: 0.2 }, true);
  assert.equal(body.temperature, undefined);
});

test('policy: tools on a prompt-style Mistral model are a 400; stop (invoke) and top_k (converse too) on a chat-style one', () => {
  rejects(() => build('invoke', 'mistral.mixtral-8x7b-instruct-v0:1', { tools: [TOOL] }), 'tools');
  rejects(() => build('invoke', 'mistral.mistral-large-2407-v1:0', { stop: ['x'] }), 'stop');
  rejects(() => build('converse', 'mistral.mistral-7b-instruct-v0:2', { tools: [TOOL] }), 'tools');
  // On converse too: Bedrock passes top_k to the chat model's own body, which has none (it answered 400).
  rejects(() => build('converse', 'mistral.mistral-large-2407-v1:0', { top_k: 5 }), 'top_k');
  const dropped = build('converse', 'us.mistral.pixtral-large-2502-v1:0', { top_k: 5 }, true);
  assert.equal(dropped.body.additionalModelRequestFields, undefined);
  assert.match(dropped.notes.join('\n'), /"top_k" dropped/);
  const kept = build('converse', 'mistral.mixtral-8x7b-instruct-v0:1', { top_k: 5 });
  assert.deepEqual(kept.body.additionalModelRequestFields, { top_k: 5 });
  assert.equal(build('invoke', 'mistral.mixtral-8x7b-instruct-v0:1', { tools: [TOOL] }, true).body.tools, undefined);
});

test('policy: Mistral chat forces one named function as "any" with only that tool', () => {
  const other = { type: 'function', function: { name: 'g' } };
  const { body } = build('invoke', 'mistral.mistral-large-2407-v1:0', {
    tools: [TOOL, other],
    tool_choice: { type: 'function', function: { name: 'g' } },
  });
  assert.equal(body.tool_choice, 'any');
  assert.deepEqual(
    (body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name),
    ['g'],
  );
});

test('policy: images go only to models that take them; elsewhere a 400 naming the message part', () => {
  const image = [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'see' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
      ],
    },
  ];
  rejects(() => build('invoke', 'meta.llama3-1-8b-instruct-v1:0', { messages: image }), 'messages[0].content[1]');
  rejects(() => build('invoke', 'amazon.titan-text-express-v1', { messages: image }), 'messages[0].content[1]');
  rejects(() => build('converse', 'deepseek.r1-v1:0', { messages: image }), 'messages[0].content[1]');
  assert.deepEqual(build('invoke', 'us.meta.llama3-2-11b-instruct-v1:0', { messages: image }).body.images, ['AAAA']);
});

test('policy: unknown anthropic_beta flags are dropped and logged on invoke and on converse', () => {
  for (const route of ['invoke', 'converse'] as const) {
    const { body, notes } = build(route, 'anthropic.claude-3-7-sonnet-20250219-v1:0', {
      anthropic_beta: ['bogus-flag', 'output-128k-2025-02-19'],
    });
    const betas = route === 'invoke' ? body.anthropic_beta : (body.additionalModelRequestFields as Record<string, unknown>).anthropic_beta;
    assert.deepEqual(betas, ['output-128k-2025-02-19']);
    assert.ok(notes.some((n) => n.includes('bogus-flag')));
  }
});

test('policy: tool_choice "none" sends no tools when the history does not need them', () => {
  for (const [route, id] of [
    ['converse', NOVA1],
    ['invoke', NOVA1],
  ] as const) {
    const { body } = build(route, id, { tools: [TOOL], tool_choice: 'none' });
    assert.equal(body.toolConfig, undefined);
  }
});

test('policy: an alias extra merges one level deep into the native body when the family allows it', () => {
  const alias = { name: 'a', additionalModelRequestFields: { inferenceConfig: { topK: 7 } } };
  const { body } = build('invoke', NOVA1, { max_tokens: 5 }, false, alias);
  assert.deepEqual(body.inferenceConfig, { maxTokens: 5, topK: 7 });
  const converse = build('converse', NOVA1, {}, false, alias).body;
  assert.deepEqual(converse.additionalModelRequestFields, { inferenceConfig: { topK: 7 } });
});

function registry(model: string, extra: Record<string, unknown>): ModelRegistry {
  const config = validateConfig({ models: [{ name: 'm', model, region: 'us-east-1', additional_model_request_fields: extra }] });
  return new ModelRegistry(config, {}, routeSupport);
}

test('policy: a disallowed additional_model_request_fields key fails the config load, naming the key and the allow-list', () => {
  assert.throws(
    () => registry('bedrock/invoke/us.amazon.nova-lite-v1:0', { stream: true }),
    /models\[0\]\.additional_model_request_fields\.stream: "stream" is not a field amazon-nova on the invoke route takes \(allowed: inferenceConfig, schemaVersion\)/,
  );
  assert.throws(() => registry('bedrock/invoke/meta.llama3-1-8b-instruct-v1:0', { top_k: 5 }), /"top_k" is not a field meta/);
  assert.throws(() => registry('bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0', { guardrails: [] }), /"guardrails"/);
  assert.doesNotThrow(() => registry('bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0', { top_k: 50 }));
  assert.doesNotThrow(() => registry('bedrock/invoke/cohere.command-r-v1:0', { documents: [] }));
});

test('policy: converse images go to Llama 3.2 vision, Llama 4 and Pixtral, and are refused by Llama 3.1 and Mistral Large 2', () => {
  const image = [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'see' },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
      ],
    },
  ];
  for (const id of ['us.meta.llama3-2-90b-instruct-v1:0', 'us.meta.llama4-scout-17b-instruct-v1:0', 'us.mistral.pixtral-large-2502-v1:0']) {
    const messages = build('converse', id, { messages: image }).body.messages as Array<{ content: unknown[] }>;
    assert.deepEqual(messages[0]!.content[1], { image: { format: 'jpeg', source: { bytes: 'AAAA' } } }, id);
  }
  rejects(() => build('converse', 'meta.llama3-1-70b-instruct-v1:0', { messages: image }), 'messages[0].content[1]');
  rejects(() => build('converse', 'mistral.mistral-large-2407-v1:0', { messages: image }), 'messages[0].content[1]');
});

test('policy: json_object on converse sends no outputConfig (Bedrock takes no open object schema), noted; Qwen invoke passes response_format through', () => {
  const { body, notes } = build('converse', 'anthropic.claude-3-haiku-20240307-v1:0', { response_format: { type: 'json_object' } });
  assert.equal(body.outputConfig, undefined);
  assert.ok(
    notes.some((n) => n.includes('json_object')),
    notes.join('\n'),
  );
  assert.deepEqual(build('invoke', 'qwen.qwen3-32b-v1:0', { response_format: { type: 'json_object' } }).body.response_format, {
    type: 'json_object',
  });
});

test('policy: n > 1 is a 400 naming it on every family, or dropped with drop_params (one choice either way); n: 1 is accepted', () => {
  for (const [route, id] of [
    ['invoke', 'ai21.jamba-1-5-mini-v1:0'],
    ['invoke', NOVA1],
    ['converse', 'meta.llama3-1-8b-instruct-v1:0'],
  ] as const) {
    rejects(() => build(route, id, { n: 2 }), 'n');
    const dropped = build(route, id, { n: 3 }, true);
    assert.equal(JSON.stringify(dropped.body).includes('"n"'), false, `${id}: n never reaches the body`);
    assert.ok(
      dropped.notes.some((n) => n.includes('"n" dropped')),
      `${id}: the drop is logged`,
    );
    assert.doesNotThrow(() => build(route, id, { n: 1 }));
  }
});

test('policy: a forced tool_choice on Cohere Command R (invoke) is a 400 naming it; with drop_params the tools are only offered', () => {
  const cohere = 'cohere.command-r-plus-v1:0';
  rejects(() => build('invoke', cohere, { tools: [TOOL], tool_choice: 'required' }), 'tool_choice');
  rejects(() => build('invoke', cohere, { tools: [TOOL], tool_choice: { type: 'function', function: { name: 'f' } } }), 'tool_choice');
  const { body, notes } = build('invoke', cohere, { tools: [TOOL], tool_choice: 'required' }, true);
  assert.ok(Array.isArray(body.tools) && body.tools.length === 1);
  assert.ok(notes.some((n) => n.includes('"tool_choice" dropped')));
  assert.doesNotThrow(() => build('invoke', cohere, { tools: [TOOL], tool_choice: 'auto' }));
});

test('request: stream_chunk_size null is a 400 naming it (docs/contract.md#rechunking: an integer from 1 to 1048576, anything else)', () => {
  rejects(
    () => readChatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream_chunk_size: null }),
    'stream_chunk_size',
    'invalid_request_error',
  );
  assert.equal(readChatRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }).request.sidecar.streamChunkSize, undefined);
});

test('request: a tool_choice naming a function that is not in tools is a 400 naming tool_choice', () => {
  const tools = [TOOL];
  rejects(
    () =>
      readChatRequest({
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
        tools,
        tool_choice: { type: 'function', function: { name: 'g' } },
      }),
    'tool_choice',
    'invalid_request_error',
  );
  assert.doesNotThrow(() =>
    readChatRequest({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'f' } },
    }),
  );
});
