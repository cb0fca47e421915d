/**
 * Not only `content`: tool-call arguments and reasoning text are judged too (each its own channel), and
 * check boundaries — exactly on `interval_chars`, inside a multi-byte character — never let a blocked text
 * through in sync mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockEnding, chat, guardrailCalls, judgedTexts, startRig, stream } from './helpers.ts';

const NO_SECRETS = { name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'], stages: ['output'], interval_chars: 50 };

test('tool-call arguments are judged: a blocked term in them ends the stream before the call goes out', async () => {
  const rig = await startRig({ guardrails: [NO_SECRETS], attach: ['no-secrets'] });
  try {
    rig.emu.script({
      type: 'tool_use',
      text: 'Let me look that up.',
      calls: [{ name: 'search', input: { query: 'everything about Project Nightingale' } }],
    });
    const s = await stream(rig, { tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }] });
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')), JSON.stringify(s.raw.slice(-160)));
    assert.ok(!s.toolArguments.toLowerCase().includes('nightingale'));
    for (const frame of s.frames) assert.ok(!frame.toLowerCase().includes('nightingale'), frame);
  } finally {
    await rig.close();
  }
});

test('tool-call arguments are judged whole and apart from the prose by ApplyGuardrail', async () => {
  const rig = await startRig({
    guardrails: [{ name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['output'], interval_chars: 1000 }],
    attach: ['corp-policy'],
  });
  try {
    rig.emu.script({ type: 'tool_use', text: 'Looking.', calls: [{ name: 'search', input: { query: 'weather in Paris' } }] });
    const s = await stream(rig, { tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }] });
    assert.equal(s.finish, 'tool_calls');
    assert.equal(s.toolArguments, '{"query":"weather in Paris"}');
    const [call] = guardrailCalls(rig);
    assert.deepEqual(judgedTexts(call!), ['Looking.', '{"query":"weather in Paris"}']);
  } finally {
    await rig.close();
  }
});

test('reasoning text is judged like content', async () => {
  const rig = await startRig({ guardrails: [NO_SECRETS], attach: ['no-secrets'] });
  try {
    rig.emu.script({
      type: 'text',
      reasoning: 'The user wants Project Nightingale details; I should recall them.',
      text: 'Here is a harmless answer.',
    });
    const s = await stream(rig, { reasoning_effort: 'low' });
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')), JSON.stringify(s.raw.slice(-160)));
    assert.ok(!s.reasoning.toLowerCase().includes('nightingale'));
  } finally {
    await rig.close();
  }
});

test('a block that lands exactly on an interval_chars boundary', async () => {
  const rig = await startRig({ guardrails: [{ ...NO_SECRETS, patterns: ['SECRET'], interval_chars: 10 }], attach: ['no-secrets'] });
  try {
    // "abcdSECRET" is exactly 10 characters: the first check sees the whole match; nothing goes out.
    rig.emu.script({ type: 'text', text: '', deltas: ['abcd', 'SECRET', 'more text after it'] });
    let s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')));
    assert.equal(s.content, '');
    // The match starts exactly at the boundary: the 10 characters before it pass, the match does not.
    rig.emu.script({ type: 'text', text: '', deltas: ['abcdefghij', 'SECRET', 'more text after it'] });
    s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')));
    assert.equal(s.content, 'abcdefghij');
  } finally {
    await rig.close();
  }
});

test('a block that lands inside a multi-byte character', async () => {
  const rig = await startRig({ guardrails: [{ ...NO_SECRETS, patterns: ['🚫禁止'], interval_chars: 5 }], attach: ['no-secrets'] });
  try {
    // Code points: "abcd" + "😀" = 5, so the boundary falls after the emoji's 4 bytes, never inside them;
    // the blocked term is multi-byte and cut by the model between "🚫" and "禁止".
    rig.emu.script({ type: 'text', text: '', deltas: ['abcd', '😀', 'x🚫', '禁止 and more', ' text after'] });
    const s = await stream(rig, {});
    assert.ok(s.raw.endsWith(blockEnding('no-secrets')), JSON.stringify(s.raw.slice(-160)));
    assert.equal(s.content, 'abcd😀');
    assert.ok(!s.raw.includes('\\ufffd') && !s.raw.includes('\ufffd'), 'no broken character');
  } finally {
    await rig.close();
  }
});

test('non-streaming: a block is a 400 JSON guardrail_violation, like the input stage', async () => {
  const rig = await startRig({ guardrails: [NO_SECRETS], attach: ['no-secrets'] });
  try {
    rig.emu.script({ type: 'text', text: 'All about Project Nightingale.' });
    const res = await chat(rig, { stream: false });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      error: { message: 'Violated guardrail policy', type: 'guardrail_violation', param: null, code: 400, guardrail: 'no-secrets' },
    });
  } finally {
    await rig.close();
  }
});
