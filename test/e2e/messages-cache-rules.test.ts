/**
 * Prompt caching on the Messages surface (docs/contract.md#request-rules, #anthropic-messages): the client's
 * `cache_control` marks reach Bedrock as the target takes them — native on Claude's own body, Converse
 * `cachePoint` blocks for Claude on a converse alias and for Nova, dropped and logged (never a 400, never
 * silently) for a family that cannot cache — and Bedrock's limits are a 400 naming the rule before any call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODELS = [
  { name: 'claude', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' },
  { name: 'claude-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
];
const EPHEMERAL = { type: 'ephemeral' };
const TOOL = { name: 'lookup', description: 'find things', input_schema: { type: 'object', properties: {} } };

async function post(h: Harness, body: Record<string, unknown>): Promise<{ status: number; json: any; upstream: any }> {
  const before = h.emu.requests.length;
  const res = await fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ max_tokens: 20, ...body }),
  });
  const json: unknown = await res.json();
  const upstream = h.emu.requests.length > before ? JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) : undefined;
  return { status: res.status, json, upstream };
}

/** A conversation with a mark on the tool, the system prompt, a tool result and the last user text. */
function markedConversation(model: string): Record<string, unknown> {
  return {
    model,
    tools: [{ ...TOOL, cache_control: EPHEMERAL }],
    system: [{ type: 'text', text: 'be brief', cache_control: EPHEMERAL }],
    messages: [
      { role: 'user', content: 'look it up' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'found', cache_control: EPHEMERAL },
          { type: 'text', text: 'and now?', cache_control: { type: 'ephemeral', ttl: '5m' } },
        ],
      },
    ],
  };
}

test('messages: cache_control becomes Converse cachePoints for Claude on converse and Nova, and is dropped and logged elsewhere', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const claude = await post(h, markedConversation('claude-converse'));
    assert.equal(claude.status, 200, JSON.stringify(claude.json));
    const point = { cachePoint: { type: 'default' } };
    assert.deepEqual(claude.upstream.toolConfig.tools, [
      { toolSpec: { name: 'lookup', description: 'find things', inputSchema: { json: TOOL.input_schema } } },
      point,
    ]);
    assert.deepEqual(claude.upstream.system, [{ text: 'be brief' }, point]);
    assert.deepEqual(claude.upstream.messages.at(-1).content, [
      { toolResult: { toolUseId: 'toolu_1', content: [{ text: 'found' }] } },
      point,
      { text: 'and now?' },
      { cachePoint: { type: 'default', ttl: '5m' } },
    ]);

    // Nova caches the system prompt and messages, not its tools: that point is dropped and logged.
    const nova = await post(h, markedConversation('nova'));
    assert.equal(nova.status, 200, JSON.stringify(nova.json));
    assert.deepEqual(nova.upstream.system, [{ text: 'be brief' }, point]);
    assert.equal(JSON.stringify(nova.upstream.toolConfig).includes('cachePoint'), false);
    assert.equal(nova.upstream.messages.at(-1).content.filter((b: Record<string, unknown>) => 'cachePoint' in b).length, 2);
    assert.ok(h.logs.some((l) => String(l.msg).includes('"cache_control" dropped') && String(l.msg).includes('on a tool')));

    // A family that cannot cache: the request is served, the marks are dropped, and the log says so.
    const logged = h.logs.length;
    const llama = await post(h, markedConversation('llama'));
    assert.equal(llama.status, 200, JSON.stringify(llama.json));
    assert.equal(JSON.stringify(llama.upstream).includes('cachePoint'), false);
    assert.ok(
      h.logs.slice(logged).some((l) => String(l.msg).includes('"cache_control" dropped') && String(l.msg).includes('is not supported')),
      'the dropped marks are logged',
    );
  } finally {
    await h.close();
  }
});

test("messages: Bedrock's cache limits are a 400 naming the rule before any call, on Claude's own body and on Converse", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const mark = { type: 'text', text: 'x', cache_control: EPHEMERAL };
    for (const model of ['claude', 'claude-converse']) {
      const before = h.emu.requests.length;
      const five = await post(h, {
        model,
        system: [{ type: 'text', text: 'sys', cache_control: EPHEMERAL }],
        messages: [{ role: 'user', content: [mark, mark, mark, mark] }],
      });
      assert.equal(five.status, 400, `${model}: ${JSON.stringify(five.json)}`);
      assert.equal(five.json.type, 'error');
      assert.equal(five.json.error.type, 'invalid_request_error');
      assert.match(five.json.error.message, /at most 4 cache points/);
      assert.match(five.json.error.message, /has 5/);

      const order = await post(h, {
        model,
        system: [{ type: 'text', text: 'sys', cache_control: EPHEMERAL }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'q', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
      });
      assert.equal(order.status, 400, `${model}: ${JSON.stringify(order.json)}`);
      assert.match(order.json.error.message, /TTLs must not increase in the order tools, system, messages/);
      assert.equal(h.emu.requests.length, before, `${model}: nothing reached Bedrock`);
    }

    // A mark only Claude's own body carries (on a document) counts too.
    const before = h.emu.requests.length;
    const doc = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' }, cache_control: EPHEMERAL };
    const withDoc = await post(h, {
      model: 'claude',
      system: [{ type: 'text', text: 'sys', cache_control: EPHEMERAL }],
      messages: [{ role: 'user', content: [doc, mark, mark, mark] }],
    });
    assert.equal(withDoc.status, 400, JSON.stringify(withDoc.json));
    assert.match(withDoc.json.error.message, /at most 4 cache points/);
    assert.equal(h.emu.requests.length, before);

    // Four points in order are Claude's own body, as the client sent them.
    const four = await post(h, {
      model: 'claude',
      system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: [mark, mark, mark] }],
    });
    assert.equal(four.status, 200, JSON.stringify(four.json));
    assert.deepEqual(four.upstream.system, [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    assert.deepEqual(four.upstream.messages[0].content, [mark, mark, mark]);
  } finally {
    await h.close();
  }
});
