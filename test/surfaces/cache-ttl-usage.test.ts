// Cache writes by ttl (docs/contract.md#anthropic-messages): a one-hour write costs twice a five-minute one, and
// Bedrock says how the writes split — converse's `usage.cacheDetails` (earendil-works/pi #9457, measured: the same
// request with a 5m or 1h point differs only there), Claude's own `usage.cache_creation`. The Messages surface now
// gives `cache_creation: {ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}` (what Claude Code's cost reads), and
// the native Converse surface keeps `cacheDetails`; without a split from Bedrock, no `cache_creation` is invented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { startHarness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const MODELS = [
  { name: 'sonnet-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' },
  { name: 'sonnet-invoke', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' },
];
/** A system prompt well over Claude's 1024-token cache minimum. */
const LONG = 'You are a careful assistant who answers in one short sentence. '.repeat(120);

function ask(model: string, ttl?: '1h'): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 50,
    system: [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral', ...(ttl ? { ttl } : {}) } }],
    messages: [{ role: 'user', content: 'hi' }],
  };
}

test('cache ttl usage: a one-hour write is ephemeral_1h_input_tokens on Messages, converse and invoke, whole and streamed', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['sonnet-converse', 'sonnet-invoke']) {
      // Each route its own prompt, so each call writes its prefix afresh.
      const whole = await client.messages.create({
        ...ask(model, '1h'),
        system: [{ type: 'text', text: `${LONG} ${model}`, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      });
      const written = whole.usage.cache_creation_input_tokens ?? 0;
      assert.ok(written > 1000, `${model}: ${JSON.stringify(whole.usage)}`);
      assert.deepEqual(whole.usage.cache_creation, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: written }, model);
    }
    // A new prompt (the cache is per prefix): a five-minute write, streamed through converse, where the split comes
    // with the usage at the end (message_delta).
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        ...ask('sonnet-converse'),
        stream: true,
        system: [{ type: 'text', text: `${LONG} Be kind.`, cache_control: { type: 'ephemeral' } }],
      }),
    });
    const delta = (await res.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; usage?: Record<string, unknown> })
      .find((e) => e.type === 'message_delta');
    const written = Number(delta?.usage?.cache_creation_input_tokens);
    assert.ok(written > 1000, JSON.stringify(delta));
    assert.deepEqual(delta?.usage?.cache_creation, { ephemeral_5m_input_tokens: written, ephemeral_1h_input_tokens: 0 });
  } finally {
    await h.close();
  }
});

test('cache ttl usage: native Converse keeps cacheDetails; no cache point, no cache_creation on Messages', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = nativeClient(h);
    const answer = await sdk.send(
      new ConverseCommand({
        modelId: 'sonnet-converse',
        system: [{ text: `${LONG} Native.` }, { cachePoint: { type: 'default', ttl: '1h' } }],
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      }),
    );
    const written = answer.usage?.cacheWriteInputTokens ?? 0;
    assert.ok(written > 1000, JSON.stringify(answer.usage));
    assert.deepEqual(answer.usage?.cacheDetails, [{ ttl: '1h', inputTokens: written }]);

    const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
    const plain = await client.messages.create({ model: 'sonnet-converse', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.usage.cache_creation ?? undefined, undefined);
  } finally {
    await h.close();
  }
});
