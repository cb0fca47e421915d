/**
 * The architecture's import boundaries (eslint.config.js, rule scripts/lint/architecture.js) bite: each
 * "never" arrow is tried with a small source placed, by its `filePath`, where the import is forbidden, and
 * the rule must report it; the same import from a folder that may make it must pass. The config blocks
 * under test are the ones eslint.config.js exports, so a change there is what this test checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RULE = 'local/architecture';
// The repository's own config (plain JavaScript, so loaded by URL: tsc has no types for it).
const { default: config } = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as { default: Linter.Config[] };

// Only the blocks that carry the boundary rule, parsed without type information: the fixtures are not in
// tsconfig's program, and the rule needs none.
const blocks = config.filter((block) => block.rules?.[RULE] !== undefined);
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...blocks],
});

async function boundaryMessages(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  assert.ok(result, `no lint result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

async function assertForbidden(file: string, source: string, because: RegExp): Promise<void> {
  const messages = await boundaryMessages(file, source);
  assert.equal(messages.length, 1, `${file}: expected one boundary error for\n${source}\ngot ${JSON.stringify(messages)}`);
  assert.match(messages[0]!, because);
}

async function assertAllowed(file: string, source: string): Promise<void> {
  assert.deepEqual(await boundaryMessages(file, source), [], `${file} may import:\n${source}`);
}

test('lint: the config under test has the boundary rule for src/', () => {
  assert.equal(blocks.length, 1);
  assert.deepEqual(blocks[0]!.files, ['src/**/*.ts']);
});

test('lint: the pipeline never imports the server or a surface', async () => {
  await assertForbidden('src/pipeline/x.ts', "import { route } from '../server/router.ts';", /src\/server\/router\.ts.*pipeline stages/);
  await assertForbidden('src/pipeline/x.ts', "import { render } from '../surfaces/openai/render.ts';", /src\/surfaces\/openai/);
  await assertAllowed(
    'src/pipeline/x.ts',
    "import type { StreamMapper } from '../providers/types.ts';\nimport { Transform } from 'node:stream';",
  );
});

test('lint: a provider family never imports upstream, the server or a surface', async () => {
  await assertForbidden(
    'src/providers/x.ts',
    "import { BedrockClient } from '../upstream/client.ts';",
    /src\/upstream\/client\.ts.*never calls Bedrock/,
  );
  await assertForbidden('src/providers/x.ts', "export { handleChat } from '../server/chat.ts';", /src\/server\/chat\.ts/);
  await assertForbidden('src/providers/x.ts', "export * from '../surfaces/anthropic/read.ts';", /src\/surfaces\/anthropic/);
  await assertAllowed('src/providers/x.ts', "import type { StreamEvent } from '../pipeline/events.ts';");
});

test('lint: the product never imports the emulator, however the import is written', async () => {
  await assertForbidden(
    'src/app.ts',
    "import { startEmulator } from './emulator/index.ts';",
    /src\/emulator\/index\.ts.*never imports the emulator/,
  );
  await assertForbidden('src/server/x.ts', "const m = await import('../emulator/server.ts');", /src\/emulator\/server\.ts/);
  await assertForbidden('src/guardrails/deep/x.ts', "import '../../emulator/frames.ts';", /src\/emulator\/frames\.ts/);
  // Tests, scripts and the bench drive the emulator; the emulator imports itself.
  await assertAllowed('src/emulator/x.ts', "import { startEmulator } from './index.ts';");
});

test('lint: the emulator never imports providers or pipeline', async () => {
  await assertForbidden(
    'src/emulator/x.ts',
    "import { converseAdapter } from '../providers/converse.ts';",
    /src\/providers\/converse\.ts.*independent/,
  );
  await assertForbidden(
    'src/emulator/families/x.ts',
    "import type { StreamEvent } from '../../pipeline/events.ts';",
    /src\/pipeline\/events\.ts/,
  );
  await assertAllowed('src/emulator/families/x.ts', "import { isJson } from './types.ts';\nimport { createServer } from 'node:http';");
});

test('lint: one surface never imports another; the shared surface files are open to all', async () => {
  await assertForbidden(
    'src/surfaces/anthropic/x.ts',
    "import { render } from '../openai/render.ts';",
    /src\/surfaces\/openai\/render\.ts.*one client surface/,
  );
  await assertAllowed('src/surfaces/anthropic/x.ts', "import { read } from './read.ts';\nimport { shared } from '../common.ts';");
  await assertAllowed('src/surfaces/common.ts', "import { render } from './openai/render.ts';");
});

test('lint: the boundaries are about src/; a test may reach anything', async () => {
  await assertAllowed('test/x.test.ts', "import { startEmulator } from '../src/emulator/index.ts';");
});
