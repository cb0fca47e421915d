/**
 * A client that leaves while a check is pending: the ApplyGuardrail call in flight is cancelled with the
 * stream, and so is the model call (the guard's AbortController, driven by the pipeline's teardown).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardrailCalls, longReply, modelCalls, requestLog, startRig, withTimeout } from './helpers.ts';
import { chat } from '../helpers/harness.ts';

for (const mode of ['sync', 'async'] as const) {
  test(`a client leaving mid-stream (${mode}) cancels the pending ApplyGuardrail call and the model call`, async () => {
    const rig = await startRig({
      guardrails: [
        {
          name: 'corp-policy',
          type: 'bedrock',
          id: 'gr0corp',
          version: '1',
          stages: ['output'],
          stream_mode: mode,
          interval_chars: 100,
          timeout_ms: 60_000,
        },
      ],
      attach: ['corp-policy'],
    });
    try {
      rig.emu.scriptGuardrail({ type: 'delay', ms: 30_000, then: { type: 'pass' } });
      rig.emu.script(longReply(5_000, 'x'));
      const controller = new AbortController();
      const res = await chat(
        rig.url,
        { model: 'claude-invoke', stream: true, messages: [{ role: 'user', content: 'hi' }] },
        {},
        controller.signal,
      );
      assert.equal(res.status, 200);
      // Wait until the first check is in flight, then leave.
      await withTimeout(
        (async () => {
          while (guardrailCalls(rig).length === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        5_000,
        'no check started',
      );
      controller.abort();
      const [check] = guardrailCalls(rig);
      assert.equal((await withTimeout(check!.done, 5_000, 'ApplyGuardrail call never cancelled')).clientAborted, true);
      assert.equal((await withTimeout(modelCalls(rig)[0]!.done, 5_000, 'model call never cancelled')).clientAborted, true);
      await withTimeout(
        (async () => {
          while (!requestLog(rig)) await new Promise((r) => setTimeout(r, 5));
        })(),
        5_000,
        'no log line',
      );
      assert.equal(requestLog(rig)?.cancelled, true);
    } finally {
      await rig.close();
    }
  });
}
