/**
 * `type: regex` — local patterns, `action: block` or `mask`. Synchronous: a check never waits and never
 * fails.
 *
 * Each segment is searched as `context + text`, so a match that straddles the boundary between text that
 * already passed and new text is found. Matches that end inside the context were judged when that text was
 * new and are skipped; empty matches mean nothing. A mask replaces every match (overlapping matches of
 * several patterns merge into one) by the guardrail's `mask` string, only ever inside `text`: the part of a
 * straddling match that lies in the context has already been released and stays as it was.
 */
import { compilePattern } from '../config/load.ts';
import type { GuardrailConfig } from '../config/schema.ts';
import { PASS, type Segment, type TextGuardrail, type Verdict } from './types.ts';

/**
 * Overlap between consecutive streaming checks: a match of up to this many characters that straddles a
 * check boundary is still found. Costs only CPU (the window is searched again).
 */
export const REGEX_CONTEXT_CHARS = 512;

export function createRegexGuardrail(config: GuardrailConfig): TextGuardrail {
  const patterns = config.patterns.map((p) => compilePattern(p));
  return {
    config,
    contextChars: REGEX_CONTEXT_CHARS,
    check: (_source, segments) => judgeRegex(config, patterns, segments),
  };
}

function judgeRegex(config: GuardrailConfig, patterns: readonly RegExp[], segments: readonly Segment[]): Verdict {
  let texts: Array<string | undefined> | undefined;
  let matched = 0;
  let detail = '';
  for (let s = 0; s < segments.length; s++) {
    const { context, text } = segments[s]!;
    if (text === '') continue;
    const window = context + text;
    const start = context.length;
    const ranges: Array<[number, number]> = [];
    for (let p = 0; p < patterns.length; p++) {
      // matchAll works on a copy of the regex: the compiled pattern is shared safely between requests.
      for (const m of window.matchAll(patterns[p]!)) {
        const end = m.index + m[0].length;
        if (m[0].length === 0 || end <= start) continue;
        if (config.action === 'block') {
          return { kind: 'block', reason: `pattern ${p + 1} matched`, detail: m[0] };
        }
        ranges.push([Math.max(m.index, start) - start, end - start]);
        matched++;
        if (detail.length < 200) detail += (detail ? ', ' : '') + m[0];
      }
    }
    if (ranges.length > 0) {
      texts ??= new Array<string | undefined>(segments.length).fill(undefined);
      texts[s] = applyMask(text, ranges, config.mask);
    }
  }
  return texts ? { kind: 'mask', texts, reason: `${matched} match${matched === 1 ? '' : 'es'} masked`, detail } : PASS;
}

/** Replaces each range (merged where they overlap) by `mask`. Ranges are UTF-16 offsets into `text`. */
export function applyMask(text: string, ranges: ReadonlyArray<readonly [number, number]>, mask: string): string {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let at = 0;
  let i = 0;
  while (i < sorted.length) {
    const [from, end] = sorted[i]!;
    let to = end;
    for (i++; i < sorted.length && sorted[i]![0] < to; i++) to = Math.max(to, sorted[i]![1]);
    out += text.slice(at, from) + mask;
    at = to;
  }
  return out + text.slice(at);
}
