/**
 * The image's run stage, reproduced without Docker: the compiled JavaScript (tsconfig.build.json) with
 * only the production dependencies (no tsx, no TypeScript) starts under plain `node dist/main.js`, serves
 * the probes, streams a completion from the emulator, and exits 0 on SIGTERM.
 */
import { test, before, after } from 'node:test';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { chat, parseStream } from '../helpers/harness.ts';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.ts';
import { buildProdTree, type ProdTree } from './prod-tree.ts';
import { startTestEmulator } from '../helpers/emulator.ts';

let tree: ProdTree;
let emu: Emulator;

before(async () => {
  [tree, emu] = await Promise.all([buildProdTree(), startTestEmulator()]);
});

after(async () => {
  await emu?.close();
  tree?.remove();
});

/** Only what a container would have: no inherited AWS settings, no ~/.aws, never IMDS. */
function containerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tree.dir,
    NODE_ENV: 'production',
    AWS_CONFIG_FILE: join(tree.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tree.dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

interface Started {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  raw: string[];
  proxy: string;
  admin: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startCompiled(configText: string, env: Record<string, string>): Promise<Started> {
  const config = join(tree.dir, 'sidecar.yaml');
  writeFileSync(config, configText);
  const child = spawn(process.execPath, ['--enable-source-maps', tree.main, '--config', config], {
    cwd: tree.dir,
    env: containerEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let buffered = '';
  const listening = new Promise<{ proxy: string; admin: string }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        raw.push(line);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === 'bedrock-sidecar listening') resolve({ proxy: String(parsed.proxy), admin: String(parsed.admin) });
      }
    });
    void exited.then(({ code }) => reject(new Error(`node dist/main.js exited ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`no "listening" line within 15 s; stderr: ${stderr}`)), 15_000).unref();
  });
  const { proxy, admin } = await listening;
  return { child, lines, raw, proxy, admin: admin.replace('0.0.0.0', '127.0.0.1'), exited };
}

async function waitFor(url: string, status: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      last = res.status;
      if (last === status) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last ${last})`);
}

const CONFIG = `
server:
  port: 0
  admin_port: 0
  drain_timeout_s: 5
models:
  - name: claude
    model: bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0
    region: us-east-1
`;

test('compiled output: dist/ holds JavaScript only, with every relative import rewritten to .js', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(tree.dir, 'dist'));
  assert.ok(files.some((f) => f.endsWith(join('dist', 'main.js'))));
  assert.deepEqual(
    files.filter((f) => !f.endsWith('.js') && !f.endsWith('.js.map')),
    [],
  );
  assert.ok(!existsSync(join(tree.dir, 'dist', 'emulator')), 'the emulator is not part of the product build');
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /from\s+['"]\.{1,2}\/[^'"]*\.ts['"]/, `${file} still imports a .ts file`);
  }
});

test('compiled output: the production tree has neither tsx, esbuild nor typescript', () => {
  const names = [...tree.packages].map((key) => key.split('node_modules/').pop());
  for (const banned of ['tsx', 'esbuild', 'typescript', '@types/node']) {
    assert.ok(!names.includes(banned), `${banned} is in the production closure`);
    assert.ok(!existsSync(join(tree.dir, 'node_modules', banned)), `${banned} was copied`);
  }
  for (const needed of ['pino', 'prom-client', 'undici', 'yaml', '@aws-sdk/credential-provider-node']) {
    assert.ok(names.includes(needed), `${needed} is missing from the production closure`);
  }
});

test('compiled output: node dist/main.js serves probes, streams a completion, and exits 0 on SIGTERM', async () => {
  const s = await startCompiled(CONFIG, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
  });
  try {
    await waitFor(`${s.admin}/healthz`, 200);
    await waitFor(`${s.admin}/readyz`, 200);
    emu.script({ type: 'text', text: 'Hello from the compiled sidecar.' });
    const res = await chat(s.proxy, { model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const streamed = parseStream(await res.text());
    assert.equal(streamed.doneCount, 1);
    assert.equal(streamed.frames.at(-1), '[DONE]');
    assert.equal(streamed.text, 'Hello from the compiled sidecar.');
    assert.equal(emu.requests.at(-1)?.signature, 'valid');

    const metrics = await fetch(`${s.admin}/metrics`);
    assert.match(await metrics.text(), /^sidecar_requests_total\{model="claude",route="invoke",status="200",surface="chat"\} 1$/m);
  } finally {
    s.child.kill('SIGTERM');
  }
  const { code, signal } = await s.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  // Every stdout line was JSON (startCompiled parsed each) and the shutdown was logged.
  assert.ok(s.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  assert.ok(s.lines.some((l) => l.msg === 'request completed' && l.alias === 'claude' && l.status === 200));
});

test('compiled output: an invalid config stops node dist/main.js with exit 1 and a message naming the key and line', async () => {
  const config = join(tree.dir, 'bad.yaml');
  writeFileSync(config, 'server:\n  port: 0\n  drain_timeout: 5\nmodels: []\n');
  const child = spawn(process.execPath, [tree.main, '--config', config], {
    cwd: tree.dir,
    env: containerEnv({}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 1);
  const expected = /bad\.yaml:3: server\.drain_timeout: unknown key \(did you mean "drain_timeout_s"\?\)/;
  // One JSON line for log collectors (every stdout line is JSON), the message for people on stderr.
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: string; msg: string });
  assert.equal(lines.at(-1)!.level, 'fatal');
  assert.match(lines.at(-1)!.msg, expected);
  assert.match(stderr, expected);
});
