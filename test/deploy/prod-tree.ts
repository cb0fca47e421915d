/**
 * Builds what the Dockerfile's run stage holds, without Docker: `tsc -p tsconfig.build.json` into a
 * temporary directory, package.json beside it, and node_modules holding only the production dependency
 * closure (resolved from package-lock.json the way Node resolves it).
 * A test can then start `node dist/main.js` there and prove the compiled output runs on plain Node.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(import.meta.dirname, '..', '..');

interface LockEntry {
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * The lockfile keys (`node_modules/a`, `node_modules/a/node_modules/b`) reachable from the root's
 * production dependencies, resolving each name from the requiring package's directory upwards.
 */
export function productionClosure(root = ROOT): Set<string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const found = new Set<string>();
  const resolveFrom = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = parentPackage(dir)) {
      const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (dir === '') return undefined;
    }
  };
  const visit = (from: string, name: string, required: boolean): void => {
    const key = resolveFrom(from, name);
    if (!key) {
      if (required) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
      return;
    }
    if (found.has(key)) return;
    found.add(key);
    const entry = lock.packages[key]!;
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(key, dep, true);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(key, dep, false);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(key, dep, false);
  };
  for (const name of Object.keys(pkg.dependencies ?? {})) visit('', name, true);
  return found;
}

/** `node_modules/a/node_modules/b` → `node_modules/a`; `node_modules/@s/a` → ''. */
function parentPackage(key: string): string {
  const at = key.lastIndexOf('/node_modules/');
  return at === -1 ? '' : key.slice(0, at);
}

export interface ProdTree {
  dir: string;
  main: string;
  packages: Set<string>;
  remove(): void;
}

export async function buildProdTree(): Promise<ProdTree> {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-prod-'));
  try {
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules', '@typescript', 'native', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      { cwd: ROOT },
    );
    writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    const packages = productionClosure();
    // Copy outermost packages only: a nested node_modules comes along with its parent.
    for (const key of packages) {
      if ([...packages].some((other) => other !== key && key.startsWith(`${other}/`))) continue;
      const target = join(dir, ...key.split(posix.sep));
      cpSync(join(ROOT, ...key.split(posix.sep)), target, { recursive: true, dereference: true });
    }
    return { dir, main: join(dir, 'dist', 'main.js'), packages, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
