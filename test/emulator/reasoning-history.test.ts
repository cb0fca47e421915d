// Reasoning handed back in a Converse history, as real Bedrock takes it per model (src/emulator/reasoning-history.ts
// cites the reports): Nova, DeepSeek R1 and Kimi refuse any reasoningContent; Claude takes it signed only;
// gpt-oss and DeepSeek V3.2 take unsigned reasoning. Driven with the real AWS SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConverseCommand, type Message } from '@aws-sdk/client-bedrock-runtime';
import { REASONING_REFUSED } from '../../src/emulator/reasoning-history.ts';
import { post, refusalOf, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const history = (reasoningText: { text: string; signature?: string }): Message[] => [
  { role: 'user', content: [{ text: 'What is 2+2?' }] },
  { role: 'assistant', content: [{ reasoningContent: { reasoningText } }, { text: '4.' }] },
  { role: 'user', content: [{ text: 'Times ten?' }] },
];

test('reasoning history: Nova, DeepSeek R1 and Kimi refuse reasoningContent, signed or not', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    for (const modelId of ['us.amazon.nova-pro-v1:0', 'us.amazon.nova-2-lite-v1:0', 'us.deepseek.r1-v1:0', 'moonshot.kimi-k2-thinking']) {
      for (const reasoning of [{ text: 'add them' }, { text: 'add them', signature: 'c2lnbmVk' }]) {
        const message = await refusalOf(() => client.send(new ConverseCommand({ modelId, messages: history(reasoning) })));
        assert.equal(message, REASONING_REFUSED, `${modelId} ${JSON.stringify(reasoning)}`);
      }
      // The same conversation without the reasoning is answered.
      const plain = history({ text: 'x' }).map((m) => ({ ...m, content: m.content!.filter((b) => !b.reasoningContent) }));
      const answer = await client.send(new ConverseCommand({ modelId, messages: plain }));
      assert.ok(answer.output?.message, modelId);
    }
  });
});

test('reasoning history: Claude takes its reasoning signed and refuses it unsigned; gpt-oss and DeepSeek V3.2 take it unsigned', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const claude = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const unsigned = await refusalOf(() => client.send(new ConverseCommand({ modelId: claude, messages: history({ text: 'add them' }) })));
    assert.equal(unsigned, 'The model returned the following errors: messages.1.content.0.thinking.signature: Field required');
    const signed = await client.send(
      new ConverseCommand({ modelId: claude, messages: history({ text: 'add them', signature: 'c2lnbmVk' }) }),
    );
    assert.ok(signed.output?.message);
    for (const modelId of ['openai.gpt-oss-120b-1:0', 'deepseek.v3.2']) {
      const answer = await client.send(new ConverseCommand({ modelId, messages: history({ text: 'add them' }) }));
      assert.ok(answer.output?.message, modelId);
    }
  });
});

test("reasoning history: Nova's own InvokeModel body refuses reasoningContent too", async () => {
  await withEmulator(async (emu) => {
    const body = { schemaVersion: 'messages-v1', messages: history({ text: 'add them' }) };
    const res = await post(emu.url, `/model/${encodeURIComponent('us.amazon.nova-lite-v1:0')}/invoke`, JSON.stringify(body));
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body.toString('utf8')) as { message: string }).message, REASONING_REFUSED);
  });
});
