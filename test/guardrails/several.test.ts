/**
 * Several guardrails on one request: attached to the alias and asked for in the request, they run
 * together, and the first one in attachment order that blocks names the block — whichever answered first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnding, chat, guardrailCalls, requestLog, startRig, stream } from './helpers.ts';

const GUARDRAILS = [
  { name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['input', 'output'], interval_chars: 100 },
  { name: 'no-secrets', type: 'regex', patterns: ['(?i)nightingale'], interval_chars: 100 },
  { name: 'no-codes', type: 'regex', patterns: ['\\bX-\\d{4}\\b'], interval_chars: 100 },
];
const EMU = { guardrails: { blockTerms: ['nightingale'] } };

test('several guardrails: both block the same window; the first attached names it, though the regex answers first', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS, attach: ['corp-policy', 'no-secrets'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'The nightingale sings at dawn. '.repeat(10) });
    const s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('corp-policy')), JSON.stringify(s.raw.slice(-160)));
    assert.equal(s.content, '');
    assert.equal(requestLog(rig)?.guardrail, 'output:corp-policy:block');
  } finally {
    await rig.close();
  }
});

test('several guardrails: the order is the attachment order, so the other way round the regex names it', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS, attach: ['no-secrets', 'corp-policy'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'The nightingale sings at dawn. '.repeat(10) });
    const s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')));
  } finally {
    await rig.close();
  }
});

test('several guardrails: each blocks what only it objects to; input and output stages both apply', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS, attach: ['corp-policy', 'no-secrets'], emulator: EMU });
  try {
    // Only the request's own guardrail objects to this.
    rig.emu.script({ type: 'text', text: 'Use code X-1234 to enter. '.repeat(6) });
    const s = await stream(rig, { guardrails: ['no-codes'] });
    assert.ok(s.raw.endsWith(blockEnding('no-codes')));
    // Input: the Bedrock guardrail is the one that objects.
    const res = await chat(rig, { messages: [{ role: 'user', content: 'nightingale?' }] });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { guardrail: string } }).error.guardrail, 'corp-policy');
    // ApplyGuardrail was asked for both stages.
    const sources = guardrailCalls(rig).map((r) => (r.json as { source: string }).source);
    assert.ok(sources.includes('INPUT') && sources.includes('OUTPUT'));
  } finally {
    await rig.close();
  }
});

test('several guardrails: a name asked for twice (alias and request) applies once', async () => {
  const rig = await startRig({ guardrails: GUARDRAILS, attach: ['corp-policy'], emulator: EMU });
  try {
    rig.emu.script({ type: 'text', text: 'short and fine' });
    const s = await stream(rig, { guardrails: ['corp-policy'] });
    assert.equal(s.finish, 'stop');
    // one input check and one output check
    assert.equal(guardrailCalls(rig).length, 2);
  } finally {
    await rig.close();
  }
});

test('several guardrails: two bedrock_native guardrails cannot apply to one call', async () => {
  const natives = [
    { name: 'native-a', type: 'bedrock_native', id: 'gra', version: '1' },
    { name: 'native-b', type: 'bedrock_native', id: 'grb', version: '1' },
  ];
  await assert.rejects(startRig({ guardrails: natives, attach: ['native-a', 'native-b'] }), /at most one bedrock_native/);
  const rig = await startRig({ guardrails: natives, attach: ['native-a'] });
  try {
    const res = await chat(rig, { guardrails: ['native-b'] });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /at most one bedrock_native/);
  } finally {
    await rig.close();
  }
});
