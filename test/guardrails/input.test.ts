/**
 * Input stage: judged before any upstream call. A block is a 400 JSON naming the guardrail, and the model
 * is never called; a mask changes what the model is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, guardrailCalls, judgedTexts, modelCalls, requestLog, startRig, stream } from './helpers.ts';

const GUARDRAILS = [
  { name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'], stages: ['input'] },
  { name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['input'] },
  { name: 'phones', type: 'regex', patterns: ['\\d{3}-\\d{4}'], action: 'mask', mask: '[PHONE]', stages: ['input'] },
];

async function blockedAnswer(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return ((await res.json()) as { error: Record<string, unknown> }).error;
}

for (const name of ['no-secrets', 'corp-policy']) {
  for (const streaming of [true, false]) {
    test(`input stage (${name}, stream: ${streaming}): a block is a 400 guardrail_violation and the model is never called`, async () => {
      const rig = await startRig({
        guardrails: GUARDRAILS,
        attach: [name],
        emulator: { guardrails: { blockTerms: ['project nightingale'] } },
      });
      try {
        const res = await chat(rig, {
          stream: streaming,
          messages: [
            { role: 'system', content: 'Be nice.' },
            { role: 'user', content: 'Tell me about project nightingale.' },
          ],
        });
        assert.deepEqual(await blockedAnswer(res), {
          message: 'Violated guardrail policy',
          type: 'guardrail_violation',
          param: null,
          code: 400,
          guardrail: name,
        });
        assert.equal(modelCalls(rig).length, 0, 'zero model calls');
        if (name === 'corp-policy') {
          const [call] = guardrailCalls(rig);
          assert.equal((call!.json as { source: string }).source, 'INPUT');
          assert.deepEqual(judgedTexts(call!), ['Be nice.', 'Tell me about project nightingale.'], 'one content block per message text');
        }
        assert.equal(requestLog(rig)?.guardrail, `input:${name}:block`);
        assert.equal(requestLog(rig)?.status, 400);
      } finally {
        await rig.close();
      }
    });
  }
}

test('input stage: a regex mask rewrites what the model is sent', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS, attach: ['phones'] });
  try {
    const s = await stream(rig, { messages: [{ role: 'user', content: 'My number is 555-1234, call me.' }] });
    assert.equal(s.finish, 'stop');
    const [call] = modelCalls(rig);
    const sent = JSON.stringify(call!.json);
    assert.ok(sent.includes('My number is [PHONE], call me.'), sent);
    assert.ok(!sent.includes('555-1234'));
    assert.equal(requestLog(rig)?.guardrail, 'input:phones:mask');
  } finally {
    await rig.close();
  }
});

test('input stage: a Bedrock ANONYMIZED answer rewrites what the model is sent', async () => {
  const rig = await startRig({
    guardrails: GUARDRAILS,
    attach: ['corp-policy'],
    emulator: { guardrails: { maskTerms: [{ term: 'Alice Example', type: 'NAME' }] } },
  });
  try {
    const res = await chat(rig, { messages: [{ role: 'user', content: 'I am Alice Example.' }] });
    assert.equal(res.status, 200);
    const sent = JSON.stringify(modelCalls(rig)[0]!.json);
    assert.ok(sent.includes('I am {NAME}.'), sent);
    assert.ok(!sent.includes('Alice'));
  } finally {
    await rig.close();
  }
});

test('input stage: guardrails asked for by name in the request apply, and never reach the model body', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS });
  try {
    const res = await chat(rig, {
      model: 'claude-bare',
      guardrails: ['no-secrets'],
      messages: [{ role: 'user', content: 'project nightingale?' }],
    });
    assert.equal((await blockedAnswer(res)).guardrail, 'no-secrets');
    assert.equal(modelCalls(rig).length, 0);
    const ok = await chat(rig, { model: 'claude-bare', guardrails: ['no-secrets'], messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(ok.status, 200);
    assert.ok(!JSON.stringify(modelCalls(rig)[0]!.json).includes('guardrail'));
  } finally {
    await rig.close();
  }
});

test('input stage: an unknown guardrail name in the request is a 400 invalid_request_error naming it', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS });
  try {
    const res = await chat(rig, { guardrails: ['no-such-guard'] });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { type: string; message: string; param: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'guardrails');
    assert.match(error.message, /no-such-guard/);
    assert.equal(modelCalls(rig).length, 0);
  } finally {
    await rig.close();
  }
});

for (const onError of ['block', 'allow'] as const) {
  test(`input stage: ApplyGuardrail failing with on_error: ${onError}`, async () => {
    const rig = await startRig({
      guardrails: [{ name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['input'], on_error: onError }],
      attach: ['corp-policy'],
    });
    try {
      rig.emu.scriptGuardrail({ type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'try later' });
      const res = await chat(rig, {});
      if (onError === 'block') {
        assert.equal((await blockedAnswer(res)).guardrail, 'corp-policy');
        assert.equal(modelCalls(rig).length, 0);
        assert.equal(requestLog(rig)?.guardrail, 'input:corp-policy:error_block');
      } else {
        assert.equal(res.status, 200);
        assert.equal(modelCalls(rig).length, 1);
        assert.equal(requestLog(rig)?.guardrail, 'input:corp-policy:error_allow');
      }
      const warning = rig.logs.find((l) => l.level === 'warn' && l.guardrail === 'corp-policy');
      assert.match(String(warning?.reason), /ServiceUnavailableException/);
    } finally {
      await rig.close();
    }
  });
}
