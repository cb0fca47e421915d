/**
 * The case that motivated the project: a guardrail blocks a streamed reply after the 200 went out. Each
 * mode × type: the stream ends with exactly the error frame and [DONE], the upstream call is cut, nothing
 * that failed reaches the client in sync mode, and the request is counted and logged without its text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnding, guardrailCalls, judgedTexts, longReply, metricsText, requestLog, startRig, stream, upstreamDone } from './helpers.ts';

const TERM = 'Project Nightingale';
const INTERVAL = 200;
const BEFORE = 1000;

const cases = [
  { type: 'regex', mode: 'sync', name: 'no-secrets', extra: { patterns: ['(?i)project\\s+nightingale'] } },
  { type: 'regex', mode: 'async', name: 'no-secrets', extra: { patterns: ['(?i)project\\s+nightingale'] } },
  { type: 'bedrock', mode: 'sync', name: 'corp-policy', extra: { id: 'gr0corp', version: '1' } },
  { type: 'bedrock', mode: 'async', name: 'corp-policy', extra: { id: 'gr0corp', version: '1' } },
] as const;

for (const c of cases) {
  test(`${c.type} guardrail, ${c.mode} mode: a block after the 200 ends the stream with the error frame and [DONE], and cuts upstream`, async () => {
    const rig = await startRig({
      guardrails: [{ name: c.name, type: c.type, stages: ['output'], stream_mode: c.mode, interval_chars: INTERVAL, ...c.extra }],
      attach: [c.name],
      emulator: { guardrails: { blockTerms: ['project nightingale'] } },
    });
    try {
      rig.emu.script(longReply(BEFORE, TERM));
      const s = await stream(rig, { model: 'claude-invoke' });
      assert.equal(s.status, 200);
      assert.ok(s.raw.endsWith(blockEnding(c.name)), `stream ending: ${JSON.stringify(s.raw.slice(-200))}`);
      assert.deepEqual(s.frames.slice(-2), [
        `{"error":{"message":"Violated guardrail policy","type":"guardrail_violation","code":400,"guardrail":"${c.name}"}}`,
        '[DONE]',
      ]);
      assert.equal(s.frames.filter((f) => f === '[DONE]').length, 1);
      assert.equal(s.finish, null, 'a blocked stream never shows a finish_reason');

      if (c.mode === 'sync') {
        for (const frame of s.frames) assert.ok(!frame.toLowerCase().includes('nightingale'), `a frame leaked the blocked text: ${frame}`);
        assert.ok(s.content.length <= BEFORE + TERM.length, 'in sync mode nothing past the failing window went out');
      } else {
        // async: at most interval_chars past the last passed check, which ended before the term did.
        assert.ok(s.content.length < BEFORE + TERM.length + INTERVAL, `${s.content.length} characters went out`);
      }

      const upstream = await upstreamDone(rig);
      assert.equal(upstream.clientAborted, true, 'the sidecar aborted the upstream request');

      if (c.type === 'bedrock') {
        const calls = guardrailCalls(rig);
        assert.ok(calls.length >= 1);
        for (const call of calls) {
          assert.equal(call.signature, 'valid', 'ApplyGuardrail is signed like a model call');
          assert.equal(call.guardrailId, 'gr0corp');
          assert.equal(call.guardrailVersion, '1');
          assert.equal((call.json as { source: string }).source, 'OUTPUT');
          for (const judged of judgedTexts(call)) assert.ok(judged.length <= INTERVAL + 200 + 40, `a check of ${judged.length} characters`);
        }
      }

      assert.match(
        await metricsText(rig),
        new RegExp(`sidecar_guardrail_interventions_total\\{guardrail="${c.name}",action="block",surface="chat"\\} 1`),
      );
      const line = requestLog(rig);
      assert.equal(line?.guardrail, `output:${c.name}:block`);
      assert.equal((line?.error as { type?: string } | undefined)?.type, 'guardrail_violation');
      assert.ok(
        !JSON.stringify(rig.logs).toLowerCase().includes('nightingale'),
        'logs never carry the blocked text without logging.content',
      );
    } finally {
      await rig.close();
    }
  });
}

test('a stream that passes every check ends normally, and the log line says passed', async () => {
  const rig = await startRig({
    guardrails: [
      { name: 'no-secrets', type: 'regex', patterns: ['nightingale'], interval_chars: 50 },
      { name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stream_mode: 'async', interval_chars: 50 },
    ],
    attach: ['no-secrets', 'corp-policy'],
  });
  try {
    const text = 'A perfectly harmless answer, long enough to need several checks along the way. '.repeat(5);
    rig.emu.script({ type: 'text', text });
    const s = await stream(rig, {});
    assert.equal(s.content, text);
    assert.equal(s.finish, 'stop');
    assert.equal(s.frames.at(-1), '[DONE]');
    assert.equal(requestLog(rig)?.guardrail, 'passed');
  } finally {
    await rig.close();
  }
});

test('logging.content: true puts the blocked text in the intervention log line', async () => {
  const rig = await startRig({
    guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'] }],
    attach: ['no-secrets'],
    logging: { content: true },
  });
  try {
    rig.emu.script({ type: 'text', text: `About ${TERM}.` });
    await stream(rig, {});
    const line = rig.logs.find((l) => l.msg === 'guardrail blocked');
    assert.equal(line?.text, TERM);
    assert.equal(line?.guardrail, 'no-secrets');
    assert.ok(typeof line?.requestId === 'string', 'guardrail log lines carry the request id');
  } finally {
    await rig.close();
  }
});
