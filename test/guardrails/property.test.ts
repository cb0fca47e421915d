/**
 * Properties of the streaming output guard over random texts, random delta splits and random intervals:
 * however the model cuts its text, the verdict is the same, sync mode never releases the blocked term,
 * async mode stays within its bound, and text that passes comes out byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateConfig } from '../../src/config/load.ts';
import { createRegexGuardrail } from '../../src/guardrails/regex.ts';
import { GuardrailRecorder } from '../../src/guardrails/recorder.ts';
import { StreamGuard } from '../../src/guardrails/stream.ts';
import { countChars } from '../../src/guardrails/text.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';

const TERM = 'nightin🚫gale';

function guardFor(mode: 'sync' | 'async', interval: number): StreamGuard {
  const config = validateConfig({
    guardrails: [{ name: 'no-secrets', type: 'regex', patterns: [TERM], stream_mode: mode, interval_chars: interval }],
  }).guardrails[0]!;
  const recorder = new GuardrailRecorder(new Metrics({ processMetrics: false }), createLogger('silent'), false, 'chat');
  const g = createRegexGuardrail(config);
  return new StreamGuard({ sync: mode === 'sync' ? [g] : [], async: mode === 'async' ? [g] : [], native: undefined, recorder });
}

/** Cuts `text` at the given code-point positions (never inside a surrogate pair). */
function split(text: string, cuts: number[]): string[] {
  const points = [...text];
  const at = [...new Set(cuts.map((c) => c % (points.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of [...at, points.length]) {
    if (c > from) out.push(points.slice(from, c).join(''));
    from = Math.max(from, c);
  }
  return out;
}

const alphabet = fc.constantFrom('a', 'b', ' ', 'é', '日', '😀', 'n', 'i', 'g', '\n');
const textArb = fc
  .tuple(fc.array(alphabet, { maxLength: 300 }), fc.boolean(), fc.array(alphabet, { maxLength: 300 }))
  .map(([before, withTerm, after]) => before.join('') + (withTerm ? TERM : '') + after.join(''));

for (const mode of ['sync', 'async'] as const) {
  test(`stream guard property (${mode}): the verdict does not depend on how the text is cut, and passed text is exact`, () => {
    fc.assert(
      fc.property(textArb, fc.array(fc.nat(), { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (text, cuts, interval) => {
        const deltas = split(text, cuts);
        const g = guardFor(mode, interval);
        const out: StreamEvent[] = [];
        for (const d of deltas) {
          const r = g.push([{ kind: 'text', text: d }]);
          assert.ok(Array.isArray(r), 'regex checks answer synchronously');
          out.push(...r);
        }
        const r = g.push([{ kind: 'finish', reason: 'stop' }]);
        assert.ok(Array.isArray(r));
        out.push(...r);

        const released = out.map((e) => (e.kind === 'text' ? e.text : '')).join('');
        const blocked = out.at(-1)!.kind === 'error';
        assert.equal(blocked, text.includes(TERM), 'blocks exactly when the term is there');
        assert.equal(out.filter((e) => e.kind === 'error' || e.kind === 'finish').length, 1, 'one ending');
        if (!blocked) {
          assert.equal(released, text, 'passed text comes out exactly');
          return;
        }
        assert.ok(text.startsWith(released), 'only a prefix went out, in order');
        const termEnd = countChars(text.slice(0, text.indexOf(TERM) + TERM.length));
        if (mode === 'sync') {
          assert.ok(!released.includes(TERM), 'sync never releases the blocked term');
        } else {
          // The last passed check ended before the term did; at most interval_chars went out past it.
          assert.ok(countChars(released) < termEnd + interval, 'async stays within interval_chars of the last passed check');
        }
      }),
      { numRuns: 400, seed: 0x5eed },
    );
  });
}
