// Structured outputs on converse and on an open-weight model's invoke `response_format`
// (docs/contract.md#request-rules), through the sidecar and the emulator, which holds Bedrock's rule: an object schema is taken only closed (`additionalProperties: false`). A Chat client's
// json_schema usually leaves it out (OpenAI needs it only with `strict`), so the sidecar closes every object
// schema the client left open; json_object has no schema to send, so it goes without outputConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../helpers/harness.ts';

const MODELS = [{ name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' }];
const OPEN_WEIGHT = [
  { name: 'gpt-oss', model: 'bedrock/invoke/openai.gpt-oss-20b-1:0', region: 'us-west-2' },
  { name: 'qwen', model: 'bedrock/invoke/qwen.qwen3-32b-v1:0', region: 'us-west-2' },
];
const PLACE = {
  type: 'object',
  properties: { city: { type: 'string' }, where: { type: 'object', properties: { lat: { type: 'number' } } } },
  required: ['city'],
};

test('structured output: an open json_schema reaches Bedrock closed at every level, and the answer comes back', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, where: { type: 'object', properties: { lat: { type: 'number' } } } },
      required: ['city'],
    };
    for (const stream of [false, true]) {
      h.emu.script({ type: 'text', text: '{"city":"Paris"}' });
      const res = await fetch(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({
          model: 'claude',
          stream,
          messages: [{ role: 'user', content: 'Where?' }],
          response_format: { type: 'json_schema', json_schema: { name: 'place', schema } },
        }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.ok(text.includes('Paris'), text);
      const sent = h.emu.requests.at(-1)!.json as { outputConfig: { textFormat: { structure: { jsonSchema: { schema: string } } } } };
      const closed = JSON.parse(sent.outputConfig.textFormat.structure.jsonSchema.schema) as Record<string, Record<string, unknown>>;
      assert.equal(closed.additionalProperties, false);
      assert.equal((closed.properties!.where as Record<string, unknown>).additionalProperties, false);
    }
  } finally {
    await h.close();
  }
});

test('structured output: json_object goes without outputConfig (no open schema for Bedrock to refuse)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: '{"ok":true}' });
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'claude',
        messages: [{ role: 'user', content: 'Answer in JSON.' }],
        response_format: { type: 'json_object' },
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((h.emu.requests.at(-1)!.json as Record<string, unknown>).outputConfig, undefined);
  } finally {
    await h.close();
  }
});

test("structured output on invoke: an open-weight model's response_format carries the open json_schema closed at every level", async () => {
  const h = await startHarness({ models: OPEN_WEIGHT });
  try {
    for (const model of ['gpt-oss', 'qwen']) {
      for (const stream of [false, true]) {
        h.emu.script({ type: 'text', text: '{"city":"Paris"}' });
        const res = await fetch(`${h.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({
            model,
            stream,
            messages: [{ role: 'user', content: 'Where?' }],
            response_format: { type: 'json_schema', json_schema: { name: 'place', schema: PLACE } },
          }),
        });
        const text = await res.text();
        assert.equal(res.status, 200, `${model}: ${text}`);
        assert.ok(text.includes('Paris'), text);
        const sent = h.emu.requests.at(-1)!.json as {
          response_format: { type: string; json_schema: { name: string; schema: Record<string, Record<string, unknown>> } };
        };
        assert.equal(sent.response_format.type, 'json_schema');
        assert.equal(sent.response_format.json_schema.name, 'place');
        const closed = sent.response_format.json_schema.schema;
        assert.equal(closed.additionalProperties, false);
        assert.equal((closed.properties!.where as Record<string, unknown>).additionalProperties, false);
      }
    }
  } finally {
    await h.close();
  }
});
