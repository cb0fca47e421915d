/**
 * JSON a client writes inside a string (a tool call's arguments, a tool's output, a Converse schema string) is held
 * to the request body's nesting limit (src/json-checks.ts), which cannot see into a string: 20,000 levels (a 200 KB
 * string) parsed, then overflowed the stack when the body for Bedrock was serialised, a 500 (attack16). Where the
 * JSON must be an object it is a 400 naming it; where text will do, it goes as the text it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' };
const LLAMA = { name: 'llama', model: 'bedrock/invoke/us.meta.llama3-1-70b-instruct-v1:0', region: 'us-east-1' };
const COHERE = { name: 'cohere', model: 'bedrock/invoke/cohere.command-r-plus-v1:0', region: 'us-east-1' };
const LEVELS = 20_000;
const DEEP = '{"a":'.repeat(LEVELS) + '1' + '}'.repeat(LEVELS);

function history(args: string, output = 'sunny'): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: args } }] },
    { role: 'tool', tool_call_id: 'call_1', content: output },
  ];
}

async function withRig(run: (h: Harness, client: OpenAI) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [CLAUDE, NOVA, LLAMA, COHERE] });
  try {
    await run(h, new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  } finally {
    await h.close();
  }
}

test('chat: tool-call arguments nested past the body limit are a 400 naming the call, for a family that is sent them as an object', async () => {
  await withRig(async (h, client) => {
    for (const model of ['claude', 'nova', 'cohere']) {
      const error = await client.chat.completions.create({ model, messages: history(DEEP) }).then(
        () => assert.fail(`${model}: expected a 400`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OpenAI.BadRequestError, model);
      assert.equal(error.param, 'messages[1].tool_calls[0]', model);
      assert.match(error.message, /tool call "weather" has arguments nested deeper than 512 levels/, model);
    }
    assert.equal(h.emu.requests.length, 0);
  });
});

test('chat: such arguments to a prompt-template family, and such a tool output to Cohere, go as the text they are', async () => {
  await withRig(async (h, client) => {
    h.emu.script({ type: 'text', text: 'ok' });
    const llama = await client.chat.completions.create({ model: 'llama', messages: history(DEEP) });
    assert.equal(llama.choices[0]!.message.content, 'ok');
    // The template writes the call as JSON with its arguments as the string they are.
    const prompt = (JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { prompt: string }).prompt;
    assert.ok(prompt.includes(`"arguments":${JSON.stringify(DEEP).slice(0, 200)}`), prompt.slice(0, 300));

    h.emu.script({ type: 'text', text: 'ok' });
    const cohere = await client.chat.completions.create({ model: 'cohere', messages: history('{}', DEEP) });
    assert.equal(cohere.choices[0]!.message.content, 'ok');
    const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { tool_results: Array<{ outputs: unknown[] }> };
    assert.deepEqual(sent.tool_results[0]!.outputs, [{ result: DEEP }]);
  });
});

test('native: a Converse outputConfig schema string nested past the body limit is a 400 naming it', async () => {
  await withRig(async (h) => {
    const res = await fetch(`${h.url}/model/anthropic.claude-opus-4-6-v1/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: DEEP, name: 'r' } } } },
      }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { message: 'outputConfig.textFormat.structure.jsonSchema.schema: nests deeper than 512 levels' });
    assert.equal(h.emu.requests.length, 0);
  });
});
