/**
 * Beta flags on the Messages surface for a translated Claude body (docs/contract.md#anthropic-messages): the
 * `anthropic-beta` header reaches a converse alias of Claude in `additionalModelRequestFields.anthropic_beta`,
 * filtered per model as on Claude's own body (unknown flags and flags the model does not take dropped and
 * logged, Anthropic's names Bedrock knows under another flag renamed); another family drops and logs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'sonnet-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'haiku-converse', model: 'bedrock/converse/us.anthropic.claude-3-5-haiku-20241022-v1:0', region: 'us-east-1' },
  { name: 'sonnet', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
];
const BETAS = 'claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,advanced-tool-use-2025-11-20';

async function upstream(h: Harness, model: string): Promise<Record<string, any>> {
  const res = await fetch(`${h.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'anthropic-beta': BETAS },
    body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.arrayBuffer();
  return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, any>;
}

test('messages: anthropic-beta reaches a converse alias of Claude filtered per model, and is dropped and logged elsewhere', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sonnet = await upstream(h, 'sonnet-converse');
    assert.deepEqual(sonnet.additionalModelRequestFields?.anthropic_beta, [
      'context-1m-2025-08-07',
      'interleaved-thinking-2025-05-14',
      'tool-search-tool-2025-10-19',
    ]);
    // Claude's own body on invoke: the same flags.
    const native = await upstream(h, 'sonnet');
    assert.deepEqual(native.anthropic_beta, sonnet.additionalModelRequestFields.anthropic_beta);
    // Claude 3.5 Haiku has neither the 1M window nor extended thinking.
    const haiku = await upstream(h, 'haiku-converse');
    assert.deepEqual(haiku.additionalModelRequestFields?.anthropic_beta, ['tool-search-tool-2025-10-19']);
    assert.ok(h.logs.some((l) => String(l.msg).includes('"context-1m-2025-08-07" dropped')));

    const logged = h.logs.length;
    const llama = await upstream(h, 'llama');
    assert.equal(JSON.stringify(llama).includes('anthropic_beta'), false);
    assert.ok(
      h.logs.slice(logged).some((l) => String(l.msg).includes('anthropic_beta')),
      'the dropped flags are logged',
    );
  } finally {
    await h.close();
  }
});

/**
 * Fine-grained tool streaming (docs/bedrock-wire.md#beta-flags): a tool's `eager_input_streaming: true` on a
 * streamed request, as the AI SDK and Claude Code send it, asks Bedrock for the beta flag on the Claude models
 * that take it — in Claude's own body on invoke, in additionalModelRequestFields on converse — and the key
 * leaves the tool (Bedrock's tool schema refuses it). From Opus 4.7 on the flag is dropped and logged, and the
 * call succeeds (the emulator answers "invalid beta flag" to it there, as Bedrock does).
 */
test('messages: eager_input_streaming becomes the fine-grained tool streaming beta where the model takes it, through the Anthropic SDK', async () => {
  const FLAG = 'fine-grained-tool-streaming-2025-05-14';
  const h = await startHarness({
    models: [
      { name: 'sonnet-4-5', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
      { name: 'opus-4-6-converse', model: 'bedrock/converse/global.anthropic.claude-opus-4-6-v1', region: 'us-east-1' },
      { name: 'opus-4-7', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
      { name: 'opus-4-7-converse', model: 'bedrock/converse/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
    ],
  });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const write = {
    name: 'Write',
    description: 'writes a file',
    input_schema: { type: 'object' as const, properties: { path: { type: 'string' }, content: { type: 'string' } } },
    eager_input_streaming: true,
  };
  const call = async (model: string, betas?: string): Promise<Record<string, any>> => {
    h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_1', name: 'Write', input: { path: '/tmp/a', content: 'x'.repeat(200) } }] });
    const message = await client.messages
      .stream(
        { model, max_tokens: 1000, tools: [write], messages: [{ role: 'user', content: 'write it' }] },
        betas ? { headers: { 'anthropic-beta': betas } } : undefined,
      )
      .finalMessage();
    assert.equal(message.stop_reason, 'tool_use', model);
    const used = message.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(used?.type === 'tool_use' ? used.input : undefined, { path: '/tmp/a', content: 'x'.repeat(200) });
    return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, any>;
  };
  try {
    const invoke = await call('sonnet-4-5');
    assert.deepEqual(invoke.anthropic_beta, [FLAG]);
    assert.equal(invoke.tools[0].eager_input_streaming, undefined, 'the key leaves the tool');
    const converse = await call('opus-4-6-converse');
    assert.deepEqual(converse.additionalModelRequestFields?.anthropic_beta, [FLAG]);
    assert.equal(JSON.stringify(converse.toolConfig).includes('eager_input_streaming'), false);

    for (const model of ['opus-4-7', 'opus-4-7-converse']) {
      const logged = h.logs.length;
      // Also as a header (what the AI SDK sent on every stream before April 2026).
      const body = await call(model, FLAG);
      assert.equal(JSON.stringify(body).includes(FLAG), false, `${model}: the flag is not sent`);
      assert.ok(
        h.logs.slice(logged).some((l) => String(l.msg).includes(`"${FLAG}" dropped`)),
        `${model}: the dropped flag is logged`,
      );
    }
    // Without a stream there is nothing to stream finely: no flag.
    h.emu.script({ type: 'text', text: 'ok' });
    await client.messages.create({ model: 'sonnet-4-5', max_tokens: 10, tools: [write], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')).anthropic_beta, undefined);
  } finally {
    await h.close();
  }
});
