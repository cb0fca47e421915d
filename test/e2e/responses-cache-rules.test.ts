/**
 * Prompt caching on the Responses surface (docs/contract.md#request-rules): `cache_control` on a part, an
 * item or a tool becomes Converse `cachePoint` blocks or stays native `cache_control` on Claude invoke; on a
 * family that cannot cache it is a 400 naming it (dropped with drop_params) — never silently lost — and a
 * stored conversation continued with previous_response_id does not carry its old marks into the new request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODELS = [
  { name: 'claude', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' },
  { name: 'claude-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
  { name: 'llama-drop', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1', drop_params: true },
];
const EPHEMERAL = { type: 'ephemeral' };
const TOOL = { type: 'function', name: 'lookup', description: 'find things', parameters: { type: 'object', properties: {} } };

async function post(h: Harness, body: Record<string, unknown>): Promise<{ status: number; json: any; upstream: any }> {
  const before = h.emu.requests.length;
  const res = await fetch(`${h.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  const upstream = h.emu.requests.length > before ? JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) : undefined;
  return { status: res.status, json, upstream };
}

/** Marks on a tool, a developer item, a function call output and a user part. */
function marked(model: string): Record<string, unknown> {
  return {
    model,
    tools: [{ ...TOOL, cache_control: EPHEMERAL }],
    input: [
      { role: 'developer', content: 'be brief', cache_control: EPHEMERAL },
      { role: 'user', content: 'look it up' },
      { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'found', cache_control: EPHEMERAL },
      { role: 'user', content: [{ type: 'input_text', text: 'and now?', cache_control: { type: 'ephemeral', ttl: '5m' } }] },
    ],
  };
}

test('responses: cache_control becomes Converse cachePoints and stays native cache_control on Claude invoke', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const converse = await post(h, marked('claude-converse'));
    assert.equal(converse.status, 200, JSON.stringify(converse.json));
    const point = { cachePoint: { type: 'default' } };
    assert.deepEqual(converse.upstream.toolConfig.tools.at(-1), point);
    assert.deepEqual(converse.upstream.system, [{ text: 'be brief' }, point]);
    assert.deepEqual(converse.upstream.messages.at(-1).content, [
      { toolResult: { toolUseId: 'call_1', content: [{ text: 'found' }] } },
      point,
      { text: 'and now?' },
      { cachePoint: { type: 'default', ttl: '5m' } },
    ]);

    const invoke = await post(h, marked('claude'));
    assert.equal(invoke.status, 200, JSON.stringify(invoke.json));
    assert.deepEqual(invoke.upstream.tools[0].cache_control, EPHEMERAL);
    assert.deepEqual(invoke.upstream.system, [{ type: 'text', text: 'be brief', cache_control: EPHEMERAL }]);
    assert.deepEqual(invoke.upstream.messages.at(-1).content, [
      { type: 'tool_result', tool_use_id: 'call_1', content: 'found', cache_control: EPHEMERAL },
      { type: 'text', text: 'and now?', cache_control: { type: 'ephemeral', ttl: '5m' } },
    ]);

    // A malformed mark is a 400 naming where it is, as on Chat Completions.
    const bad = await post(h, { model: 'claude', input: [{ role: 'user', content: 'hi', cache_control: { type: 'forever' } }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'input[0].cache_control');
  } finally {
    await h.close();
  }
});

test('responses: cache_control on a family that cannot cache is a 400 naming it, or dropped with drop_params', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const before = h.emu.requests.length;
    const refused = await post(h, marked('llama'));
    assert.equal(refused.status, 400, JSON.stringify(refused.json));
    assert.equal(refused.json.error.param, 'cache_control');
    assert.match(refused.json.error.message, /cache_control/);
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');

    const dropped = await post(h, marked('llama-drop'));
    assert.equal(dropped.status, 200, JSON.stringify(dropped.json));
    assert.equal(JSON.stringify(dropped.upstream).includes('cachePoint'), false);
    assert.ok(h.logs.some((l) => String(l.msg).includes('"cache_control" dropped')));
  } finally {
    await h.close();
  }
});

test("responses: previous_response_id continues without the stored turns' cache marks (each request marks its own)", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const turn = (text: string): Record<string, unknown> => ({
      role: 'user',
      content: [{ type: 'input_text', text, cache_control: EPHEMERAL }],
    });
    let previous: string | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await post(h, {
        model: 'claude-converse',
        input: [turn(`question ${i}`)],
        ...(previous ? { previous_response_id: previous } : {}),
      });
      assert.equal(res.status, 200, `turn ${i}: ${JSON.stringify(res.json)}`);
      const points = JSON.stringify(res.upstream.messages).match(/cachePoint/g) ?? [];
      assert.equal(points.length, 1, `turn ${i}: only this request's own point`);
      previous = res.json.id as string;
    }
  } finally {
    await h.close();
  }
});
