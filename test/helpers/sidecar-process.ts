/**
 * The sidecar as its own process, as `npm start` runs it (`node --import tsx src/main.ts`), for tests
 * that need the real thing: signals, file descriptors, a frozen event loop, the process's own listeners.
 * Its stdout is parsed line by line into `lines`; it announces its addresses on the `listening` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_CREDENTIALS } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface Sidecar {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string;
  proxy: string;
  admin: string;
  exit: Promise<number | null>;
  ready: Promise<void>;
}

/** The usual test config: both listeners on loopback port 0, one Claude alias, then `extra` (more models). */
export function configText(extra = ''): string {
  return `server: {port: 0, admin_port: 0, admin_host: 127.0.0.1, drain_timeout_s: 3}
logging: {level: info}
models:
  - name: claude-invoke
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
${extra}`;
}

/** Writes `text` as sidecar.yaml in a fresh temporary directory; returns its path. */
export function writeConfigFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sidecar-process-')), 'sidecar.yaml');
  writeFileSync(file, text);
  return file;
}

/**
 * Spawns the sidecar; `env` adds to (or, with a value of '', removes from) a minimal environment.
 * `openFiles` runs it under that file descriptor limit (`ulimit -n`).
 */
export function spawnSidecar(args: string[], env: Record<string, string>, options: { openFiles?: number } = {}): Sidecar {
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const merged = { ...base, ...env };
  for (const [key, value] of Object.entries(merged)) if (value === '') delete merged[key];
  const argv = ['--import', 'tsx', 'src/main.ts', ...args];
  const child =
    options.openFiles === undefined
      ? spawn(process.execPath, argv, { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...argv], {
          cwd: ROOT,
          env: merged,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const sidecar = { child, lines: [], stderr: '', proxy: '', admin: '' } as unknown as Sidecar;
  sidecar.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let buffered = '';
  sidecar.ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        sidecar.lines.push(line);
        if (line.msg === 'bedrock-sidecar listening') {
          sidecar.proxy = line.proxy as string;
          sidecar.admin = line.admin as string;
          resolve();
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      sidecar.stderr += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${sidecar.stderr}`)));
  });
  sidecar.ready.catch(() => undefined);
  return sidecar;
}

/** Ends a spawned sidecar (SIGKILL: the test is over) and waits for it. */
export async function killSidecar(s: Sidecar): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await s.exit;
}

/**
 * Polls `check` until it holds; fails after `ms`. The default is long (30 s) because it costs nothing when
 * the state comes: under heavy load the credentials-hang test's recovery (SDK timeouts on hung attempts,
 * then a fresh resolution) took more than the former 10 s.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The exit code, or a failure naming what the process was doing if it has not exited within `ms`. */
export async function exitWithin(s: Sidecar, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      s.child.kill('SIGKILL');
      reject(new Error(`the sidecar did not exit within ${ms} ms of SIGTERM (stderr: ${s.stderr})`));
    }, ms);
  });
  try {
    return await Promise.race([s.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
