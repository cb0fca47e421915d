// The emulator answers Bedrock's 400 for a thinking type a Claude model does not take: the budget shape on
// adaptive-only models (Opus 4.7+, Claude 5, Mythos, Fable) with Bedrock's own message text, adaptive on
// models before 4.6, `disabled` where AWS lists it as a 400 — on invoke and (inside the model's errors) on
// converse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropic, thinkingProblem } from '../../src/emulator/families/anthropic.ts';
import { claudeBody, post } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const OLD_SHAPE =
  '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.';
const DISABLED_XHIGH =
  "output_config.effort 'xhigh' is not supported when thinking is disabled on this model. Use effort 'high' or below, or enable thinking.";
const enabled = { thinking: { type: 'enabled', budget_tokens: 2048 } };
const adaptive = { thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'high' } };

const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
  ['us.anthropic.claude-opus-4-7', enabled, OLD_SHAPE],
  ['anthropic.claude-opus-4-8-20260601-v1:0', enabled, OLD_SHAPE],
  ['global.anthropic.claude-sonnet-5', enabled, OLD_SHAPE],
  ['anthropic.claude-opus-5', enabled, OLD_SHAPE],
  ['anthropic.claude-fable-5', enabled, OLD_SHAPE],
  ['anthropic.claude-opus-4-7', { thinking: { type: 'disabled' } }, OLD_SHAPE.replace('enabled', 'disabled')],
  ['anthropic.claude-fable-5', { thinking: { type: 'disabled' } }, OLD_SHAPE.replace('enabled', 'disabled')],
  ['anthropic.claude-opus-4-7', adaptive, undefined],
  ['anthropic.claude-opus-4-6-v1', enabled, undefined],
  ['anthropic.claude-opus-4-6-v1', adaptive, undefined],
  ['global.anthropic.claude-sonnet-4-6', adaptive, undefined],
  ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', enabled, undefined],
  ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', adaptive, 'adaptive thinking is not supported on this model'],
  ['us.anthropic.claude-opus-4-20250514-v1:0', adaptive, 'adaptive thinking is not supported on this model'],
  ['us.anthropic.claude-3-7-sonnet-20250219-v1:0', enabled, undefined],
  // Opus 5.5 always thinks; Opus 5 and Haiku 5.x take `disabled` only at effort high or below.
  ['us.anthropic.claude-opus-5-5', { thinking: { type: 'disabled' } }, OLD_SHAPE.replace('enabled', 'disabled')],
  ['anthropic.claude-opus-5', { thinking: { type: 'disabled' } }, undefined],
  ['anthropic.claude-opus-5', { thinking: { type: 'disabled' }, output_config: { effort: 'high' } }, undefined],
  ['anthropic.claude-opus-5', { thinking: { type: 'disabled' }, output_config: { effort: 'xhigh' } }, DISABLED_XHIGH],
  [
    'global.anthropic.claude-haiku-5-5',
    { thinking: { type: 'disabled' }, output_config: { effort: 'max' } },
    DISABLED_XHIGH.replace('xhigh', 'max'),
  ],
  ['anthropic.claude-sonnet-5', { thinking: { type: 'disabled' }, output_config: { effort: 'xhigh' } }, undefined],
  ['anthropic.claude-opus-5', { thinking: { type: 'adaptive' }, output_config: { effort: 'max' } }, undefined],
  // Sonnet 5.5 turns down to between tools, not off; no other model takes between_tools.
  ['us.anthropic.claude-sonnet-5-5', { thinking: { type: 'disabled' } }, OLD_SHAPE.replace('enabled', 'disabled')],
  ['us.anthropic.claude-sonnet-5-5', { thinking: { type: 'between_tools' }, output_config: { effort: 'high' } }, undefined],
  [
    'us.anthropic.claude-sonnet-5-5',
    { thinking: { type: 'between_tools' }, output_config: { effort: 'xhigh' } },
    "output_config.effort 'xhigh' is not supported when thinking is between_tools on this model. Use effort 'high' or below.",
  ],
  ['anthropic.claude-opus-5', { thinking: { type: 'between_tools' } }, OLD_SHAPE.replace('enabled', 'between_tools')],
];

for (const [modelId, extra, expected] of cases) {
  test(`emulator thinking rule: ${modelId} ${JSON.stringify(extra)} → ${expected ?? 'accepted'}`, () => {
    assert.equal(anthropic.validate(claudeBody('hi', extra), { stream: false, modelId }), expected);
    assert.equal(thinkingProblem(modelId, extra), expected);
  });
}

test('emulator thinking rule: an unknown effort or display value is a schema error', () => {
  const modelId = 'anthropic.claude-opus-4-7';
  assert.match(
    anthropic.validate(claudeBody('hi', { thinking: { type: 'adaptive', display: 'loud' } }), { stream: false, modelId }) ?? '',
    /thinking\.adaptive\.display|display/,
  );
  assert.match(
    anthropic.validate(claudeBody('hi', { output_config: { effort: 'extreme' } }), { stream: false, modelId }) ?? '',
    /output_config\.effort/,
  );
});

test("emulator thinking rule: over HTTP, invoke and converse answer ValidationException with Bedrock's text", async () => {
  await withEmulator(async (emu) => {
    const id = encodeURIComponent('us.anthropic.claude-opus-4-7');
    const invoke = await post(emu.url, `/model/${id}/invoke`, JSON.stringify(claudeBody('hi', enabled)));
    assert.equal(invoke.status, 400);
    assert.deepEqual(JSON.parse(invoke.body.toString()), { message: OLD_SHAPE });
    const converse = await post(
      emu.url,
      `/model/${id}/converse`,
      JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        additionalModelRequestFields: enabled,
      }),
    );
    assert.equal(converse.status, 400);
    assert.deepEqual(JSON.parse(converse.body.toString()), { message: `The model returned the following errors: ${OLD_SHAPE}` });
    const ok = await post(
      emu.url,
      `/model/${id}/converse`,
      JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        additionalModelRequestFields: adaptive,
      }),
    );
    assert.equal(ok.status, 200);
  });
});
