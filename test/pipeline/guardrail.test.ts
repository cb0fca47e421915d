import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarError } from '../../src/errors.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { GuardrailStage, type OutputGuard } from '../../src/pipeline/guardrail.ts';

const text = (t: string): StreamEvent => ({ kind: 'text', text: t });
const finish: StreamEvent = { kind: 'finish', reason: 'stop' };
const blocked: StreamEvent = {
  kind: 'error',
  error: new SidecarError('guardrail_violation', 'Violated guardrail policy', { guardrail: 'g' }),
};

function collect(stage: GuardrailStage): StreamEvent[][] {
  const out: StreamEvent[][] = [];
  stage.on('data', (batch: StreamEvent[]) => out.push(batch));
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('guardrail stage: without a guard it passes batches through', async () => {
  const stage = new GuardrailStage(undefined);
  const out = collect(stage);
  stage.write([text('a')]);
  stage.end([finish]);
  await new Promise((r) => stage.on('end', r));
  assert.deepEqual(out, [[text('a')], [finish]]);
});

test('guardrail stage: does not take the next batch until the guard answered (backpressure)', async () => {
  const calls: StreamEvent[][] = [];
  let release: (() => void) | undefined;
  const guard: OutputGuard = {
    push(events) {
      calls.push([...events]);
      return new Promise((resolve) => {
        release = () => resolve([...events]);
      });
    },
    end: () => [],
  };
  const stage = new GuardrailStage(guard);
  const out = collect(stage);
  stage.write([text('a')]);
  stage.write([text('b')]);
  await tick();
  assert.equal(calls.length, 1, 'the second batch waits');
  release!();
  await tick();
  assert.equal(calls.length, 2);
  release!();
  await tick();
  assert.deepEqual(out, [[text('a')], [text('b')]]);
});

test('guardrail stage: nothing follows an error, and the guard is told to abort', async () => {
  let aborted = 0;
  const guard: OutputGuard = {
    push: (events) =>
      events[0]!.kind === 'text' && (events[0] as { text: string }).text === 'bad' ? [text('ok'), blocked, text('x')] : [...events],
    end: () => [finish],
    abort: () => void aborted++,
  };
  const stage = new GuardrailStage(guard);
  const out = collect(stage);
  stage.write([text('fine')]);
  stage.write([text('bad')]);
  stage.write([text('after')]);
  stage.end();
  await new Promise((r) => stage.on('end', r));
  assert.deepEqual(out, [[text('fine')], [text('ok'), blocked]]);
  assert.ok(aborted >= 1, 'abort is idempotent: the error and the end may both call it');
});

test('guardrail stage: a guard interrupt is forwarded at once and ends the stream', async () => {
  let interrupt: ((events: StreamEvent[]) => void) | undefined;
  const guard: OutputGuard = {
    push: (events) => [...events],
    end: () => [finish],
    onInterrupt: (listener) => {
      interrupt = listener;
    },
  };
  const stage = new GuardrailStage(guard);
  const out = collect(stage);
  stage.write([text('a')]);
  await tick();
  interrupt!([blocked]);
  stage.write([text('b')]);
  stage.end();
  await new Promise((r) => stage.on('end', r));
  assert.deepEqual(out, [[text('a')], [blocked]]);
});

test('guardrail stage: a guard that throws or rejects ends the stream with a guardrail_violation error, never a crash', async () => {
  for (const failing of [
    () => {
      throw new Error('boom');
    },
    () => Promise.reject(new Error('boom')),
  ]) {
    const stage = new GuardrailStage({ push: failing, end: () => [] });
    const out = collect(stage);
    stage.write([text('a')]);
    stage.end();
    await new Promise((r) => stage.on('end', r));
    assert.equal(out.length, 1);
    const event = out[0]![0]!;
    assert.ok(event.kind === 'error');
    assert.equal(event.error.type, 'guardrail_violation');
  }
});

test('guardrail stage: destroying the stage aborts the guard (client gone)', () => {
  let aborted = 0;
  const stage = new GuardrailStage({ push: (e) => [...e], end: () => [], abort: () => void aborted++ });
  stage.destroy();
  assert.equal(aborted, 1);
});
