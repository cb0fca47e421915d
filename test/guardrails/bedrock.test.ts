import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyGuardrailBody, interpretApplyGuardrail } from '../../src/guardrails/bedrock.ts';
import type { Segment } from '../../src/guardrails/types.ts';

const one: Segment[] = [{ context: '', text: 'my name is Alice' }];

test('ApplyGuardrail body: one text block per segment, context first', () => {
  assert.deepEqual(
    applyGuardrailBody('OUTPUT', [
      { context: 'abc', text: 'def' },
      { context: '', text: 'x' },
    ]),
    {
      source: 'OUTPUT',
      content: [{ text: { text: 'abcdef' } }, { text: { text: 'x' } }],
    },
  );
});

test('ApplyGuardrail answer: NONE passes', () => {
  assert.equal(interpretApplyGuardrail({ action: 'NONE', outputs: [], assessments: [{}] }, one).kind, 'pass');
});

test('ApplyGuardrail answer: a BLOCKED assessment blocks, with a content-free reason', () => {
  const v = interpretApplyGuardrail(
    {
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'Sorry.' }],
      assessments: [
        {
          contentPolicy: { filters: [{ type: 'VIOLENCE', confidence: 'HIGH', action: 'BLOCKED', detected: true }] },
          invocationMetrics: { guardrailProcessingLatency: 3 },
        },
      ],
    },
    one,
  );
  assert.equal(v.kind, 'block');
  assert.equal(v.kind === 'block' && v.reason, 'contentPolicy:VIOLENCE:BLOCKED');
});

test('ApplyGuardrail answer: ANONYMIZED only is a mask, context stripped', () => {
  const segments: Segment[] = [{ context: 'Hello. ', text: 'my name is Alice' }];
  const v = interpretApplyGuardrail(
    {
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'Hello. my name is {NAME}' }],
      assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ match: 'Alice', type: 'NAME', action: 'ANONYMIZED' }] } }],
    },
    segments,
  );
  assert.deepEqual(v.kind === 'mask' && v.texts, ['my name is {NAME}']);
});

test('ApplyGuardrail answer: ANONYMIZED together with BLOCKED is a block', () => {
  const v = interpretApplyGuardrail(
    {
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'x' }],
      assessments: [
        {
          sensitiveInformationPolicy: {
            piiEntities: [{ type: 'NAME', action: 'ANONYMIZED' }],
            regexes: [{ name: 'card', action: 'BLOCKED' }],
          },
        },
      ],
    },
    one,
  );
  assert.equal(v.kind, 'block');
});

test('ApplyGuardrail answer: a mask that cannot be placed safely is a block', () => {
  const anonymized = [{ sensitiveInformationPolicy: { piiEntities: [{ type: 'NAME', action: 'ANONYMIZED' }] } }];
  // Outputs do not line up with the segments.
  assert.equal(
    interpretApplyGuardrail({ action: 'GUARDRAIL_INTERVENED', outputs: [{ text: 'a' }], assessments: anonymized }, [
      { context: '', text: 'a' },
      { context: '', text: 'b' },
    ]).kind,
    'block',
  );
  // The mask touches the context, which is already with the client.
  assert.equal(
    interpretApplyGuardrail({ action: 'GUARDRAIL_INTERVENED', outputs: [{ text: '{NAME} is here' }], assessments: anonymized }, [
      { context: 'Alice', text: ' is here' },
    ]).kind,
    'block',
  );
});

test('ApplyGuardrail answer: intervened without any assessment is a block; not-detected entries do not count', () => {
  assert.equal(interpretApplyGuardrail({ action: 'GUARDRAIL_INTERVENED', outputs: [], assessments: [] }, one).kind, 'block');
  const v = interpretApplyGuardrail(
    {
      action: 'GUARDRAIL_INTERVENED',
      outputs: [{ text: 'my name is {NAME}' }],
      assessments: [
        {
          contentPolicy: { filters: [{ type: 'HATE', action: 'BLOCKED', detected: false }] },
          sensitiveInformationPolicy: { piiEntities: [{ type: 'NAME', action: 'ANONYMIZED', detected: true }] },
        },
      ],
    },
    one,
  );
  assert.equal(v.kind, 'mask');
});

test('ApplyGuardrail answer: anything that is not its shape is a failure, not a pass', () => {
  assert.equal(interpretApplyGuardrail('nope', one).kind, 'failed');
  assert.equal(interpretApplyGuardrail({ Output: { __type: 'UnknownOperationException' } }, one).kind, 'failed');
  assert.equal(interpretApplyGuardrail([], one).kind, 'failed');
});
