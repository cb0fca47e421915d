import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.ts';
import type { GuardrailConfig } from '../../src/config/schema.ts';
import { applyMask, createRegexGuardrail } from '../../src/guardrails/regex.ts';
import { countChars, tailOf } from '../../src/guardrails/text.ts';
import type { Segment, Verdict } from '../../src/guardrails/types.ts';

function regexConfig(extra: Record<string, unknown>): GuardrailConfig {
  return validateConfig({ guardrails: [{ name: 'no-secrets', type: 'regex', ...extra }] }).guardrails[0]!;
}

function check(config: GuardrailConfig, segments: Segment[]): Verdict {
  const v = createRegexGuardrail(config).check('OUTPUT', segments, new AbortController().signal);
  assert.ok(!(v instanceof Promise), 'a regex check is synchronous');
  return v;
}

const seg = (text: string, context = ''): Segment => ({ context, text });

test('regex: blocks on a match, passes without one', () => {
  const g = regexConfig({ patterns: ['(?i)project\\s+nightingale'] });
  assert.equal(check(g, [seg('all fine here')]).kind, 'pass');
  const v = check(g, [seg('about Project   Nightingale today')]);
  assert.equal(v.kind, 'block');
  assert.equal(v.kind === 'block' && v.detail, 'Project   Nightingale');
});

test('regex: a match that straddles the context boundary is found', () => {
  const g = regexConfig({ patterns: ['nightingale'] });
  assert.equal(check(g, [seg('ingale sings', 'project night')]).kind, 'block');
});

test('regex: a match that ends inside the context was judged before and is skipped', () => {
  const g = regexConfig({ patterns: ['nightingale'] });
  assert.equal(check(g, [seg(' and more', 'the nightingale')]).kind, 'pass');
});

test('regex: empty matches mean nothing', () => {
  const g = regexConfig({ patterns: ['x*'] });
  assert.equal(check(g, [seg('abc')]).kind, 'pass');
});

test('regex: mask replaces every match, only inside the new text', () => {
  const g = regexConfig({ patterns: ['\\d{3}-\\d{4}'], action: 'mask', mask: '[PHONE]' });
  const v = check(g, [seg('call 555-1234 or 555-9876.')]);
  assert.deepEqual(v.kind === 'mask' && v.texts, ['call [PHONE] or [PHONE].']);
  // The part of a straddling match inside the context is already released: only the rest is masked.
  const straddle = check(g, [seg('-1234 now', 'call 555')]);
  assert.deepEqual(straddle.kind === 'mask' && straddle.texts, ['[PHONE] now']);
});

test('regex: overlapping matches of several patterns merge into one mask', () => {
  const g = regexConfig({ patterns: ['secret code', 'code \\d+'], action: 'mask' });
  const v = check(g, [seg('the secret code 42 is here')]);
  assert.deepEqual(v.kind === 'mask' && v.texts, ['the [REDACTED] is here']);
});

test('regex: per-segment masks leave unchanged segments undefined', () => {
  const g = regexConfig({ patterns: ['bob'], action: 'mask', mask: '*' });
  const v = check(g, [seg('hello'), seg('hi bob')]);
  assert.deepEqual(v.kind === 'mask' && v.texts, [undefined, 'hi *']);
});

test('regex: multi-byte text and patterns match by code point', () => {
  const g = regexConfig({ patterns: ['日本🚫'] });
  assert.equal(check(g, [seg('🚫 ok', 'x日本')]).kind, 'block');
  assert.equal(check(g, [seg('日本 🚫')]).kind, 'pass');
});

test('applyMask: adjacent ranges stay separate, overlapping ones merge', () => {
  assert.equal(
    applyMask(
      'abcdef',
      [
        [0, 2],
        [2, 4],
      ],
      '#',
    ),
    '##ef',
  );
  assert.equal(
    applyMask(
      'abcdef',
      [
        [1, 4],
        [2, 5],
      ],
      '#',
    ),
    'a#f',
  );
  assert.equal(applyMask('abcdef', [], '#'), 'abcdef');
});

test('text: countChars counts code points, tailOf never starts inside a surrogate pair', () => {
  assert.equal(countChars('a😀b'), 3);
  assert.equal(countChars('日本'), 2);
  assert.equal(countChars('\ud83d'), 1);
  assert.equal(tailOf('ab😀', 1), '');
  assert.equal(tailOf('ab😀', 2), '😀');
  assert.equal(tailOf('ab😀', 3), 'b😀');
  assert.equal(tailOf('abc', 0), '');
});
