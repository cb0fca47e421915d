/**
 * UTF-8 arithmetic on JavaScript (UTF-16) strings, without encoding them.
 *
 * A code point costs 1, 2, 3 or 4 bytes of UTF-8. In a JS string a code point above U+FFFF is a surrogate
 * pair (two UTF-16 units); a lone surrogate is encoded by Node as U+FFFD, 3 bytes, and is counted so here,
 * which keeps these counts equal to `Buffer.byteLength(text, 'utf8')`.
 */

/** Bytes of UTF-8 that `text` encodes to (native, linear, no allocation). */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * UTF-8 bytes of the code point that starts with the UTF-16 unit `unit`, for a unit that is not the high
 * half of a surrogate pair (those cost 4 bytes together with their low half, 3 bytes when lone).
 */
export function utf8UnitBytes(unit: number): 1 | 2 | 3 {
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  return 3;
}
