/**
 * The agent-client harness behind `npm run test:agents`: the real sidecar process (as `npm start -- --config
 * FILE` runs it) in front of the in-process Bedrock emulator, both on 127.0.0.1 port 0, and a runner for the
 * real agent CLIs installed in test/agents/node_modules (Claude Code, Codex).
 *
 * Every client run gets a fresh temporary HOME (and CODEX_HOME), an environment built from nothing but PATH
 * and what the test names, every HTTP(S) proxy variable pointed at a closed loopback port (so any traffic a
 * client sends anywhere but 127.0.0.1 fails at once instead of leaving the machine), its own time bound, and
 * is killed by its own process group id (the CLI and whatever it spawned) when the bound passes or the run
 * ends. Output is kept up to MAX_OUTPUT_BYTES per stream.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, beforeEach } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Emulator, EmulatorOptions, ScriptedReply } from '../../src/emulator/index.ts';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { startTestEmulator } from '../helpers/emulator.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = new URL('./node_modules/.bin/', import.meta.url).pathname;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** A port nothing listens on (TCP "discard"): proxy variables point here so no request leaves the machine. */
const DEAD_PROXY = 'http://127.0.0.1:9';

export interface Stack {
  emu: Emulator;
  /** The sidecar's proxy listener, e.g. `http://127.0.0.1:41234`. */
  proxy: string;
  /** Every JSON log line the sidecar wrote so far. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Starts the emulator, writes `config` (sidecar.yaml as an object; listener ports forced to 0) to a temporary
 * file and starts the sidecar process on it. Resolves once the sidecar logged its listening line.
 */
export async function startStack(config: Record<string, unknown>, emulator: EmulatorOptions = {}): Promise<Stack> {
  const emu = await startTestEmulator(emulator);
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-agents-'));
  const file = join(dir, 'sidecar.yaml');
  const server = { ...(config.server as object | undefined), host: '127.0.0.1', port: 0, admin_host: '127.0.0.1', admin_port: 0 };
  writeFileSync(file, stringify({ ...config, server }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', file], {
    cwd: ROOT,
    // The emulator's default SigV4 key: the sidecar signs with it and the emulator checks the signatures.
    env: {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const proxy = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (data: Buffer) => {
        buffered += data.toString('utf8');
        let nl;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          let entry: Record<string, unknown>;
          try {
            entry = JSON.parse(line) as Record<string, unknown>;
          } catch {
            entry = { msg: line };
          }
          logs.push(entry);
          if (entry.msg === 'bedrock-sidecar listening' && typeof entry.proxy === 'string') resolve(entry.proxy);
        }
      });
      child.stderr.on('data', (data: Buffer) => {
        stderr = (stderr + data.toString('utf8')).slice(-MAX_OUTPUT_BYTES);
      });
      child.once('exit', (code, signal) => reject(new Error(`the sidecar exited (${code ?? signal}) before listening: ${stderr}`)));
      setTimeout(() => reject(new Error(`the sidecar did not listen within 30 s: ${stderr}`)), 30_000).unref();
    });
    return { emu, proxy, logs, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface ClientRun {
  /** Exit code, or null when the process ended by a signal (the time bound included). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ClientOptions {
  /**
   * The executable's name in test/agents/node_modules/.bin (`claude`, `codex`), or `node` for a script in
   * test/agents run by this Node (an SDK that embeds an agent: `args` starts with the script's name).
   */
  bin: string;
  args: string[];
  /** Added to the clean environment (PATH, HOME, proxies, TMPDIR). */
  env?: Record<string, string>;
  /** Called with the run's fresh HOME before the start: writes files there, returns more environment. */
  prepareHome?: (home: string) => Record<string, string>;
  /** Working directory; a fresh temporary one, removed after the run, when absent. */
  cwd?: string;
  timeoutMs: number;
}

/** A fresh temporary directory under the OS temp dir, removed by `removeTemp` (or left for the OS). */
export function makeTemp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sidecar-agents-${prefix}-`));
}

export function removeTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs one agent CLI to completion, or kills it (and every process it started: it leads its own process
 * group) when `timeoutMs` passes. A fresh HOME (and, without `cwd`, working directory) is created for the
 * run and removed after it.
 */
export async function runClient(options: ClientOptions): Promise<ClientRun> {
  const home = makeTemp('home');
  const tmp = join(home, 'tmp');
  mkdirSync(tmp);
  const cwd = options.cwd ?? join(home, 'work');
  if (options.cwd === undefined) mkdirSync(cwd);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    ALL_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY,
    https_proxy: DEAD_PROXY,
    all_proxy: DEAD_PROXY,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...options.env,
    ...options.prepareHome?.(home),
  };
  const started = Date.now();
  const command = options.bin === 'node' ? process.execPath : join(BIN, options.bin);
  const child: ChildProcess = spawn(command, options.args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => {
    if (stdout.length < MAX_OUTPUT_BYTES) stdout += data.toString('utf8');
  });
  child.stderr!.on('data', (data: Buffer) => {
    if (stderr.length < MAX_OUTPUT_BYTES) stderr += data.toString('utf8');
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, options.timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    return { code, stdout, stderr, timedOut, durationMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    killGroup(); // anything the CLI left running in its group
    removeTemp(home);
  }
}

/** The JSON lines of a client's stdout (non-JSON lines skipped). */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line that only looks like JSON
    }
  }
  return out;
}

/**
 * A run described for an assertion message: exit, time, the ends of both streams and, with a stack, the
 * sidecar's last log lines (its one line per request says what it answered and why).
 */
export function describeRun(run: ClientRun, stack?: Stack): string {
  const tail = (s: string): string => (s.length > 3000 ? `…${s.slice(-3000)}` : s);
  const logs = stack
    ? `\n--- sidecar log (last lines)\n${stack.logs
        .slice(-6)
        .map((l) => JSON.stringify(l))
        .join('\n')}`
    : '';
  return `exit ${run.code}${run.timedOut ? ' (killed at the time bound)' : ''} after ${run.durationMs} ms\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}${logs}`;
}

/** The output guardrail every agent test blocks with: a reply that names a kumquat. */
export const NO_KUMQUATS = { name: 'no-kumquats', type: 'regex', patterns: ['(?i)kumquat'], action: 'block', stages: ['output'] };

/** What the tool turns carry back to the model: a file's content, a command's output. */
export const SECRET = 'fig-3306';

const MODEL_OPERATIONS: ReadonlySet<string> = new Set(['InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream']);

/** A model call as the emulator received it. */
export interface ModelCall {
  operation: string;
  modelId: string | undefined;
  signature: string;
  json: Record<string, unknown>;
}

export interface AgentSuite {
  /** The running stack (once the file's `before` ran). */
  readonly stack: Stack;
  /** The working directory the file's CLI runs share. */
  readonly cwd: string;
  /** The model calls the emulator received in this test (guardrail checks and preconnects left out). */
  readonly modelCalls: () => ModelCall[];
}

/**
 * One agent test file's setup: the stack on `config` started before its tests, with a working directory
 * named after `name`; the emulator's script and records reset before each test; both removed after.
 */
export function agentSuite(name: string, config: Record<string, unknown>): AgentSuite {
  let stack: Stack | undefined;
  let cwd: string | undefined;
  before(async () => {
    stack = await startStack(config);
    cwd = makeTemp(name);
  });
  after(async () => {
    await stack?.close();
    if (cwd) removeTemp(cwd);
  });
  beforeEach(() => stack?.emu.reset());
  const started = (): Stack => {
    if (!stack) throw new Error('the agent stack is not running (used outside a test?)');
    return stack;
  };
  return {
    get stack() {
      return started();
    },
    get cwd() {
      if (!cwd) throw new Error('no working directory yet (used outside a test?)');
      return cwd;
    },
    modelCalls: () =>
      started()
        .emu.requests.filter((r) => MODEL_OPERATIONS.has(r.operation))
        .map((r) => ({ operation: r.operation, modelId: r.modelId, signature: r.signature, json: r.json as Record<string, unknown> })),
  };
}

/**
 * The Read tool turn the Claude Code family of clients is tested with: the secret in a file under `cwd`, the
 * model's call of Read on it (`id`) and then its answer, the prompt that asks for it.
 */
export interface ReadTurn {
  file: string;
  prompt: string;
  /** The emulator's script for the turn: Read on `file`, then `READ_ANSWER`. */
  script: [ScriptedReply, ScriptedReply];
}

/** What the model answers once it has the file. */
export const READ_ANSWER = 'The file holds the secret.';

export function readTurn(cwd: string, id: string): ReadTurn {
  const file = join(cwd, 'secret.txt');
  writeFileSync(file, `${SECRET}\n`);
  return {
    file,
    prompt: `Use the Read tool to read the file ${file} and reply with its contents.`,
    script: [
      { type: 'tool_use', calls: [{ id, name: 'Read', input: { file_path: file } }] },
      { type: 'text', text: READ_ANSWER },
    ],
  };
}

/**
 * Asserts a Converse body carries the model's call `id` to the tool `name` (a `toolUse`) and the client's
 * `toolResult` for it holding the secret (the file's text, the command's output).
 */
export function assertConverseToolResult(body: Record<string, unknown>, id: string, name: string): void {
  const blocks = (body.messages as Array<{ content: Array<Record<string, unknown>> }>).flatMap((m) => m.content);
  const sent = JSON.stringify(body.messages);
  const toolUse = blocks.find((b) => b.toolUse)?.toolUse as { toolUseId: string; name: string } | undefined;
  assert.deepEqual([toolUse?.toolUseId, toolUse?.name], [id, name], sent.slice(-2000));
  const toolResult = blocks.find((b) => b.toolResult)?.toolResult as { toolUseId: string; content: unknown } | undefined;
  assert.equal(toolResult?.toolUseId, id, sent.slice(-2000));
  assert.ok(JSON.stringify(toolResult.content).includes(SECRET), sent.slice(-2000));
}

/** Asserts a Converse body offers the client's tool `name` in its `toolConfig`. */
export function assertConverseOffers(body: Record<string, unknown>, name: string): void {
  const tools = (body as { toolConfig?: { tools: Array<{ toolSpec?: { name: string } }> } }).toolConfig?.tools ?? [];
  assert.ok(
    tools.some((t) => t.toolSpec?.name === name),
    JSON.stringify(body).slice(0, 2000),
  );
}

/** Asserts a Messages body carries the model's Read call `id` and the client's `tool_result` with the file's text. */
export function assertReadResult(body: Record<string, unknown>, id: string): void {
  const sent = JSON.stringify(body.messages);
  assert.match(sent, new RegExp(`"type":"tool_use","id":"${id}","name":"Read"`));
  const toolResult = (body.messages as Array<{ content: unknown }>)
    .flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : []))
    .find((block) => block.type === 'tool_result');
  assert.equal(toolResult?.tool_use_id, id, sent.slice(-2000));
  assert.ok(JSON.stringify(toolResult.content).includes(SECRET));
}
