/**
 * `npm run soak` (not part of `npm test`): a few thousand mixed requests — normal, faulty, cancelled,
 * malformed — at concurrency 200 against the emulator, through the sidecar running as its own process
 * (`node --import tsx src/main.ts`, as `npm start` runs it). Then it checks: the process never crashed,
 * every stream ended with a finish chunk or an error frame and exactly one `[DONE]`, RSS came back near
 * its start, and no file descriptors are left open beyond the upstream pool. Prints a summary table;
 * exits 1 if a check fails. Faults are triggered with the emulator's prompt markers, so concurrent
 * requests each get their own. Loopback only; bounded in count and time.
 *
 *   SOAK_REQUESTS (default 3000), SOAK_CONCURRENCY (default 200)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../src/emulator/index.ts';

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 200);
const DEADLINE_MS = 5 * 60_000;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

type Kind = 'stream' | 'nonstream' | 'in-stream-fault' | 'pre-stream-error' | 'cancel-mid' | 'cancel-early' | 'malformed' | 'idle-timeout';
const MIX: Array<[Kind, number]> = [
  ['stream', 45], ['nonstream', 10], ['in-stream-fault', 12], ['pre-stream-error', 6],
  ['cancel-mid', 8], ['cancel-early', 4], ['malformed', 10], ['idle-timeout', 5],
];
const FAULTS = ['exception-after:3:throttlingException', 'exception-after:2:modelStreamErrorException', 'reset-after:3', 'corrupt-crc-after:2', 'corrupt-prelude-after:2', 'truncate-after:4', 'end-after:3'];

interface Result { kind: Kind; ok: boolean; detail: string }

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function pick(i: number): Kind {
  let n = (i * 7919) % 100;
  for (const [kind, weight] of MIX) {
    if (n < weight) return kind;
    n -= weight;
  }
  return 'stream';
}

/** Checks one SSE body: a finish chunk or an error frame, then exactly one [DONE], last. */
function checkStream(text: string): string | undefined {
  if (!text.endsWith('data: [DONE]\n\n')) return 'does not end with [DONE]';
  const frames = text.slice(0, -2).split('\n\n').filter((f) => !f.startsWith(':'));
  if (frames.filter((f) => f === 'data: [DONE]').length !== 1) return 'more than one [DONE]';
  let finish = false;
  let error = false;
  for (const frame of frames.slice(0, -1)) {
    const json = JSON.parse(frame.slice(6)) as { error?: unknown; choices?: Array<{ finish_reason?: string | null }> };
    if (json.error) error = true;
    else if (json.choices?.[0]?.finish_reason) finish = true;
  }
  if (finish === error) return finish ? 'both a finish and an error' : 'neither a finish nor an error';
  return undefined;
}

async function one(base: string, i: number): Promise<Result> {
  const kind = pick(i);
  const url = `${base}/v1/chat/completions`;
  const body = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({
    model: 'claude-invoke', stream: true, stream_chunk_size: 1 + (i % 64), messages: [{ role: 'user', content }], ...extra,
  });
  const post = (payload: string, signal?: AbortSignal) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload, ...(signal ? { signal } : {}) });
  try {
    switch (kind) {
      case 'stream':
      case 'in-stream-fault':
      case 'idle-timeout': {
        const marker = kind === 'stream' ? '' : kind === 'idle-timeout' ? '[[emulator:hang-after:2]]' : `[[emulator:${FAULTS[i % FAULTS.length]}]]`;
        const res = await post(body(`request ${i} — ünïcödé ${marker}[[emulator:repeat:${1 + (i % 5)}]]`));
        if (res.status !== 200) return { kind, ok: false, detail: `status ${res.status}` };
        const problem = checkStream(await res.text());
        return { kind, ok: !problem, detail: problem ?? 'ok' };
      }
      case 'nonstream': {
        const res = await post(body(`plain ${i}`, { stream: false }));
        const json = await res.json() as { object?: string };
        return { kind, ok: res.status === 200 && json.object === 'chat.completion', detail: String(res.status) };
      }
      case 'pre-stream-error': {
        const marker = i % 2 ? '[[emulator:throttle]]' : '[[emulator:error:400:ValidationException]]';
        const res = await post(body(`error ${i} ${marker}`));
        const json = await res.json() as { error?: { type?: string } };
        return { kind, ok: (res.status === 429 || res.status === 400) && Boolean(json.error?.type), detail: String(res.status) };
      }
      case 'cancel-mid': {
        const controller = new AbortController();
        const res = await post(body(`cancel ${i} [[emulator:frame-delay:20]][[emulator:repeat:20]]`), controller.signal);
        const reader = res.body!.getReader();
        await reader.read();
        controller.abort();
        return { kind, ok: true, detail: 'cancelled' };
      }
      case 'cancel-early': {
        const controller = new AbortController();
        const pending = post(body(`early ${i} [[emulator:delay:300]]`), controller.signal).catch(() => undefined);
        setTimeout(() => controller.abort(), 20);
        await pending;
        return { kind, ok: true, detail: 'cancelled' };
      }
      case 'malformed': {
        const payloads = ['{not json', JSON.stringify({ model: 'nope', messages: [] }), body('x', { temperature: 'hot' }), body('x', { stream_chunk_size: 0 }), body('x', { model: 'bedrock/invoke/' })];
        const res = await post(payloads[i % payloads.length]!);
        const json = await res.json() as { error?: { type?: string } };
        return { kind, ok: res.status >= 400 && res.status < 500 && Boolean(json.error?.type), detail: String(res.status) };
      }
    }
  } catch (error) {
    return { kind, ok: false, detail: (error as Error).message };
  }
}

async function main(): Promise<void> {
  const emu = await startEmulator({ quiet: true, credentials: [credentials] });
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-soak-'));
  const file = join(dir, 'sidecar.yaml');
  writeFileSync(file, `server: {port: 0, admin_port: 0, admin_host: 127.0.0.1}
upstream: {idle_timeout_ms: 1000, connections: 64}
logging: {level: info}
models:
  - name: claude-invoke
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', file], {
    env: { PATH: process.env.PATH ?? '', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let crashed: number | null | undefined;
  child.on('exit', (code) => { crashed = code; });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    let found = false;
    child.stdout.on('data', (d: Buffer) => {
      if (found) return; // keep draining the pipe, so the child never blocks on its log
      out += d.toString();
      const m = /"proxy":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        found = true;
        resolve(m[1]!);
      }
    });
    child.on('exit', () => reject(new Error('the sidecar exited during start')));
  });
  const pid = child.pid!;

  for (let i = 0; i < 50; i++) await one(base, i * 100 % 7);
  const startRss = rssKiB(pid);
  const startFds = fds(pid);
  const started = Date.now();
  let peakRss = startRss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssKiB(pid)); }, 100);

  const results: Result[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < TOTAL && Date.now() - started < DEADLINE_MS) results.push(await one(base, next++));
  }));
  clearInterval(sampler);
  const elapsed = (Date.now() - started) / 1000;
  // V8 gives memory back to the OS only after its idle-time memory reducer has run: let the process sit
  // idle (up to 30 s) until RSS settles near where it started.
  let endRss = rssKiB(pid);
  for (let waited = 0; waited < 30_000 && (endRss - startRss) / 1024 > 64; waited += 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    endRss = rssKiB(pid);
  }
  const endFds = fds(pid);
  const alive = crashed === undefined;

  const rows = MIX.map(([kind]) => {
    const of = results.filter((r) => r.kind === kind);
    return { kind, requests: of.length, ok: of.filter((r) => r.ok).length, failed: of.filter((r) => !r.ok).length };
  });
  console.log(`\nsoak: ${results.length} requests at concurrency ${CONCURRENCY} in ${elapsed.toFixed(1)} s\n`);
  console.table(rows);
  const failures = results.filter((r) => !r.ok);
  for (const f of failures.slice(0, 10)) console.log(`  failed ${f.kind}: ${f.detail}`);
  const rssGrowthMiB = (endRss - startRss) / 1024;
  const checks = [
    ['process alive (no crash)', alive],
    ['every request answered as expected (streams: finish or error frame, one [DONE])', failures.length === 0],
    [`RSS back near start (start ${(startRss / 1024).toFixed(1)} MiB, peak ${(peakRss / 1024).toFixed(1)}, end ${(endRss / 1024).toFixed(1)}; growth ≤ 64 MiB)`, rssGrowthMiB <= 64],
    [`open fds back near start (start ${startFds}, end ${endFds}; ≤ start + 64 pool connections)`, endFds <= startFds + 64],
    ['ran every request within the deadline', results.length === TOTAL],
  ] as const;
  console.log('');
  for (const [name, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
  child.kill('SIGTERM');
  await emu.close();
  process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
