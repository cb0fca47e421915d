/**
 * No import cycles in `src/` (docs/contract.md's architecture; CONTRIBUTING.md "Imports"): a cycle makes a
 * module's bindings undefined while the other half is still loading, and hides which way a layer depends.
 * Type-only imports (`import type`, `export type … from`) are erased at run time and do not count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** The relative modules a source imports at run time. */
function runtimeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?\sfrom\s+'(\.[^']+)'/gm)) {
    if (m[1] === undefined) found.push(m[2]!);
  }
  for (const m of source.matchAll(/^import\s+'(\.[^']+)'/gm)) found.push(m[1]!);
  return found;
}

/** Every cycle's modules in order (each cycle once, from its first module met), by depth-first search. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') found.push(path.slice(path.indexOf(next)));
      else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('import cycles: the finder sees a cycle, a self-import and a type-only import for what they are', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  assert.deepEqual(cycles(graph), [['a', 'b', 'c'], ['d']]);
  const source =
    "import type { X } from './x.ts';\nimport {\n  y,\n  type Z,\n} from './y.ts';\nexport { w } from './w.ts';\nimport './side.ts';\n";
  assert.deepEqual(runtimeImports(source), ['./y.ts', './w.ts', './side.ts']);
});

test('import cycles: none in src/', () => {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imports = runtimeImports(readFileSync(file, 'utf8')).map((spec) => relative(SRC, resolve(dirname(file), spec)));
    graph.set(relative(SRC, file), imports);
  }
  assert.ok(graph.size > 100, `read ${graph.size} modules`);
  assert.deepEqual(
    cycles(graph).map((c) => c.join(' → ')),
    [],
  );
});
