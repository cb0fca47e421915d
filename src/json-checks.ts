/**
 * The checks a request body's JSON text gets before it is parsed, on the main thread (server/body.ts) and on
 * the JSON thread (server/json-thread.ts, which runs `nestingProblem`'s own source text), and JSON a client
 * wrote inside a string gets too (providers/json-text.ts). Its own module, beside errors.ts, so that neither
 * of the first two imports the other and the providers may use it (they import nothing of the server).
 */
/** Deeper than any real request (a tool's JSON schema nests a few dozen levels at most). */
export const MAX_JSON_DEPTH = 512;
/** Most characters of a key quoted back (the rest is counted). */
export const KEY_QUOTE_CHARS = 100;

/**
 * Refuses a body nested deeper than `maxDepth` before it is parsed: returns the bounds [from, to) of the
 * top-level key it is under ([-1, -1] when none), or undefined when the nesting is fine. Parsing 20 MB of
 * nested brackets holds the event loop (every stream) for seconds, and everything after the parse
 * recurses: a tool schema 5,000 levels deep (40 KB) ended in a stack overflow, a 500 that said nothing.
 * One pass over the text, brackets counted outside strings; malformed JSON is left to the parser to name.
 * Linear whatever the body holds: the key is only located (two indices) as the scan goes (a 2 MB key
 * followed by two million colons used to be sliced again at every colon: minutes of a frozen event loop).
 *
 * Self-contained (no outside name, no inner function): the JSON thread runs its source text too.
 */
export function nestingProblem(text: string, maxDepth: number): [number, number] | undefined {
  let depth = 0;
  let keyFrom = -1; // the top-level key in force: [keyFrom, keyTo) of `text`
  let keyTo = -1;
  let lastFrom = -1; // the last string closed at depth 1, the key it may be
  let lastTo = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const from = i + 1;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth === 1) {
        lastFrom = from;
        lastTo = i;
      }
    } else if (c === 0x3a /* : */ && depth === 1 && lastFrom >= 0) {
      keyFrom = lastFrom;
      keyTo = lastTo;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return [keyFrom, keyTo];
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return undefined;
}
