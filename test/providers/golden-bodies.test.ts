/**
 * Golden upstream bodies: for every family × route, one representative OpenAI request (system prompt,
 * history with a tool call and its result, an image where the model takes one, tools where the family
 * takes them, every sampling parameter the family's allow-list names) is built into the native body and
 * compared with `test/fixtures/providers/bodies/<case>.json`. The stream and non-stream bodies are the same
 * body (only the operation differs) and are both checked. Regenerate with UPDATE_GOLDENS=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Route } from '../../src/config/schema.ts';
import { expectJsonGolden } from '../helpers/golden.ts';
import { targetFor } from './helpers.ts';
import { adapterFor, applyParamPolicy } from '../../src/providers/index.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';
import { SIDECAR_PARAMS } from '../../src/providers/request.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/providers/bodies');

/** 1×1 transparent PNG */
export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

export interface Case {
  name: string;
  route: Route;
  modelId: string;
  tools?: boolean;
  image?: boolean;
  extra?: Record<string, unknown>;
}

export const CASES: Case[] = [
  {
    name: 'anthropic-invoke',
    route: 'invoke',
    modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    tools: true,
    image: true,
    extra: { top_k: 40, stop: ['END'], anthropic_beta: ['token-efficient-tools-2025-02-19', 'made-up-beta'] },
  },
  {
    name: 'anthropic-invoke-thinking',
    route: 'invoke',
    modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    tools: true,
    extra: { reasoning_effort: 'low', temperature: undefined, top_p: undefined },
  },
  {
    name: 'anthropic-converse',
    route: 'converse',
    modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    tools: true,
    image: true,
    extra: {
      top_k: 40,
      stop: ['END'],
      anthropic_beta: ['interleaved-thinking-2025-05-14', 'made-up-beta'],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } },
      },
    },
  },
  {
    name: 'nova-invoke',
    route: 'invoke',
    modelId: 'us.amazon.nova-lite-v1:0',
    tools: true,
    image: true,
    extra: { top_k: 20, stop: ['END'] },
  },
  {
    name: 'nova2-invoke-reasoning',
    route: 'invoke',
    modelId: 'us.amazon.nova-2-lite-v1:0',
    tools: true,
    extra: { reasoning_effort: 'medium' },
  },
  {
    name: 'nova-converse',
    route: 'converse',
    modelId: 'us.amazon.nova-lite-v1:0',
    tools: true,
    image: true,
    extra: { top_k: 20, stop: ['END'] },
  },
  {
    name: 'nova2-converse-reasoning',
    route: 'converse',
    modelId: 'us.amazon.nova-2-lite-v1:0',
    tools: true,
    extra: { reasoning_effort: 'low' },
  },
  { name: 'titan-invoke', route: 'invoke', modelId: 'amazon.titan-text-express-v1', extra: { stop: ['User:'] } },
  { name: 'titan-converse', route: 'converse', modelId: 'amazon.titan-text-express-v1', extra: { stop: ['User:'] } },
  { name: 'llama3-invoke', route: 'invoke', modelId: 'us.meta.llama3-1-70b-instruct-v1:0' },
  { name: 'llama3-2-vision-invoke', route: 'invoke', modelId: 'us.meta.llama3-2-90b-instruct-v1:0', image: true },
  { name: 'llama4-invoke', route: 'invoke', modelId: 'us.meta.llama4-maverick-17b-instruct-v1:0' },
  { name: 'llama-converse', route: 'converse', modelId: 'us.meta.llama3-1-70b-instruct-v1:0', tools: true, extra: { stop: ['END'] } },
  { name: 'mistral-large2-invoke', route: 'invoke', modelId: 'mistral.mistral-large-2407-v1:0', tools: true },
  { name: 'mistral-prompt-invoke', route: 'invoke', modelId: 'mistral.mixtral-8x7b-instruct-v0:1', extra: { top_k: 50, stop: ['</s>'] } },
  {
    name: 'mistral-converse',
    route: 'converse',
    modelId: 'mistral.mistral-large-2407-v1:0',
    tools: true,
    // No top_k: Bedrock hands it to the chat model's body, which has none (param-policy.test.ts).
    extra: { stop: ['END'] },
  },
  {
    name: 'cohere-invoke',
    route: 'invoke',
    modelId: 'cohere.command-r-plus-v1:0',
    tools: true,
    extra: { top_k: 10, stop: ['END'], seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25 },
  },
  {
    name: 'cohere-converse',
    route: 'converse',
    modelId: 'cohere.command-r-plus-v1:0',
    tools: true,
    extra: { top_k: 10, stop: ['END'], seed: 7 },
  },
  {
    name: 'ai21-invoke',
    route: 'invoke',
    modelId: 'ai21.jamba-1-5-large-v1:0',
    tools: true,
    extra: { stop: ['END'], presence_penalty: 0.5, response_format: { type: 'json_object' } },
  },
  { name: 'ai21-converse', route: 'converse', modelId: 'ai21.jamba-1-5-large-v1:0', extra: { stop: ['END'], presence_penalty: 0.5 } },
  { name: 'deepseek-invoke', route: 'invoke', modelId: 'us.deepseek.r1-v1:0', extra: { stop: ['END'] } },
  { name: 'deepseek-converse', route: 'converse', modelId: 'us.deepseek.r1-v1:0', extra: { stop: ['END'] } },
  {
    name: 'openai-invoke',
    route: 'invoke',
    modelId: 'openai.gpt-oss-120b-1:0',
    tools: true,
    extra: {
      stop: ['END'],
      reasoning_effort: 'high',
      seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
    },
  },
  {
    name: 'openai-converse',
    route: 'converse',
    modelId: 'openai.gpt-oss-120b-1:0',
    tools: true,
    // No stop: gpt-oss refuses stopSequences on converse (src/providers/inference-fields.ts).
    extra: { reasoning_effort: 'minimal' },
  },
  {
    name: 'qwen-invoke',
    route: 'invoke',
    modelId: 'qwen.qwen3-32b-v1:0',
    tools: true,
    extra: { stop: ['END'], tool_choice: { type: 'function', function: { name: 'get_weather' } } },
  },
  {
    name: 'qwen-converse',
    route: 'converse',
    modelId: 'qwen.qwen3-32b-v1:0',
    tools: true,
    // No stop: Qwen refuses stopSequences on converse (src/providers/inference-fields.ts).
    extra: { tool_choice: 'required' },
  },
];

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};

/** The representative OpenAI request of a case. */
export function requestFor(c: Case, stream: boolean): Record<string, unknown> {
  const user: unknown = c.image
    ? [
        { type: 'text', text: 'What is in this picture, and the weather?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ]
    : 'What is the weather in Paris?';
  const messages: unknown[] = [{ role: 'system', content: 'You are terse.' }];
  if (c.tools) {
    messages.push(
      { role: 'user', content: 'Weather in Lyon?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
      { role: 'assistant', content: 'Lyon: 21°C.' },
    );
  } else {
    messages.push({ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello — how can I help?' });
  }
  messages.push({ role: 'user', content: user });
  const body: Record<string, unknown> = {
    model: `bedrock/${c.route}/${c.modelId}`,
    stream,
    messages,
    max_tokens: 512,
    temperature: 0.5,
    top_p: 0.9,
    // sidecar parameters: taken out before any body is built
    stream_chunk_size: 7,
    guardrails: [],
    stream_options: { include_usage: true },
  };
  if (c.tools) Object.assign(body, { tools: [WEATHER_TOOL], tool_choice: 'auto' });
  for (const [key, value] of Object.entries(c.extra ?? {})) {
    if (value === undefined) delete body[key];
    else body[key] = value;
  }
  return body;
}

export function buildFor(c: Case, stream: boolean, notes: string[] = []): Record<string, unknown> {
  const target = targetFor(c);
  const adapter = adapterFor(c.route, target.family);
  assert.ok(adapter, `${c.name}: an adapter exists`);
  const { request, unknown } = readChatRequest(requestFor(c, stream));
  const note = (m: string): void => {
    notes.push(m);
  };
  const prepared = applyParamPolicy(request, unknown, adapter, false, c.name, note);
  return adapter.buildBody(prepared, { target, note, dropParams: false });
}

for (const c of CASES) {
  test(`golden body: ${c.name} (${c.modelId}) builds the documented native body, stream and non-stream alike`, () => {
    const streamed = buildFor(c, true);
    const whole = buildFor(c, false);
    assert.deepEqual(streamed, whole, 'the stream and non-stream bodies are one body');
    expectJsonGolden(join(FIXTURES, `${c.name}.json`), streamed);
    const text = JSON.stringify(streamed);
    for (const key of SIDECAR_PARAMS) assert.ok(!text.includes(key), `${key} never reaches the body`);
    for (const key of ['"model"', '"stream"', '"guardrails"']) assert.ok(!text.includes(`${key}:`), `${key} is not in the body`);
  });
}
