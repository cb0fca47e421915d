/**
 * Claude's beta flags per model on Bedrock (src/providers/anthropic-betas.ts, docs/bedrock-wire.md#beta-flags):
 * fine-grained tool streaming and interleaved thinking are kept for the Claude 3.7 to 4.6 generations and
 * dropped from Opus 4.7 on, on Claude 5, Mythos / Fable and an id no rule knows yet (the newest generation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bedrockBetas, FINE_GRAINED_TOOL_STREAMING } from '../../src/providers/anthropic-betas.ts';

const INTERLEAVED = 'interleaved-thinking-2025-05-14';

const TAKES = [
  'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
  'anthropic.claude-sonnet-4-20250514-v1:0',
  'us.anthropic.claude-opus-4-1-20250805-v1:0',
  'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'global.anthropic.claude-haiku-4-5-20251001-v1:0',
  'eu.anthropic.claude-opus-4-5-20251101-v1:0',
  'global.anthropic.claude-opus-4-6-v1',
  'us.anthropic.claude-sonnet-4-6',
  'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-6-v1',
];
const REFUSES = [
  'us.anthropic.claude-opus-4-7',
  'global.anthropic.claude-opus-4-8',
  'anthropic.claude-opus-5',
  'us.anthropic.claude-sonnet-5-20270101-v1:0',
  'anthropic.claude-haiku-5',
  'anthropic.claude-mythos-preview',
  'anthropic.claude-fable-5',
  'us.anthropic.claude-aurora-9', // an id no rule knows: the newest generation's rule
  'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-opus-4-7',
];

test('bedrockBetas keeps fine-grained tool streaming and interleaved thinking for Claude 3.7 to 4.6', () => {
  for (const model of TAKES) {
    const { kept, dropped } = bedrockBetas(model, [FINE_GRAINED_TOOL_STREAMING, INTERLEAVED, 'claude-code-20250219']);
    assert.deepEqual(kept, [FINE_GRAINED_TOOL_STREAMING, INTERLEAVED], model);
    assert.deepEqual(dropped, ['claude-code-20250219'], model);
  }
});

test('bedrockBetas drops both from Opus 4.7 on, on Claude 5, Mythos / Fable and an unknown future id', () => {
  for (const model of REFUSES) {
    const { kept, dropped } = bedrockBetas(model, [FINE_GRAINED_TOOL_STREAMING, INTERLEAVED, 'token-efficient-tools-2025-02-19']);
    assert.deepEqual(dropped, [FINE_GRAINED_TOOL_STREAMING, INTERLEAVED], model);
    assert.deepEqual(kept, ['token-efficient-tools-2025-02-19'], `${model}: a flag without a model rule is kept`);
  }
});

test('bedrockBetas: Claude 3.5 and older take neither (no thinking, no fine-grained streaming)', () => {
  for (const model of ['anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v1:0']) {
    assert.deepEqual(bedrockBetas(model, [FINE_GRAINED_TOOL_STREAMING, INTERLEAVED]).kept, [], model);
  }
});

test('bedrockBetas keeps the compact beta on InvokeModel for the models that compact, never on Converse', () => {
  const compacts = [
    'global.anthropic.claude-opus-4-6-v1',
    'us.anthropic.claude-sonnet-4-6',
    'global.anthropic.claude-opus-4-8',
    'anthropic.claude-opus-5',
    'anthropic.claude-haiku-5',
    'anthropic.claude-mythos-preview',
    'anthropic.claude-fable-5-1',
  ];
  for (const model of compacts) {
    assert.deepEqual(bedrockBetas(model, ['compact-2026-01-12']).kept, ['compact-2026-01-12'], model);
    assert.deepEqual(bedrockBetas(model, ['compact-2026-01-12'], 'converse').dropped, ['compact-2026-01-12'], model);
  }
  for (const model of [
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'eu.anthropic.claude-opus-4-5-20251101-v1:0',
    'anthropic.claude-3-7-sonnet',
  ])
    assert.deepEqual(bedrockBetas(model, ['compact-2026-01-12']).dropped, ['compact-2026-01-12'], model);
  // The on-demand mechanism's beta: Anthropic says it is not on Bedrock.
  assert.deepEqual(bedrockBetas('global.anthropic.claude-opus-4-8', ['compact-2026-09-04']).dropped, ['compact-2026-09-04']);
});
