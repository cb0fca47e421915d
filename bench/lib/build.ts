/** Compiles the benchmark's proxies and the sidecar (`tsc -p bench/tsconfig.json` → bench/.build). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BUILD_DIR = join(ROOT, 'bench', '.build');

export function build(log: (line: string) => void): void {
  log('bench: compiling the proxies (tsc -p bench/tsconfig.json)');
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', '@typescript', 'native', 'bin', 'tsc'), '-p', join(ROOT, 'bench', 'tsconfig.json')],
      { stdio: 'pipe' },
    );
  } catch (error) {
    // tsc emits even with type errors; a half-finished change elsewhere in the tree must not stop a bench.
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    log(`bench: tsc reported errors (JavaScript was emitted anyway):\n${out.split('\n').slice(0, 10).join('\n')}`);
  }
}
