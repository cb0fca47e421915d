/**
 * `prompt_caching: auto` (docs/contract.md#request-rules) on Claude's own body, which the Messages surface
 * and native InvokeModel send as the client wrote it: cache points after the last tool, after the system
 * prompt and on the last user turn, only where the client put none, within Bedrock's four.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';

const CLAUDE = 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const TOOL = { name: 'lookup', description: 'find things', input_schema: { type: 'object', properties: { q: { type: 'string' } } } };

async function upstreamBody(h: Harness, path: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.arrayBuffer();
  return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, any>;
}

test("messages: prompt_caching auto marks the tools, the system prompt and the last user turn of Claude's own body", async () => {
  const h = await startHarness({
    models: [
      { name: 'auto', model: CLAUDE, region: 'us-east-1', prompt_caching: 'auto' },
      { name: 'off', model: CLAUDE, region: 'us-east-1' },
    ],
  });
  try {
    const request = {
      max_tokens: 50,
      system: 'be brief',
      tools: [TOOL],
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
      ],
    };
    const body = await upstreamBody(h, '/v1/messages', { model: 'auto', ...request });
    const ephemeral = { type: 'ephemeral' };
    assert.deepEqual(body.tools[0].cache_control, ephemeral);
    assert.deepEqual(body.system, [{ type: 'text', text: 'be brief', cache_control: ephemeral }]);
    assert.equal(body.messages[0].content, 'first');
    assert.deepEqual(body.messages[2].content, [{ type: 'text', text: 'second', cache_control: ephemeral }]);

    // The same through native InvokeModel, where the app sends Claude's body itself.
    const native = await upstreamBody(h, '/model/auto/invoke', { anthropic_version: 'bedrock-2023-05-31', ...request });
    assert.deepEqual(native.system, body.system);
    assert.deepEqual(native.tools[0].cache_control, ephemeral);
    assert.deepEqual(native.messages.at(-1).content, [{ type: 'text', text: 'second', cache_control: ephemeral }]);
    assert.equal(JSON.stringify(native.messages.slice(0, -1)).includes('cache_control'), false);

    // Where the client marked something itself, that place is left as it is; the others still get a point.
    const own = await upstreamBody(h, '/v1/messages', {
      model: 'auto',
      ...request,
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral', ttl: '5m' } }],
    });
    assert.deepEqual(own.system, [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral', ttl: '5m' } }]);
    assert.deepEqual(own.tools[0].cache_control, ephemeral);

    // Four points already: nothing more. An hour-long mark: nothing added in front of it.
    const four = { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } };
    const full = await upstreamBody(h, '/v1/messages', {
      model: 'auto',
      max_tokens: 50,
      system: 'be brief',
      tools: [TOOL],
      messages: [{ role: 'user', content: [four, four, four, four] }],
    });
    assert.equal(full.tools[0].cache_control, undefined);
    assert.equal(full.system, 'be brief');
    const hour = await upstreamBody(h, '/v1/messages', {
      model: 'auto',
      ...request,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'q', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
    });
    assert.equal(hour.tools[0].cache_control, undefined);

    // Without the setting the body is the client's.
    const off = await upstreamBody(h, '/v1/messages', { model: 'off', ...request });
    assert.equal(off.system, 'be brief');
    assert.ok(!JSON.stringify(off).includes('cache_control'));
  } finally {
    await h.close();
  }
});
