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

test('emulator: an operation or a schema type named "constructor" is an unknown one (404 UnknownOperation; no refusal of its keywords), never a 500', async () => {
  await withEmulator(
    async (emu) => {
      const model = `${emu.url}/model/us.anthropic.claude-sonnet-4-6-v1:0`;
      for (const operation of ['constructor', 'toString']) {
        // Before: Object's `constructor` taken for the operation, and the request never answered.
        const res = await fetch(`${model}/${operation}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(5000),
        });
        assert.equal(res.status, 404, operation);
        assert.match(await res.text(), /UnknownOperationException/);
      }
      for (const type of ['constructor', '__proto__', 'toString']) {
        const schema = { type: 'object', properties: { a: { type, minimum: 1 } }, required: ['a'], additionalProperties: false };
        const res = await fetch(`${model}/invoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            anthropic_version: 'bedrock-2023-05-31',
            max_tokens: 10,
            messages: [{ role: 'user', content: 'hi' }],
            output_config: { format: { type: 'json_schema', schema } },
          }),
        });
        assert.equal(res.status, 200, `${type}: ${await res.clone().text()}`);
      }
    },
    { verifySignature: false },
  );
});
