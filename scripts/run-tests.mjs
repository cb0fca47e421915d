#!/usr/bin/env node
// Runs the whole suite with node:test through tsx. Node 20's runner does not expand globs, so the test
// files are listed here; a run that finds no test file, or whose runner reports no test, fails.
// Usage: node scripts/run-tests.mjs [file-or-dir …]   (default: test/ without test/agents/, the agent CLIs'
// tests, which `npm run test:agents` runs on their own; node_modules folders are never searched)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const AGENT_TESTS = join('test', 'agents');

function collect(path, out, skip) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      if (name !== 'node_modules' && child !== skip) collect(child, out, skip);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = roots.length ? roots.flatMap((root) => collect(root, [])) : collect('test', [], AGENT_TESTS);
if (files.length === 0) {
  console.error('run-tests: no *.test.ts file found');
  process.exit(1);
}

const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative('.', f))];
if (process.env.TEST_CONCURRENCY) args.splice(2, 0, `--test-concurrency=${process.env.TEST_CONCURRENCY}`);
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString('utf8')).slice(-4096);
});
child.on('close', (code, signal) => {
  const tests = /ℹ tests (\d+)/.exec(tail);
  if (code === 0 && (!tests || Number(tests[1]) === 0)) {
    console.error('run-tests: the runner reported no test executed');
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
