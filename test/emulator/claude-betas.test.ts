// The emulator's reading of Bedrock's beta flags per Claude model (src/emulator/families/anthropic.ts
// `betaProblem`): fine-grained tool streaming and interleaved thinking are taken by Claude 3.7 to 4.6 and
// refused with "invalid beta flag" by the adaptive-only models (Opus 4.7 on, Claude 5, Mythos, Fable); an
// unknown flag is refused everywhere — on invoke, and inside the model's errors on converse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropic, betaProblem } from '../../src/emulator/families/anthropic.ts';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const FLAGS = ['fine-grained-tool-streaming-2025-05-14', 'interleaved-thinking-2025-05-14'];

const cases: Array<[string, string[], string | undefined]> = [
  ...['us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-opus-4-6-v1'].map(
    (id): [string, string[], undefined] => [id, FLAGS, undefined],
  ),
  ...['us.anthropic.claude-opus-4-7', 'anthropic.claude-opus-5', 'anthropic.claude-mythos-preview'].flatMap((id) =>
    FLAGS.map((flag): [string, string[], string] => [id, [flag], 'invalid beta flag']),
  ),
  ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', ['claude-code-20250219'], 'invalid beta flag'],
];

for (const [modelId, betas, expected] of cases) {
  test(`emulator beta rule: ${modelId} ${betas.join(',')} → ${expected ?? 'accepted'}`, () => {
    assert.equal(anthropic.validate(claudeBody('hi', { anthropic_beta: betas }), { stream: false, modelId }), expected);
    assert.equal(betaProblem(modelId, { anthropic_beta: betas }), expected);
  });
}

test('emulator beta rule: over HTTP, invoke and converse refuse fine-grained tool streaming on Opus 4.7', async () => {
  await withEmulator(async (emu) => {
    const converse = (model: string): Promise<{ status: number; body: Buffer }> =>
      post(
        emu.url,
        `/model/${encodeURIComponent(model)}/converse`,
        JSON.stringify({
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
          additionalModelRequestFields: { anthropic_beta: [FLAGS[0]] },
        }),
      );
    const id = encodeURIComponent('us.anthropic.claude-opus-4-7');
    const invoke = await post(emu.url, `/model/${id}/invoke`, JSON.stringify(claudeBody('hi', { anthropic_beta: [FLAGS[0]] })));
    assert.equal(invoke.status, 400);
    assert.deepEqual(JSON.parse(invoke.body.toString()), { message: 'invalid beta flag' });
    const refused = await converse('us.anthropic.claude-opus-4-7');
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body.toString()), { message: 'The model returned the following errors: invalid beta flag' });
    assert.equal((await converse('us.anthropic.claude-sonnet-4-5-20250929-v1:0')).status, 200);
  });
});
