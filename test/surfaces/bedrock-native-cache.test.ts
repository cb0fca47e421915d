// Prompt caching on native InvokeModel (docs/contract.md#request-rules, #bedrock-native): Claude's own body
// keeps the client's `cache_control` marks; a converse alias of Claude gets them as Converse `cachePoint`
// blocks (they were lost); Bedrock's limits are its ValidationException before any call, on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODELS = [
  { name: 'claude', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' },
  { name: 'claude-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' },
];
const EPHEMERAL = { type: 'ephemeral' };
const TOOL = { name: 'lookup', description: 'find things', input_schema: { type: 'object', properties: {} } };

async function invoke(h: Harness, model: string, body: Record<string, unknown>): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${h.url}/model/${model}/invoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 20, ...body }),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

test('native invoke: cache_control on a converse alias of Claude becomes cachePoints; the limits are a ValidationException', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const res = await invoke(h, 'claude-converse', {
      tools: [{ ...TOOL, cache_control: EPHEMERAL }],
      system: [{ type: 'text', text: 'be brief', cache_control: EPHEMERAL }],
      messages: [
        { role: 'user', content: 'look it up' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'found', cache_control: EPHEMERAL }] },
            { type: 'text', text: 'and now?', cache_control: { type: 'ephemeral', ttl: '5m' } },
          ],
        },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const upstream = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, any>;
    const point = { cachePoint: { type: 'default' } };
    assert.deepEqual(upstream.toolConfig.tools.at(-1), point);
    assert.deepEqual(upstream.system, [{ text: 'be brief' }, point]);
    assert.deepEqual(upstream.messages.at(-1).content, [
      { toolResult: { toolUseId: 'toolu_1', content: [{ text: 'found' }] } },
      point,
      { text: 'and now?' },
      { cachePoint: { type: 'default', ttl: '5m' } },
    ]);

    const mark = { type: 'text', text: 'x', cache_control: EPHEMERAL };
    const before = h.emu.requests.length;
    for (const model of ['claude', 'claude-converse']) {
      const five = await invoke(h, model, {
        system: [{ type: 'text', text: 'sys', cache_control: EPHEMERAL }],
        messages: [{ role: 'user', content: [mark, mark, mark, mark] }],
      });
      assert.equal(five.status, 400, `${model}: ${JSON.stringify(five.json)}`);
      assert.equal(five.headers.get('x-amzn-errortype')?.split(':')[0], 'ValidationException');
      assert.match(five.json.message, /at most 4 cache points/);
    }
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
  } finally {
    await h.close();
  }
});
