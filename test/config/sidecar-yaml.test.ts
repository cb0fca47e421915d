/**
 * The shipped sidecar.yaml (docs/contract.md#configuration) is a complete, loadable starting point: it loads
 * as it is, and every key the configuration takes (src/config/load.ts CONFIG_KEYS) appears in it, set or
 * commented out, inside its own section — so a new key cannot be added without showing it to the user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_KEYS, parseConfig } from '../../src/config/load.ts';

const TEXT = readFileSync(new URL('../../sidecar.yaml', import.meta.url), 'utf8');

interface Line {
  indent: number;
  key: string;
  item: boolean;
}

/** Each `key:` line, commented or not: its indent (after any `# `), its key, whether it opens a list item. */
function keyLines(text: string): Line[] {
  return text.split('\n').flatMap((raw) => {
    const m = /^(\s*)(?:#\s?(\s*))?(- )?([a-z_]+):(\s|$)/.exec(raw);
    if (!m) return [];
    return [{ indent: m[1]!.length + (m[2]?.length ?? 0) + (m[3] ? 2 : 0), key: m[4]!, item: m[3] !== undefined }];
  });
}

/** The keys shown under `section` (a path such as `models[].embedding`), from the file's indentation. */
function keysUnder(section: string): Set<string> {
  const found = new Set<string>();
  const stack: Array<{ indent: number; name: string }> = [];
  for (const line of keyLines(TEXT)) {
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= line.indent) stack.pop();
    const parents = stack.map((s) => s.name);
    const path = parents.join('.');
    if (path === section) found.add(line.key);
    const list = line.key === 'models' || line.key === 'guardrails';
    stack.push({ indent: line.indent, name: list ? `${line.key}[]` : line.key });
  }
  return found;
}

test('sidecar.yaml: the shipped file loads as it is', () => {
  const config = parseConfig(TEXT, 'sidecar.yaml');
  assert.ok(config.models.length > 0);
});

test('sidecar.yaml: every configuration key appears in its section, set or commented with its default', () => {
  for (const [section, keys] of Object.entries(CONFIG_KEYS)) {
    const shown = keysUnder(section);
    const missing = keys.filter((key) => !shown.has(key));
    assert.deepEqual(missing, [], `sidecar.yaml lacks ${missing.map((k) => (section ? `${section}.${k}` : k)).join(', ')}`);
  }
});
