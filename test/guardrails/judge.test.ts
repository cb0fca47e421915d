import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.ts';
import type { GuardrailConfig } from '../../src/config/schema.ts';
import { judge, type JudgeContext } from '../../src/guardrails/judge.ts';
import { GuardrailRecorder } from '../../src/guardrails/recorder.ts';
import type { Segment, TextGuardrail, Verdict } from '../../src/guardrails/types.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';

function config(name: string, extra: Record<string, unknown> = {}): GuardrailConfig {
  return validateConfig({ guardrails: [{ name, type: 'regex', patterns: ['x'], ...extra }] }).guardrails[0]!;
}

/** A guardrail whose verdict is computed by `answer` (sync or async), recording what it was asked. */
function fake(
  name: string,
  answer: (segments: readonly Segment[]) => Verdict | Promise<Verdict>,
  extra: Record<string, unknown> = {},
): TextGuardrail & { asked: Segment[][] } {
  const asked: Segment[][] = [];
  return {
    config: config(name, extra),
    contextChars: 0,
    asked,
    check(_source, segments) {
      asked.push([...segments]);
      return answer(segments);
    },
  };
}

function context(maskAllowed = true): JudgeContext & { metrics: Metrics; recorder: GuardrailRecorder } {
  const metrics = new Metrics({ processMetrics: false });
  const recorder = new GuardrailRecorder(metrics, createLogger('silent'), false, 'chat');
  return { stage: 'output', recorder, maskAllowed, metrics };
}

const segs: Segment[] = [{ context: '', text: 'hello world' }];
const signal = new AbortController().signal;
const delay = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms));

test('judge: synchronous guardrails give a synchronous judgement', () => {
  const j = judge([fake('a', () => ({ kind: 'pass' }))], 'OUTPUT', segs, signal, context());
  assert.deepEqual(j, { kind: 'pass' });
});

test('judge: all checks start together, and the first guardrail in order names the block, whoever answers first', async () => {
  let started = 0;
  const a = fake('a', async () => {
    started++;
    return delay(30, { kind: 'block', reason: 'slow' });
  });
  const b = fake('b', async () => {
    started++;
    return { kind: 'block', reason: 'fast' };
  });
  const ctx = context();
  const pending = judge([a, b], 'OUTPUT', segs, signal, ctx);
  assert.equal(started, 2, 'both checks started before either answered');
  assert.deepEqual(await pending, { kind: 'block', guardrail: 'a' });
  assert.equal(ctx.recorder.outcome(), 'output:a:block');
});

test('judge: a failure follows on_error — allow passes (and is counted), block blocks', async () => {
  const failing = (onError: string): TextGuardrail =>
    fake(`f-${onError}`, async () => ({ kind: 'failed', reason: 'timeout' }), { on_error: onError });
  const ctx = context();
  assert.deepEqual(await judge([failing('allow')], 'OUTPUT', segs, signal, ctx), { kind: 'pass' });
  assert.equal(ctx.recorder.outcome(), 'output:f-allow:error_allow');
  const metric = await ctx.metrics.registry.getSingleMetricAsString('sidecar_guardrail_interventions_total');
  assert.match(metric, /guardrail="f-allow",action="error",surface="chat"} 1/);
  assert.deepEqual(await judge([failing('block')], 'OUTPUT', segs, signal, context()), { kind: 'block', guardrail: 'f-block' });
});

test('judge: masks compose — a later masking guardrail judges the already masked text', async () => {
  const a = fake('a', (s) => ({ kind: 'mask', texts: s.map((x) => x.text.replace('hello', '[A]')), reason: 'a' }));
  const b = fake('b', async (s) =>
    s[0]!.text.includes('world') ? { kind: 'mask', texts: s.map((x) => x.text.replace('world', '[B]')), reason: 'b' } : { kind: 'pass' },
  );
  const j = await judge([a, b], 'OUTPUT', segs, signal, context());
  assert.deepEqual(j, { kind: 'mask', texts: ['[A] [B]'] });
  assert.equal(b.asked.length, 2);
  assert.deepEqual(b.asked[1], [{ context: '', text: '[A] world' }]);
});

test('judge: where text cannot be held back, a mask is a block', () => {
  const a = fake('a', (s) => ({ kind: 'mask', texts: s.map(() => 'x'), reason: 'pii' }));
  const ctx = context(false);
  assert.deepEqual(judge([a], 'OUTPUT', segs, signal, ctx), { kind: 'block', guardrail: 'a' });
  assert.equal(ctx.recorder.outcome(), 'output:a:block');
});

test('judge: a cancelled check cancels the judgement', async () => {
  const a = fake('a', async () => ({ kind: 'cancelled' }));
  assert.deepEqual(await judge([a], 'OUTPUT', segs, signal, context()), { kind: 'cancelled' });
});
