import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withEmulator } from '../helpers/emulator.ts';

test('emulator: bodies with "constructor" or "__proto__" keys are validated like any other key (a 400 naming it, never a 500)', async () => {
  await withEmulator(
    async (emu) => {
      const claude = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[{"role":"user","content":"hi"}]';
      const cases: Array<[string, string, RegExp]> = [
        ['invoke', `${claude},"constructor":1}`, /constructor: Extra inputs are not permitted/],
        ['invoke', `${claude},"__proto__":{"a":1}}`, /__proto__: Extra inputs are not permitted/],
        [
          'converse',
          '{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"constructor":1}}',
          /extraneous key \[constructor\]/,
        ],
        ['converse', '{"messages":[{"role":"user","content":[{"text":"hi"}]}],"toString":1}', /extraneous key \[toString\]/],
      ];
      for (const [operation, body, message] of cases) {
        const res = await fetch(`${emu.url}/model/us.anthropic.claude-sonnet-4-20250514-v1:0/${operation}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assert.equal(res.status, 400, body);
        assert.match(await res.text(), message);
      }
    },
    { verifySignature: false },
  );
});
