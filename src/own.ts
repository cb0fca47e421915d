/**
 * A lookup table's entry for a key the client chose: `table[key]` only when `key` is the table's own, so that
 * `"constructor"`, `"__proto__"` or `"toString"` find no entry rather than Object's member (a block type, an edit,
 * a media type or a body key named so was a 500 before every lookup went through here).
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
