/**
 * The agent CLIs `npm run test:agents` drives are the ones test/agents/package.json pins, and they start
 * offline under a temporary HOME: their native binaries came with the npm packages (no download at install
 * or at first run).
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
