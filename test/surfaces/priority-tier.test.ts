// A priority tier the model does not take (docs/contract.md#request-rules): Bedrock answers "The provided service tier
// is not supported for this model." (Sonnet 5.5, GPT-6.1 Sol, every Claude in some regions). Priority is a wish for
// speed, so the call goes once more at the default tier — a request's priority and an alias's alike, on converse
// (body) and invoke (header) — and a warning says so. Flex and reserved, which cost differently, stay Bedrock's 400,
// and Bedrock's own API (the native surface) gets Bedrock's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { startHarness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const MODELS = [
  { name: 'sonnet-55', model: 'bedrock/converse/us.anthropic.claude-sonnet-5-5', region: 'us-east-1' },
  { name: 'fast-claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-5-5', region: 'us-east-1', service_tier: 'priority' },
  { name: 'cheap-gpt', model: 'bedrock/converse/us.openai.gpt-6-sol', region: 'us-east-1', service_tier: 'flex' },
];
const REFUSED = {
  type: 'error' as const,
  status: 400,
  errorType: 'ValidationException',
  message: 'The provided service tier is not supported for this model.',
};
type Json = Record<string, unknown>;
const hi = [{ role: 'user' as const, content: 'hi' }];

test('priority tier: refused by the model, the call goes again at the default tier (request and alias, converse and invoke)', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script(REFUSED, { type: 'text', text: 'ok' });
    let before = h.emu.requests.length;
    const answer = await client.chat.completions.create({ model: 'sonnet-55', service_tier: 'priority', messages: hi });
    assert.equal(answer.choices[0]!.message.content, 'ok');
    const [first, second] = h.emu.requests.slice(before).map((r) => r.json as Json);
    assert.deepEqual(first!.serviceTier, { type: 'priority' });
    assert.equal(second!.serviceTier, undefined);
    assert.ok(h.logs.some((l) => /takes no priority tier: sent again at the default tier/.test(String(l.msg))));

    h.emu.script(REFUSED, { type: 'text', text: 'ok' });
    before = h.emu.requests.length;
    await client.chat.completions.create({ model: 'fast-claude', messages: hi });
    const tiers = h.emu.requests.slice(before).map((r) => r.headers['x-amzn-bedrock-service-tier']);
    assert.deepEqual(tiers, ['priority', undefined]);
  } finally {
    await h.close();
  }
});

test('priority tier: flex stays Bedrock’s 400, and the native surface gets Bedrock’s answer for priority', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script(REFUSED);
    let before = h.emu.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'cheap-gpt', messages: hi }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /service tier is not supported/);
      return true;
    });
    assert.equal(h.emu.requests.length, before + 1);

    const sdk = nativeClient(h);
    h.emu.script(REFUSED);
    before = h.emu.requests.length;
    await assert.rejects(
      sdk.send(
        new ConverseCommand({
          modelId: 'sonnet-55',
          serviceTier: { type: 'priority' },
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
      ),
      (err: unknown) => (err as Error).name === 'ValidationException',
    );
    assert.equal(h.emu.requests.length, before + 1);
  } finally {
    await h.close();
  }
});
