/**
 * The sidecar's own bodies and mappers against a real decoder: the body a provider builds is sent with
 * `@aws-sdk/client-bedrock-runtime` to the emulator, the SDK decodes the event stream, and the provider's
 * mapper turns the SDK's chunks into internal events. (The emulator's own SDK tests check its frames; this
 * checks that what the SDK hands out is what our mappers expect, for Anthropic, Nova and Llama.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';
import { sdkClient } from '../emulator/helpers.ts';
import { targetFor } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const decoder = new TextDecoder();
const TEXT = 'Grüße — über 9000 ☃ 👋';

for (const modelId of ['anthropic.claude-3-haiku-20240307-v1:0', 'us.amazon.nova-lite-v1:0', 'us.meta.llama3-1-8b-instruct-v1:0']) {
  test(`sdk-decoded stream: ${modelId} — our body, the SDK's decoding, our mapper: text, finish and usage`, async () => {
    await withEmulator(async (emu) => {
      const target = targetFor({ route: 'invoke', modelId });
      const adapter = adapterFor('invoke', target.family)!;
      const { request } = readChatRequest({
        model: 'm',
        stream: true,
        max_tokens: 100,
        messages: [
          { role: 'system', content: 'Be kind.' },
          { role: 'user', content: 'Hello' },
        ],
      });
      const body = adapter.buildBody(request, { target, note: () => {} });
      emu.script({ type: 'text', text: TEXT, usage: { inputTokens: 21, outputTokens: 8 } });
      const out = await sdkClient(emu.url).send(
        new InvokeModelWithResponseStreamCommand({ modelId, contentType: 'application/json', body: JSON.stringify(body) }),
      );
      const mapper = adapter.createStreamMapper();
      const events: StreamEvent[] = [];
      for await (const part of out.body ?? []) {
        assert.equal(mapper.terminated, false, 'nothing arrives after the terminal event');
        if (part.chunk?.bytes) events.push(...mapper.push(JSON.parse(decoder.decode(part.chunk.bytes)) as Record<string, unknown>));
      }
      assert.equal(mapper.terminated, true);
      assert.equal(
        events
          .filter((e) => e.kind === 'text')
          .map((e) => (e as { text: string }).text)
          .join(''),
        TEXT,
      );
      assert.deepEqual(
        events.slice(-2).map((e) => e.kind),
        ['finish', 'usage'],
      );
      const usage = events.at(-1) as Extract<StreamEvent, { kind: 'usage' }>;
      assert.equal(usage.usage.inputTokens, 21);
      assert.equal(usage.usage.outputTokens, 8);
    });
  });
}
