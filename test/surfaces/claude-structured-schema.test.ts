// Claude's structured outputs (docs/contract.md#request-rules), through real clients, the sidecar and the
// emulator, which holds Bedrock's refusal of JSON-Schema constraint keywords in a Claude schema: the sidecar
// moves each one into its subschema's description, as Anthropic's SDKs do, and clamps minItems to 1 — on the
// Converse route (a Chat Completions response_format) and in Claude's own body (Messages' output_config.format).
// From Opus 4.7 on Bedrock takes no structured outputs for Claude: a json_schema there is a 400 naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'opus-48', model: 'bedrock/converse/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'sonnet-5-lenient', model: 'bedrock/converse/global.anthropic.claude-sonnet-5', region: 'us-east-1', drop_params: true },
];

type Json = Record<string, unknown>;

/** What zod 4 and Pydantic emit for bounded fields: z.int() alone adds the safe-integer bounds. */
const SCHEMA: Json = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 40, description: 'The city' },
    population: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
    score: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 },
    tags: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 5, uniqueItems: true },
    aliases: { type: 'array', items: { type: 'string' }, minItems: 1 },
    minimum: { type: 'string', pattern: '^[a-z]+$' },
  },
  required: ['name', 'population', 'score', 'tags', 'aliases', 'minimum'],
};

const REFUSED = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'maxItems',
  'uniqueItems',
];

/** The schema's properties as they reached Bedrock, with the checks every route shares. */
function checkSent(schema: Json): void {
  const properties = schema.properties as Record<string, Json>;
  for (const [name, property] of Object.entries(properties))
    for (const key of REFUSED) assert.equal(property[key], undefined, `${name}.${key} reached Bedrock`);
  assert.equal(properties.name!.description, 'The city\n\n{minLength: 1, maxLength: 40}');
  assert.equal(properties.population!.description, '{minimum: -9007199254740991, maximum: 9007199254740991}');
  assert.equal(properties.score!.description, '{exclusiveMinimum: 0, multipleOf: 0.5}');
  assert.equal(properties.tags!.minItems, 1);
  assert.equal(properties.tags!.description, '{maxItems: 5, uniqueItems: true, minItems: 3}');
  assert.deepEqual(properties.aliases, { type: 'array', items: { type: 'string' }, minItems: 1 });
  // A property that is called `minimum` is a name, not a keyword; `pattern` Claude takes.
  assert.deepEqual(properties.minimum, { type: 'string', pattern: '^[a-z]+$' });
}

const sentJson = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;

test('claude structured output: a Chat json_schema with constraint keywords is answered, whole and streamed, the keywords in descriptions', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const request = {
    model: 'claude',
    messages: [{ role: 'user' as const, content: 'A city?' }],
    response_format: { type: 'json_schema' as const, json_schema: { name: 'city', schema: SCHEMA } },
  };
  try {
    const sentSchemas: string[] = [];
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const whole = await client.chat.completions.create(request);
    assert.equal(whole.choices[0]!.message.content, '{"name":"Paris"}');
    sentSchemas.push(
      (sentJson(h) as { outputConfig: { textFormat: { structure: { jsonSchema: { schema: string } } } } }).outputConfig.textFormat.structure
        .jsonSchema.schema,
    );

    h.emu.script({ type: 'text', text: '{"name":"Lyon"}' });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
      text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, '{"name":"Lyon"}');
    sentSchemas.push(
      (sentJson(h) as { outputConfig: { textFormat: { structure: { jsonSchema: { schema: string } } } } }).outputConfig.textFormat.structure
        .jsonSchema.schema,
    );

    // The same schema goes as the same bytes (Bedrock's grammar cache and the prompt cache hold).
    assert.equal(sentSchemas[0], sentSchemas[1]);
    const schema = JSON.parse(sentSchemas[0]!) as Json;
    checkSent(schema);
    assert.equal(schema.additionalProperties, false);
    const note = h.logs.find((line) =>
      JSON.stringify(line).includes("keywords Claude's structured outputs refuse moved into descriptions"),
    );
    assert.ok(note, 'the change is logged');
    assert.equal(note.level, 'debug');
    assert.match(JSON.stringify(note), /properties\.tags: maxItems: 5, uniqueItems: true, minItems: 3/);
  } finally {
    await h.close();
  }
});

test("claude structured output: Messages' output_config.format reaches Claude's own body with the constraint keywords in descriptions", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const message = await client.messages.create({
      model: 'claude-invoke',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'A city?' }],
      output_config: { format: { type: 'json_schema', schema: { ...SCHEMA, additionalProperties: false } } },
    });
    assert.deepEqual(
      message.content.map((block) => (block.type === 'text' ? block.text : block.type)),
      ['{"name":"Paris"}'],
    );
    const body = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { output_config: { format: { type: string; schema: Json } } };
    assert.equal(body.output_config.format.type, 'json_schema');
    checkSent(body.output_config.format.schema);
  } finally {
    await h.close();
  }
});

test('claude structured output: from Opus 4.7 on a json_schema is a 400 naming response_format (text.format on Responses) before any call', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'A city?' }];
  const format = {
    type: 'json_schema' as const,
    json_schema: { name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } } },
  };
  try {
    const calls = h.emu.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'opus-48', messages, response_format: format }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal((error.error as { param?: string }).param, 'response_format');
      assert.match(error.message, /json_schema is not supported by us\.anthropic\.claude-opus-4-8 \(Bedrock takes no structured outputs/);
      return true;
    });
    await assert.rejects(
      client.responses.create({
        model: 'opus-48',
        input: 'A city?',
        text: { format: { type: 'json_schema', name: 'city', schema: format.json_schema.schema } },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal((error.error as { param?: string }).param, 'text.format');
        return true;
      },
    );
    assert.equal(h.emu.requests.length, calls, 'refused before any call');

    // json_object asks in the prompt, so it still works; with drop_params a json_schema goes without outputConfig.
    h.emu.script({ type: 'text', text: '{"name":"Paris"}' });
    const json = await client.chat.completions.create({ model: 'opus-48', messages, response_format: { type: 'json_object' } });
    assert.equal(json.choices[0]!.message.content, '{"name":"Paris"}');
    h.emu.script({ type: 'text', text: '{"name":"Lyon"}' });
    const lenient = await client.chat.completions.create({ model: 'sonnet-5-lenient', messages, response_format: format });
    assert.equal(lenient.choices[0]!.message.content, '{"name":"Lyon"}');
    assert.equal(sentJson(h).outputConfig, undefined);
  } finally {
    await h.close();
  }
});
