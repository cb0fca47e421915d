/**
 * The agent CLIs `npm run test:agents` drives (and the Claude Agent SDK, which brings its own Claude Code) are
 * the ones test/agents/package.json pins, and they start offline under a temporary HOME: their native
 * binaries came with the npm packages (no download at install or at first run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, runClient } from './harness.ts';

const pins = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> })
  .dependencies;

test('install: claude is the pinned @anthropic-ai/claude-code and starts offline', async () => {
  const run = await runClient({ bin: 'claude', args: ['--version'], timeoutMs: 30_000 });
  assert.equal(run.code, 0, describeRun(run));
  assert.equal(run.stdout.trim(), `${pins['@anthropic-ai/claude-code']} (Claude Code)`);
});

test('install: codex is the pinned @openai/codex and starts offline', async () => {
  const run = await runClient({
    bin: 'codex',
    args: ['--version'],
    prepareHome: (home) => {
      mkdirSync(join(home, '.codex'));
      return { CODEX_HOME: join(home, '.codex') };
    },
    timeoutMs: 30_000,
  });
  assert.equal(run.code, 0, describeRun(run));
  assert.equal(run.stdout.trim(), `codex-cli ${pins['@openai/codex']}`);
});

test('install: the Claude Agent SDK is the pinned @anthropic-ai/claude-agent-sdk with its bundled Claude Code', () => {
  const installed = JSON.parse(
    readFileSync(new URL('./node_modules/@anthropic-ai/claude-agent-sdk/package.json', import.meta.url), 'utf8'),
  ) as { version: string; optionalDependencies?: Record<string, string> };
  assert.equal(installed.version, pins['@anthropic-ai/claude-agent-sdk']);
  // Its Claude Code comes as a native package per platform (an optional dependency), not downloaded at run time.
  const native = `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`;
  assert.equal(installed.optionalDependencies?.[native], installed.version);
  const nativeInstalled = JSON.parse(readFileSync(new URL(`./node_modules/${native}/package.json`, import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(nativeInstalled.version, installed.version);
});
