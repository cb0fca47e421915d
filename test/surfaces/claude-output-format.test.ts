// Structured outputs between Anthropic's `output_config.format` and OpenAI's `response_format`
// (docs/contract.md#request-rules), through real clients, the sidecar and the emulator: a Messages client's
// schema reaches a converse alias of Claude (and the beta's `output_format` Claude's own body); a Chat or
// Responses client's json_schema reaches Claude's translated invoke body as `output_config.format`; where the
// schema cannot be honoured the Messages client gets a 400 naming `output_config.format`, never prose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const MODELS = [
  { name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'opus-48', model: 'bedrock/converse/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'opus-48-invoke', model: 'bedrock/invoke/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', region: 'us-east-1' },
  { name: 'opus-48-lenient', model: 'bedrock/converse/us.anthropic.claude-opus-4-8', region: 'us-east-1', drop_params: true },
];

type Json = Record<string, unknown>;

/** A schema with a keyword Claude refuses (moved into the description) and an object left open (closed). */
const SCHEMA: Json = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 40 } },
  required: ['name'],
};
const SENT: Json = {
  type: 'object',
  properties: { name: { type: 'string', description: '{maxLength: 40}' } },
  required: ['name'],
  additionalProperties: false,
};

const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;
const converseSchema = (body: Json): Json =>
  JSON.parse(
    (body as { outputConfig: { textFormat: { structure: { jsonSchema: { schema: string } } } } }).outputConfig.textFormat.structure
      .jsonSchema.schema,
  ) as Json;
const invokeFormat = (body: Json): Json => (body as { output_config: { format: Json } }).output_config.format;

const question = [{ role: 'user' as const, content: 'A city?' }];

test("claude output format: Messages' output_config.format reaches a converse alias of Claude as outputConfig.textFormat, whole and streamed", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const request = {
    model: 'claude',
    max_tokens: 200,
    messages: question,
    output_config: { format: { type: 'json_schema' as const, schema: SCHEMA } },
  };
  try {
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const message = await client.messages.create(request);
    assert.deepEqual(
      message.content.map((b) => (b.type === 'text' ? b.text : b.type)),
      ['{"name":"Paris"}'],
    );
    assert.deepEqual(converseSchema(sent(h)), SENT);

    h.emu.script({ type: 'text', text: '{"name":"Lyon"}' });
    let text = '';
    for await (const event of await client.messages.create({ ...request, stream: true }))
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    assert.equal(text, '{"name":"Lyon"}');
    assert.deepEqual(converseSchema(sent(h)), SENT);
  } finally {
    await h.close();
  }
});

test("claude output format: the beta's top-level output_format is read as output_config.format (converse) and sent as it (Claude's own body)", async () => {
  const h = await startHarness({ models: MODELS });
  const post = (model: string): Promise<Response> =>
    fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' },
      body: JSON.stringify({
        model,
        max_tokens: 200,
        messages: question,
        output_format: { type: 'json_schema', schema: { ...SCHEMA, additionalProperties: false } },
      }),
    });
  try {
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const converse = await post('claude');
    assert.equal(converse.status, 200, await converse.clone().text());
    assert.deepEqual(converseSchema(sent(h)), SENT);

    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const invoke = await post('claude-invoke');
    assert.equal(invoke.status, 200, await invoke.clone().text());
    const body = sent(h);
    assert.equal(body.output_format, undefined);
    // Where Bedrock takes it, the keywords Claude refuses in descriptions.
    assert.deepEqual(invokeFormat(body), { type: 'json_schema', schema: SENT });
  } finally {
    await h.close();
  }
});

test('claude output format: a Messages structured output a target cannot honour is a 400 naming output_config.format, not prose', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const format = { format: { type: 'json_schema' as const, schema: SCHEMA } };
  try {
    const calls = h.emu.requests.length;
    for (const model of ['nova-invoke', 'opus-48']) {
      await assert.rejects(
        client.messages.create({ model, max_tokens: 200, messages: question, output_config: format }),
        (error: unknown) => {
          assert.ok(error instanceof Anthropic.BadRequestError, String(error));
          assert.match(error.message, /"output_config\.format"/);
          assert.doesNotMatch(error.message, /response_format/);
          return true;
        },
      );
    }
    assert.equal(h.emu.requests.length, calls, 'refused before any call');
    // An alias's drop_params drops it, as it drops every parameter.
    h.emu.script({ type: 'text', text: 'Paris' });
    const lenient = await client.messages.create({ model: 'opus-48-lenient', max_tokens: 200, messages: question, output_config: format });
    assert.deepEqual(
      lenient.content.map((b) => (b.type === 'text' ? b.text : b.type)),
      ['Paris'],
    );
    assert.equal(sent(h).outputConfig, undefined);
    // A malformed format is a 400 naming it.
    await assert.rejects(
      client.messages.create({
        model: 'claude',
        max_tokens: 200,
        messages: question,
        output_config: { format: { type: 'json_schema', schema: 'x' } as never },
      }),
      /output_config\.format\.schema/,
    );
  } finally {
    await h.close();
  }
});

test("claude output format: a Chat or Responses json_schema reaches Claude's translated invoke body as output_config.format, whole and streamed", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const request = {
    model: 'claude-invoke',
    messages: question,
    reasoning_effort: 'low' as const,
    response_format: { type: 'json_schema' as const, json_schema: { name: 'city', schema: SCHEMA } },
  };
  try {
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const whole = await client.chat.completions.create(request);
    assert.equal(whole.choices[0]!.message.content, '{"name":"Paris"}');
    assert.deepEqual(invokeFormat(sent(h)), { type: 'json_schema', schema: SENT });
    assert.ok(sent(h).thinking, 'thinking goes beside the format');

    h.emu.script({ type: 'text', text: '{"name":"Lyon"}' });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
      text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, '{"name":"Lyon"}');
    assert.deepEqual(invokeFormat(sent(h)), { type: 'json_schema', schema: SENT });

    h.emu.script({ type: 'text', text: '{"name":"Nice"}' });
    const response = await client.responses.create({
      model: 'claude-invoke',
      input: 'A city?',
      text: { format: { type: 'json_schema', name: 'city', schema: SCHEMA } },
    });
    assert.equal(response.output_text, '{"name":"Nice"}');
    assert.deepEqual(invokeFormat(sent(h)), { type: 'json_schema', schema: SENT });

    // From Opus 4.7 on: the same 400 as on converse, before any call.
    const calls = h.emu.requests.length;
    await assert.rejects(
      client.chat.completions.create({ ...request, model: 'opus-48-invoke', reasoning_effort: undefined }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal((error.error as { param?: string }).param, 'response_format');
        assert.match(error.message, /json_schema is not supported by us\.anthropic\.claude-opus-4-8 \(Bedrock takes no structured outputs/);
        return true;
      },
    );
    assert.equal(h.emu.requests.length, calls);
  } finally {
    await h.close();
  }
});

test("claude output format: native InvokeModel's output_config.format reaches a converse alias of Claude", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const body = Buffer.from(
      JSON.stringify({
        anthropic_version: 'bedrock-2023-05-31',
        max_tokens: 100,
        messages: question,
        output_config: { format: { type: 'json_schema', schema: SCHEMA } },
      }),
    );
    const answer = await nativeClient(h).send(new InvokeModelCommand({ modelId: 'claude', body, contentType: 'application/json' }));
    const message = JSON.parse(Buffer.from(answer.body).toString('utf8')) as { content: Json[] };
    assert.deepEqual(message.content, [{ type: 'text', text: '{"name":"Paris"}' }]);
    assert.deepEqual(converseSchema(sent(h)), SENT);
  } finally {
    await h.close();
  }
});
