/**
 * Beta flags on the Messages surface for a translated Claude body (docs/contract.md#anthropic-messages): the
 * `anthropic-beta` header reaches a converse alias of Claude in `additionalModelRequestFields.anthropic_beta`,
 * filtered per model as on Claude's own body (unknown flags and flags the model does not take dropped and
 * logged, Anthropic's names Bedrock knows under another flag renamed); another family drops and logs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
