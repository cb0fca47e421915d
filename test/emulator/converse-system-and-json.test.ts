// Two more Converse refusals real Bedrock makes (sources in src/emulator/converse.ts): a system prompt to Titan Text,
// Mistral 7B or Mixtral, and a toolResult `json` that is not an object. The AWS SDK drives the emulator; the sidecar,
// which folds such a system prompt into the first user turn, is checked against the same rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { NO_SYSTEM_MESSAGES } from '../../src/emulator/converse.ts';
import { converseOutcome, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';
import { startHarness } from '../helpers/harness.ts';

const hello: ConverseCommandInput['messages'] = [{ role: 'user', content: [{ text: 'hello' }] }];
const TITAN = 'amazon.titan-text-express-v1';
const MISTRAL_7B = 'mistral.mistral-7b-instruct-v0:2';
const MIXTRAL = 'mistral.mixtral-8x7b-instruct-v0:1';

test('converse: Titan Text, Mistral 7B and Mixtral refuse a system prompt; Mistral Large and Nova take one', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    for (const modelId of [TITAN, MISTRAL_7B, MIXTRAL]) {
      assert.equal(
        await converseOutcome(client, { modelId, messages: hello, system: [{ text: 'Be brief.' }] }),
        NO_SYSTEM_MESSAGES,
        modelId,
      );
      assert.equal(await converseOutcome(client, { modelId, messages: hello }), 'ok', modelId);
    }
    for (const modelId of ['mistral.mistral-large-2407-v1:0', 'us.amazon.nova-lite-v1:0'])
      assert.equal(await converseOutcome(client, { modelId, messages: hello, system: [{ text: 'Be brief.' }] }), 'ok', modelId);
  });
});

test("converse: a toolResult's json must be an object", async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const turns = (json: unknown): ConverseCommandInput['messages'] => [
      { role: 'user', content: [{ text: 'List the files.' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'ls', input: {} } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ json: json as never }] } }] },
    ];
    const toolConfig = { tools: [{ toolSpec: { name: 'ls', inputSchema: { json: { type: 'object' } } } }] };
    const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    assert.equal(
      await converseOutcome(client, { modelId, messages: turns(['a.txt', 'b.txt']), toolConfig }),
      'The format of the value at messages.2.content.0.toolResult.content.0.json is invalid. Provide a json object for the field and try again.',
    );
    assert.equal(await converseOutcome(client, { modelId, messages: turns({ files: ['a.txt', 'b.txt'] }), toolConfig }), 'ok');
  });
});

test('sidecar: a Chat system prompt to Titan, Mistral 7B or Mixtral on converse leads the first user turn, and is answered', async () => {
  const h = await startHarness({
    models: [TITAN, MISTRAL_7B, MIXTRAL].map((id, i) => ({ name: `m${i}`, model: `bedrock/converse/${id}`, region: 'us-east-1' })),
  });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['m0', 'm1', 'm2']) {
      h.emu.script({ type: 'text', text: 'Hi.' });
      const answer = await client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hello' },
        ],
      });
      assert.equal(answer.choices[0]!.message.content, 'Hi.', model);
      const body = JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as {
        system?: unknown;
        messages: Array<{ content: Array<{ text?: string }> }>;
      };
      assert.equal(body.system, undefined, model);
      assert.equal(body.messages[0]!.content[0]!.text, 'Be brief.', model);
    }
  } finally {
    await h.close();
  }
});
