// ESLint (flat config): typescript-eslint's type-checked rules over every TypeScript file, and the
// architecture's import boundaries (scripts/lint/architecture.js) over src/.
//
// Typed linting needs TypeScript's JavaScript API, which TypeScript 7 (the native compiler that `tsc` runs
// here) does not ship. package.json therefore installs TypeScript twice, the side-by-side layout the
// TypeScript 7 release documents: `typescript` is the 6.0 compatibility package (@typescript/typescript6,
// the API typescript-eslint loads), `@typescript/native` is TypeScript 7 and owns the `tsc` binary.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { architecture } from './scripts/lint/architecture.js';

const root = dirname(fileURLToPath(import.meta.url));

/** The arrows a reviewer would otherwise have to remember (README "Layout"). Folders are repo-relative. */
export const boundaries = {
  root,
  zones: [
    {
      from: 'src/pipeline',
      target: ['src/server', 'src/surfaces'],
      message: 'the pipeline stages know events and bytes, not HTTP or any client surface',
    },
    {
      from: 'src/providers',
      target: ['src/upstream', 'src/server', 'src/surfaces'],
      message: 'a provider family maps bodies and events; it never calls Bedrock or answers a client',
    },
    {
      from: 'src/emulator',
      target: ['src/providers', 'src/pipeline'],
      message: 'the emulator is an independent implementation of Bedrock and shares no mapping or framing code',
    },
    {
      from: 'src',
      except: ['src/emulator'],
      target: 'src/emulator',
      message: 'the product never imports the emulator (it is a test double, not shipped)',
    },
  ],
  separate: [{ folder: 'src/surfaces', message: 'one client surface never imports another; share through src/' }],
};

export default tseslint.config(
  { ignores: ['dist/', 'bench/.build/', 'bench/.ab/', 'bench/results/', '.scratch/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: root },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // tsc's noUnusedLocals/noUnusedParameters report the same; `_name` marks a binding kept on purpose
      // (a destructured key taken out of a rest, a parameter an interface requires).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // A guardrail check answers synchronously when it can (a regex) and with a promise when it must (a
      // remote check); Promise.all over that mix is the design, not a missed await.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // An async function that does not await is still right where an interface asks for a promise (a
      // credentials provider, a hash's digest): it turns a throw into a rejection. Not a defect.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests, scripts and the bench read JSON they assert on or print: the assertion is the type check, and
    // typing every parsed body would add casts, not safety. The product (src/) keeps these rules.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { local: { rules: { architecture } } },
    rules: { 'local/architecture': ['error', boundaries] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
