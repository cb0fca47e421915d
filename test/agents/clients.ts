/**
 * How each agent CLI is pointed at the sidecar, headless and quiet: the environment and flags a user of the
 * sidecar would set (README "Claude Code and Anthropic SDKs", "Codex, Agents SDK, AI SDK"), plus the switches
 * that turn the clients' non-essential traffic off. Each function runs one prompt to its end through
 * `runClient` (temporary HOME, loopback only, killed at its time bound).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runClient, type ClientRun } from './harness.ts';

/** One CLI run's bound: a turn here takes a few seconds; a client retrying a failure would take minutes. */
export const CLIENT_TIMEOUT_MS = 60_000;
/** node:test bound for a test that makes one client run. */
export const TEST_TIMEOUT_MS = CLIENT_TIMEOUT_MS + 15_000;

/** Claude Code's switches for telemetry, error reporting, the auto-updater and other non-essential calls. */
const CLAUDE_QUIET = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_ERROR_REPORTING: '1',
};

export interface ClaudeCodeOptions {
  /** The sidecar's proxy URL (no `/v1`: Claude Code adds it). */
  baseUrl: string;
  prompt: string;
  cwd: string;
  /** `ANTHROPIC_MODEL`; Claude Code's own default model when absent. */
  model?: string;
}

/** First-party mode's environment: the sidecar as `ANTHROPIC_BASE_URL` (Claude Code, the Agent SDK's own CLI). */
function firstPartyEnv(options: ClaudeCodeOptions): Record<string, string> {
  return {
    ...CLAUDE_QUIET,
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-agent-tests',
    ...(options.model ? { ANTHROPIC_MODEL: options.model } : {}),
  };
}

/** `claude -p PROMPT --output-format json` in first-party mode: `ANTHROPIC_BASE_URL` → the sidecar's `/v1/messages`. */
export function claudeCode(options: ClaudeCodeOptions): Promise<ClientRun> {
  return runClient({
    bin: 'claude',
    args: ['-p', options.prompt, '--output-format', 'json'],
    env: firstPartyEnv(options),
    cwd: options.cwd,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}

/**
 * Claude Code's Bedrock mode: `ANTHROPIC_BEDROCK_BASE_URL` → the sidecar's native `/model/{id}/…` routes, no
 * AWS credentials on the client (`CLAUDE_CODE_SKIP_BEDROCK_AUTH`): the sidecar signs.
 */
export function claudeCodeBedrock(options: ClaudeCodeOptions): Promise<ClientRun> {
  return runClient({
    bin: 'claude',
    args: ['-p', options.prompt, '--output-format', 'json'],
    env: {
      ...CLAUDE_QUIET,
      CLAUDE_CODE_USE_BEDROCK: '1',
      ANTHROPIC_BEDROCK_BASE_URL: options.baseUrl,
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      AWS_REGION: 'us-east-1',
      ...(options.model ? { ANTHROPIC_MODEL: options.model } : {}),
    },
    cwd: options.cwd,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}

/**
 * The Claude Agent SDK embedded in an app (agent-sdk-run.mjs: `query()` with the prompt), pointed at the
 * sidecar as its README says: `ANTHROPIC_BASE_URL` and a key in the environment the SDK hands its bundled
 * Claude Code. Its stdout is the SDK's messages, one JSON line each; the last is the `result`.
 */
export function claudeAgentSdk(options: ClaudeCodeOptions): Promise<ClientRun> {
  return runClient({
    bin: 'node',
    args: [new URL('./agent-sdk-run.mjs', import.meta.url).pathname, options.prompt],
    env: firstPartyEnv(options),
    cwd: options.cwd,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}

/** The result object `claude -p --output-format json` prints last (`is_error`, not `subtype`, tells failure). */
export interface ClaudeResult {
  type: 'result';
  is_error: boolean;
  result: string;
  num_turns?: number;
}

export function claudeResult(run: ClientRun): ClaudeResult | undefined {
  const line = run.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(line) as ClaudeResult;
    return parsed.type === 'result' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface CodexOptions {
  /** The sidecar's proxy URL (no `/v1`; the provider's `base_url` gets it). */
  baseUrl: string;
  prompt: string;
  cwd: string;
  /** The model Codex asks for: an alias in the sidecar's config. */
  model: string;
  /**
   * `openai`: Codex's built-in OpenAI provider pointed at the sidecar (`openai_base_url`, the key in
   * `OPENAI_API_KEY`); `named-openai`: the custom provider with `name = "OpenAI"`. Codex compacts remotely with
   * either (README "Codex"); default: the custom provider named "sidecar", which Codex compacts locally.
   */
  provider?: 'custom' | 'named-openai' | 'openai';
  /** `model_auto_compact_token_limit`: Codex compacts once a turn's tokens pass it. */
  autoCompactTokenLimit?: number;
}

/**
 * `codex exec --json PROMPT` with a temporary CODEX_HOME whose config.toml defines the sidecar as a provider
 * with `wire_api = "responses"` (Codex speaks only Responses to custom providers), or points the built-in
 * OpenAI provider at it (`provider: "openai"`), and turns Codex's hosted web search off.
 */
export function codex(options: CodexOptions): Promise<ClientRun> {
  const base = JSON.stringify(`${options.baseUrl}/v1`);
  const provider =
    options.provider === 'openai'
      ? [`openai_base_url = ${base}`]
      : [
          'model_provider = "sidecar"',
          '[model_providers.sidecar]',
          `name = ${options.provider === 'named-openai' ? '"OpenAI"' : '"sidecar"'}`,
          `base_url = ${base}`,
          'env_key = "SIDECAR_API_KEY"',
          'wire_api = "responses"',
        ];
  return runClient({
    bin: 'codex',
    args: ['exec', '--skip-git-repo-check', '--json', options.prompt],
    env: options.provider === 'openai' ? { OPENAI_API_KEY: 'sk-agent-tests' } : { SIDECAR_API_KEY: 'sk-agent-tests' },
    prepareHome: (home) => {
      const codexHome = join(home, '.codex');
      mkdirSync(codexHome);
      writeFileSync(
        join(codexHome, 'config.toml'),
        [
          `model = ${JSON.stringify(options.model)}`,
          // Codex offers its hosted web_search tool by default; Bedrock cannot run it and the sidecar answers
          // a 400 naming it (docs/contract.md#openai-responses), so a Codex user turns it off.
          'web_search = "disabled"',
          ...(options.autoCompactTokenLimit !== undefined ? [`model_auto_compact_token_limit = ${options.autoCompactTokenLimit}`] : []),
          // Tables last: a key after a table header would belong to the table.
          ...provider,
          '',
        ].join('\n'),
      );
      return { CODEX_HOME: codexHome };
    },
    cwd: options.cwd,
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}
