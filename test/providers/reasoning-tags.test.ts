import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { ReasoningSplitter, type ReasoningTags } from '../../src/providers/reasoning-tags.ts';

/** Feeds `pieces`, then end(); returns the joined reasoning and text. */
function run(tags: ReasoningTags, pieces: string[]): { reasoning: string; text: string; events: StreamEvent[] } {
  const s = new ReasoningSplitter(tags);
  const events = [...pieces.flatMap((p) => s.push(p)), ...s.end()];
  let reasoning = '';
  let text = '';
  for (const e of events) {
    if (e.kind === 'reasoning') reasoning += e.text;
    else if (e.kind === 'text') text += e.text;
  }
  return { reasoning, text, events };
}

function splits(input: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    // never cut a surrogate pair: Bedrock's chunks are whole UTF-8 strings
    const at = p > 0 && p < input.length && /[\uDC00-\uDFFF]/.test(input[p]!) ? p - 1 : p;
    if (at > last) out.push(input.slice(last, at));
    if (at > last) last = at;
  }
  out.push(input.slice(last));
  return out.filter((x) => x !== '');
}

const GPT = { open: '<reasoning>', close: '</reasoning>' };
const R1 = { open: '<think>', close: '</think>', startInside: true, holdUntilClose: true };

test('reasoning tags: a leading <reasoning> block becomes reasoning, the rest text', () => {
  const r = run(GPT, ['<reasoning>Think ☃ hard</reasoning>Answer 👋']);
  assert.equal(r.reasoning, 'Think ☃ hard');
  assert.equal(r.text, 'Answer 👋');
});

test('reasoning tags: text that does not open with the tag passes whole, even if it mentions the tag later', () => {
  const r = run(GPT, ['Plain <reasoning>not a block</reasoning> text']);
  assert.equal(r.reasoning, '');
  assert.equal(r.text, 'Plain <reasoning>not a block</reasoning> text');
});

test('reasoning tags: a partial open tag at the very end is text', () => {
  assert.deepEqual(run(GPT, ['<reas']).text, '<reas');
});

test('reasoning tags: an unclosed block stays reasoning (the model ran out of tokens while thinking)', () => {
  const r = run(GPT, ['<reasoning>half a thought']);
  assert.equal(r.reasoning, 'half a thought');
  assert.equal(r.text, '');
});

test('reasoning tags: R1 (prompt opened the block) — text before </think> is reasoning, whitespace after it dropped', () => {
  const r = run(R1, ['Let me think.\n', '</think>\n\n', 'The answer.']);
  assert.equal(r.reasoning, 'Let me think.\n');
  assert.equal(r.text, 'The answer.');
});

test('reasoning tags: R1 output that never closes the block was the answer, byte for byte', () => {
  const r = run(R1, ['  Just an answer — ', 'no thinking 🙂']);
  assert.equal(r.reasoning, '');
  assert.equal(r.text, '  Just an answer — no thinking 🙂');
});

test('reasoning tags: R1 past maxHeldBytes commits to reasoning and streams it', () => {
  const s = new ReasoningSplitter({ ...R1, maxHeldBytes: 8 });
  assert.deepEqual(s.push('1234'), []);
  const out = s.push('56789abc');
  assert.deepEqual(out, [{ kind: 'reasoning', text: '123456789abc' }]);
  assert.deepEqual(s.push('x</think>y'), [
    { kind: 'reasoning', text: 'x' },
    { kind: 'text', text: 'y' },
  ]);
});

test('reasoning tags: the output does not depend on how the input was split (whole, byte by byte, random)', () => {
  const inputs = [
    '<reasoning>\nA — b ☃ c</reasoning>\n\nAnswer 👋 </reasoning> here',
    '  <reasoning>x</reasoning>',
    'no tags at all — 👋',
    '<reasoning></reasoning>only answer',
  ];
  for (const tags of [GPT, R1, { open: '<think>', close: '</think>' }]) {
    for (const input of inputs.concat(['thinking</think>answer'])) {
      const whole = run(tags, [input]);
      const chars = run(tags, [...input]);
      assert.deepEqual({ r: chars.reasoning, t: chars.text }, { r: whole.reasoning, t: whole.text }, `${input} one char at a time`);
      fc.assert(
        fc.property(fc.array(fc.nat(200), { maxLength: 12 }), (cuts) => {
          const got = run(tags, splits(input, cuts));
          assert.equal(got.reasoning, whole.reasoning);
          assert.equal(got.text, whole.text);
        }),
        { seed: 42, numRuns: 100 },
      );
    }
  }
});
