/**
 * bedrock_native: Bedrock applies the guardrail inside the model call. Its settings travel as invoke
 * headers or the converse `guardrailConfig`, never inside the model-native body, and an intervention
 * Bedrock reports ends the stream like any other block. Without a guardrail configured, the same stop
 * reason is a plain `content_filter` finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnding, chat, modelCalls, requestLog, startRig, stream } from './helpers.ts';

const NATIVE = { name: 'bedrock-policy', type: 'bedrock_native', id: 'gr0native', version: '3', trace: true, stream_mode: 'async' };
const EMU = { guardrails: { blockTerms: ['project nightingale'] } };

test('bedrock_native on invoke: the guardrail headers reach Bedrock, the model body carries nothing of it', async () => {
  const rig = await startRig({ guardrails: [NATIVE], attach: ['bedrock-policy'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'A fine answer.' });
    const s = await stream(rig, {});
    assert.equal(s.finish, 'stop');
    const [call] = modelCalls(rig);
    assert.equal(call!.headers['x-amzn-bedrock-guardrailidentifier'], 'gr0native');
    assert.equal(call!.headers['x-amzn-bedrock-guardrailversion'], '3');
    assert.equal(call!.headers['x-amzn-bedrock-trace'], 'ENABLED');
    assert.equal(call!.signature, 'valid', 'the guardrail headers are signed');
    assert.ok(!/guardrail/i.test(call!.body.toString('utf8')), call!.body.toString('utf8'));
  } finally {
    await rig.close();
  }
});

test('bedrock_native on invoke: an intervention in the stream ends it with the error frame and [DONE]', async () => {
  const rig = await startRig({ guardrails: [NATIVE], attach: ['bedrock-policy'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'Here is everything about Project Nightingale and more.' });
    const s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('bedrock-policy')), JSON.stringify(s.raw.slice(-200)));
    assert.equal(s.finish, null);
    assert.ok(!s.content.toLowerCase().includes('nightingale'));
    assert.equal(requestLog(rig)?.guardrail, 'output:bedrock-policy:block');
  } finally {
    await rig.close();
  }
});

test('bedrock_native on invoke, non-streaming: an intervention is a 400 guardrail_violation', async () => {
  const rig = await startRig({ guardrails: [NATIVE], attach: ['bedrock-policy'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'All about Project Nightingale.' });
    const res = await chat(rig, {});
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { guardrail: string } }).error.guardrail, 'bedrock-policy');
  } finally {
    await rig.close();
  }
});

test('bedrock_native on invoke: an intervention marked only by amazon-bedrock-guardrailAction is seen too', async () => {
  const rig = await startRig({ guardrails: [NATIVE], attach: ['bedrock-policy'] });
  try {
    rig.emu.script({
      type: 'raw',
      events: [
        {
          type: 'message_start',
          message: {
            id: 'm',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'claude',
            usage: { input_tokens: 3, output_tokens: 0 },
          },
        },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Sorry, the model cannot answer this question.' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } },
        { type: 'message_stop', 'amazon-bedrock-guardrailAction': 'INTERVENED' },
      ],
    });
    const s = await stream(rig, {});
    assert.equal(s.content, 'Sorry, the model cannot answer this question.');
    assert.ok(s.raw.endsWith(blockEnding('bedrock-policy')));
  } finally {
    await rig.close();
  }
});

for (const streaming of [true, false]) {
  test(`bedrock_native on converse (stream: ${streaming}): guardrailConfig in the Converse body, intervention → block`, async () => {
    const rig = await startRig({ guardrails: [NATIVE], attach: ['bedrock-policy'], emulator: EMU });
    try {
      rig.emu.script({ type: 'text', text: 'A fine answer.' });
      const ok = streaming ? await stream(rig, { model: 'claude-converse' }) : undefined;
      if (!streaming) assert.equal((await chat(rig, { model: 'claude-converse' })).status, 200);
      if (ok) assert.equal(ok.finish, 'stop');
      const body = modelCalls(rig)[0]!.json as Record<string, unknown>;
      assert.deepEqual(body.guardrailConfig, {
        guardrailIdentifier: 'gr0native',
        guardrailVersion: '3',
        trace: 'enabled',
        ...(streaming ? { streamProcessingMode: 'async' } : {}),
      });
      assert.ok(!JSON.stringify(body.additionalModelRequestFields ?? {}).includes('guardrail'));
      assert.equal(modelCalls(rig)[0]!.headers['x-amzn-bedrock-guardrailidentifier'], undefined);

      rig.emu.script({ type: 'text', text: 'Everything about Project Nightingale, in detail.' });
      if (streaming) {
        const s = await stream(rig, { model: 'claude-converse' });
        assert.ok(s.raw.endsWith(blockEnding('bedrock-policy')), JSON.stringify(s.raw.slice(-200)));
      } else {
        const res = await chat(rig, { model: 'claude-converse' });
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'guardrail_violation');
      }
    } finally {
      await rig.close();
    }
  });
}

test('without a guardrail configured, guardrail_intervened is a plain content_filter finish', async () => {
  const rig = await startRig({ guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['nightingale'] }] });
  try {
    rig.emu.script({ type: 'text', text: 'Sorry, the model cannot answer this question.', stopReason: 'guardrail_intervened' });
    const s = await stream(rig, { model: 'claude-bare' });
    assert.equal(s.finish, 'content_filter');
    assert.equal(s.error, undefined);
    assert.equal(s.frames.at(-1), '[DONE]');
    // A non-native guardrail attached does not change that either.
    rig.emu.script({ type: 'text', text: 'Sorry.', stopReason: 'guardrail_intervened' });
    const s2 = await stream(rig, { model: 'claude-bare', guardrails: ['no-secrets'] });
    assert.equal(s2.finish, 'content_filter');
  } finally {
    await rig.close();
  }
});
