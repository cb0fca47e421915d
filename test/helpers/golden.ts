/**
 * The one golden-file compare of the suite. `expectGolden(file, actual)` asserts `actual` equals the file's
 * content byte for byte. With UPDATE_GOLDENS=1 in the environment it writes the file instead (then review
 * the diff before committing); a golden that does not exist yet is written and the test fails, so a new
 * case is never green before someone has looked at its output.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** UPDATE_GOLDENS=1: rewrite golden files from what the code produces now. */
export const UPDATE_GOLDENS = process.env.UPDATE_GOLDENS === '1';

export function expectGolden(file: string, actual: string | Uint8Array): void {
  const bytes = typeof actual === 'string' ? Buffer.from(actual, 'utf8') : Buffer.from(actual);
  if (UPDATE_GOLDENS || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
    if (!UPDATE_GOLDENS) assert.fail(`${file} did not exist and was written: review it, then run again`);
    return;
  }
  const expected = readFileSync(file);
  if (!expected.equals(bytes)) {
    // Compared as text for a readable diff (golden files here are UTF-8), after the byte check failed.
    assert.equal(bytes.toString('utf8'), expected.toString('utf8'), `${file} differs (UPDATE_GOLDENS=1 rewrites it)`);
    assert.fail(`${file} differs in bytes that decode to the same text (UPDATE_GOLDENS=1 rewrites it)`);
  }
}

/**
 * `expectGolden` for a JSON value, written as the suite writes JSON goldens: two-space indent, a final
 * newline. `replacer` as JSON.stringify's (e.g. to show an Error as its fields).
 */
export function expectJsonGolden(file: string, value: unknown, replacer?: (key: string, value: unknown) => unknown): void {
  expectGolden(file, `${JSON.stringify(value, replacer, 2)}\n`);
}
