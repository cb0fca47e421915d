/**
 * The guardrail itself fails (5xx, timeout) while it judges a stream: `on_error: block` ends the stream
 * exactly like a block; `on_error: allow` lets the text through, with a warning and the metric.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnding, longReply, metricsText, requestLog, startRig, stream, upstreamDone } from './helpers.ts';

const failures = {
  '5xx': { type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'try later' },
  // A check that would take a minute: only timeout_ms can end the wait (3 s against a 2.5 s bound left a
  // loaded machine too little room).
  timeout: { type: 'delay', ms: 60_000, then: { type: 'pass' } },
} as const;

for (const mode of ['sync', 'async'] as const) {
  for (const [what, reply] of Object.entries(failures)) {
    for (const onError of ['block', 'allow'] as const) {
      test(`output stage, ${mode}: ApplyGuardrail ${what} with on_error: ${onError}`, async () => {
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
              on_error: onError,
              timeout_ms: 150,
            },
          ],
          attach: ['corp-policy'],
        });
        try {
          rig.emu.scriptGuardrail(reply);
          const started = Date.now();
          if (onError === 'block') {
            rig.emu.script(longReply(300, 'nothing wrong here'));
            const s = await stream(rig, {});
            assert.ok(s.raw.endsWith(blockEnding('corp-policy')), JSON.stringify(s.raw.slice(-160)));
            assert.equal((await upstreamDone(rig)).clientAborted, true);
            assert.equal(requestLog(rig)?.guardrail, 'output:corp-policy:error_block');
          } else {
            const text = 'An answer the guardrail could not judge, but on_error says allow. '.repeat(4);
            rig.emu.script({ type: 'text', text });
            const s = await stream(rig, {});
            assert.equal(s.content, text);
            assert.equal(s.finish, 'stop');
            assert.equal(requestLog(rig)?.guardrail, 'output:corp-policy:error_allow');
          }
          assert.ok(Date.now() - started < 20_000, 'timeout_ms bounds the wait');
          assert.match(
            await metricsText(rig),
            /sidecar_guardrail_interventions_total\{guardrail="corp-policy",action="error",surface="chat"\} 1/,
          );
          const warning = rig.logs.find((l) => l.level === 'warn' && l.guardrail === 'corp-policy');
          assert.equal(warning?.onError, onError);
          assert.match(String(warning?.reason), what === 'timeout' ? /timeout_ms \(150 ms\)/ : /ServiceUnavailableException/);
        } finally {
          await rig.close();
        }
      });
    }
  }
}
