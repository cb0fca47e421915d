// A Claude behind an id that names no model (docs/contract.md#request-rules): the SPEC's own `tuned-claude`, an
// application inference profile ARN with `provider: anthropic`. The sidecar cannot know which Claude it wraps,
// so it refuses nothing on a guess — temperature and top_p, a json_schema and a forced tool go to Converse as
// asked, beside the alias's top_k — and Bedrock answers for the model. A Claude id the table does not know
// (`claude-opus-6-1`) is still the newest generation, sampling refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const ARN = 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123';
const MODELS = [
  {
    name: 'tuned-claude',
    model: `bedrock/converse/${ARN}`,
    provider: 'anthropic',
    additional_model_request_fields: { top_k: 50 },
  },
  { name: 'future-claude', model: 'bedrock/converse/us.anthropic.claude-opus-6-1', region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const last = (h: Harness): { path: string; json: Json } => {
  const request = h.emu.requests.at(-1)!;
  return { path: request.rawPath, json: request.json as Json };
};

test('claude profile ARN: sampling, a json_schema and a forced tool go to Converse as asked, beside the alias top_k', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: '{"city":"Oslo"}' });
    const answer = await client.chat.completions.create({
      model: 'tuned-claude',
      temperature: 0.2,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'place', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      },
      messages: [{ role: 'user', content: 'Where?' }],
    });
    assert.equal(answer.choices[0]!.message.content, '{"city":"Oslo"}');
    const sent = last(h);
    assert.equal(sent.path, `/model/${encodeURIComponent(ARN)}/converse`);
    assert.deepEqual(sent.json.inferenceConfig, { temperature: 0.2, topP: 0.9 });
    assert.deepEqual(sent.json.additionalModelRequestFields, { top_k: 50 });
    assert.ok((sent.json.outputConfig as Json | undefined)?.textFormat, 'the schema is asked of Bedrock');

    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: { q: 'x' } }] });
    await client.chat.completions.create({
      model: 'tuned-claude',
      tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      messages: [{ role: 'user', content: 'Look it up.' }],
    });
    assert.deepEqual((last(h).json.toolConfig as Json).toolChoice, { any: {} });

    // A Claude id the table does not know is still taken as the newest generation.
    await assert.rejects(
      client.chat.completions.create({ model: 'future-claude', temperature: 0.2, messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && (err.error as Json).param === 'temperature',
    );
  } finally {
    await h.close();
  }
});
