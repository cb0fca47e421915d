/**
 * Character arithmetic for guardrail windows. A "character" of `interval_chars` is a Unicode code point
 * (a surrogate pair counts once), so an emoji never counts double and a window is never cut inside one.
 */
import { isHighSurrogate, isLowSurrogate } from '../pipeline/utf8.ts';

/** Code points in `text` (linear, no allocation). */
export function countChars(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length - 1; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      pairs++;
      i++;
    }
  }
  return text.length - pairs;
}

/** The first `n` code points of `text` (n ≥ 1, fewer than `text` has): never ends inside a surrogate pair. */
export function headChars(text: string, n: number): string {
  let units = 0;
  for (let chars = 0; chars < n && units < text.length; chars++) {
    units += isHighSurrogate(text.charCodeAt(units)) && isLowSurrogate(text.charCodeAt(units + 1)) ? 2 : 1;
  }
  return text.slice(0, units);
}

/** The last `max` UTF-16 units of `text`, never starting with the low half of a surrogate pair. */
export function tailOf(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  let start = text.length - max;
  if (isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1))) start++;
  return text.slice(start);
}
