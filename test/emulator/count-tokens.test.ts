// The emulator's CountTokens through the AWS SDK's CountTokensCommand: Bedrock counts by bare foundation-model id,
// and not for Claude from Opus 4.7 on; a cross-region profile (or its ARN) and those models answer "The provided
// model doesn't support counting tokens" (src/emulator/count-tokens.ts, sources there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CountTokensCommand } from '@aws-sdk/client-bedrock-runtime';
import { withEmulator } from '../helpers/emulator.ts';
import { refusalOf, sdkClient } from './helpers.ts';

const REFUSED = "The provided model doesn't support counting tokens";

test('emulator CountTokens: bare ids of models Bedrock counts answer a count; profiles and Claude from Opus 4.7 on are refused', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const count = (modelId: string): Promise<string | undefined> =>
      refusalOf(() =>
        client.send(
          new CountTokensCommand({ modelId, input: { converse: { messages: [{ role: 'user', content: [{ text: 'count me' }] }] } } }),
        ),
      );
    for (const id of [
      'anthropic.claude-sonnet-4-6',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6',
      'amazon.nova-pro-v1:0',
    ])
      assert.equal(await count(id), undefined, id);
    for (const id of [
      'us.anthropic.claude-sonnet-4-6',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-6',
      'anthropic.claude-opus-4-7',
      'anthropic.claude-sonnet-5',
      'anthropic.claude-fable-5',
    ])
      assert.equal(await count(id), REFUSED, id);
  });
});
