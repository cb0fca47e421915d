/**
 * The real process, as `npm start` runs it: config errors at start, SIGTERM drain and exit code,
 * reload on SIGHUP and on a file change (an invalid new file keeps the old config serving).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../src/emulator/index.ts';
import { chat, parseStream } from '../helpers/harness.ts';
import { configText, exitWithin, spawnSidecar, waitFor } from '../helpers/sidecar-process.ts';
import { gate, startTestEmulator } from '../helpers/emulator.ts';

/** The test config written to `dir/sidecar.yaml`; returns its path. */
function writeConfig(dir: string): string {
  const file = join(dir, 'sidecar.yaml');
  writeFileSync(file, configText());
  return file;
}

async function withEmulator(run: (emu: Emulator, dir: string) => Promise<void>): Promise<void> {
  const emu = await startTestEmulator();
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-process-'));
  try {
    await run(emu, dir);
  } finally {
    await emu.close();
  }
}

const post = (base: string, body: Record<string, unknown>): Promise<Response> => chat(base, body);

test('process: an invalid config stops the process with a message naming the key and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-bad-'));
  const file = join(dir, 'sidecar.yaml');
  writeFileSync(file, 'server:\n  port: 4000\nstreaming:\n  stream_chunk_sise: 10\n');
  const s = spawnSidecar(['--config', file], {});
  s.ready.catch(() => undefined);
  assert.equal(await s.exit, 1);
  assert.match(s.stderr, /sidecar\.yaml:4: streaming\.stream_chunk_sise: unknown key \(did you mean "stream_chunk_size"\?\)/);
});

test('process: SIDECAR_CONFIG names the file; SIGTERM drains a stream in flight and exits 0', () =>
  withEmulator(async (emu, dir) => {
    const file = writeConfig(dir);
    // A drain deadline far beyond what seeing readyz turn 503 may take on a loaded machine.
    writeFileSync(file, configText().replace('drain_timeout_s: 3', 'drain_timeout_s: 20'));
    const s = spawnSidecar([], { SIDECAR_CONFIG: file, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
    await s.ready;
    await waitFor(async () => (await fetch(`${s.admin}/readyz`)).status === 200);
    // The stream pauses until readyz was seen saying 503: once it ends the drain is over and the process
    // gone, and a paced stream could end first on a loaded machine.
    const held = gate();
    emu.script({ type: 'text', text: 'a reply that outlives the signal', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
    const inflight = post(s.proxy, { model: 'claude-invoke', stream: true, messages: [{ role: 'user', content: 'hi' }] }).then((r) =>
      r.text(),
    );
    await waitFor(() => emu.requests.length > 0);
    s.child.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${s.admin}/readyz`).catch(() => ({ status: 0 }))).status === 503).finally(held.open);
    const parsed = parseStream(await inflight);
    assert.equal(parsed.text, 'a reply that outlives the signal');
    assert.equal(parsed.finish, 'stop');
    assert.equal(await s.exit, 0);
    assert.ok(s.lines.some((l) => l.msg === 'draining'));
  }));

test('process: SIGHUP and a file change reload the config; an invalid file keeps the old one', () =>
  withEmulator(async (emu, dir) => {
    const file = writeConfig(dir);
    const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
    try {
      await s.ready;
      const ask = (model: string) => post(s.proxy, { model, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal((await ask('second')).status, 404);

      // Held until the reload is seen to apply, so the stream certainly runs across it.
      const held = gate();
      emu.script({ type: 'text', text: 'still streaming across the reload', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
      const inflight = post(s.proxy, { model: 'claude-invoke', stream: true, messages: [{ role: 'user', content: 'hi' }] }).then((r) =>
        r.text(),
      );
      await waitFor(() => emu.requests.length > 0);
      writeFileSync(
        file,
        configText(`  - name: second
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
`),
      );
      s.child.kill('SIGHUP');
      await waitFor(async () => (await ask('second')).status === 200).finally(held.open);
      assert.equal(parseStream(await inflight).text, 'still streaming across the reload');

      writeFileSync(file, 'models: [oops\n');
      s.child.kill('SIGHUP');
      await waitFor(() => s.lines.some((l) => l.msg === 'config reload rejected; the previous config keeps serving'));
      assert.equal((await ask('second')).status, 200);

      // A file change alone (no signal) is picked up too.
      writeFileSync(
        file,
        configText(`  - name: third
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
`),
      );
      await waitFor(async () => (await ask('third')).status === 200);
      assert.equal((await ask('second')).status, 404);
    } finally {
      s.child.kill('SIGTERM');
      await s.exit;
    }
  }));

// Logs to a broken pipe (`npm start | head -2`, a collector that died): pino's default asynchronous
// destination used to leave the process looping on write(1) → EPIPE inside process.exit (see
// logDestination in src/ops/logger.ts). Logging must drop lines while the proxy keeps serving, and
// SIGTERM must still exit 0 promptly.
test('process: with its log reader gone, the sidecar keeps serving and SIGTERM still exits 0 promptly', () =>
  withEmulator(async (emu, dir) => {
    const file = writeConfig(dir);
    const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
    try {
      await s.ready;
      s.child.stdout!.destroy(); // the reader exits: every later write to the child's fd 1 fails with EPIPE
      for (let i = 0; i < 5; i++) {
        emu.script({ type: 'text', text: `reply ${i}` });
        const response = await post(s.proxy, { model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(response.status, 200);
        assert.equal(
          ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
          `reply ${i}`,
        );
        assert.equal((await post(s.proxy, { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).status, 404);
      }
      assert.equal((await fetch(`${s.admin}/healthz`)).status, 200);
      s.child.kill('SIGTERM');
      assert.equal(await exitWithin(s, 5_000), 0);
      assert.match(s.stderr, /writing logs to fd 1 failed \(EPIPE\)/);
    } finally {
      s.child.kill('SIGKILL');
    }
  }));

test('process: a log reader that exits while the sidecar shuts down (`| head -N`) does not stop it exiting 0', () =>
  withEmulator(async (emu, dir) => {
    const file = writeConfig(dir);
    // The reader goes as the shutdown starts, so that the first write to meet EPIPE is a shutdown line,
    // still in flight when the drain ends in process.exit (the case that used to hang every time).
    for (let round = 0; round < 3; round++) {
      const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
      try {
        await s.ready;
        s.child.stdout!.destroy();
        s.child.kill('SIGTERM');
        assert.equal(await exitWithin(s, 5_000), 0);
      } finally {
        s.child.kill('SIGKILL');
      }
    }
  }));

test('process: a log reader that stops reading (a full pipe) holds or drops lines; the proxy keeps serving and SIGTERM exits 0', () =>
  withEmulator(async (emu, dir) => {
    const file = join(dir, 'sidecar.yaml');
    // logging.content at debug puts each request body in a line: 40 requests of 40 kB are far more than a
    // pipe holds (64 kB) and than the destination keeps waiting (MAX_PENDING_LOG_BYTES).
    writeFileSync(file, configText().replace('logging: {level: info}', 'logging: {level: debug, content: true}'));
    const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
    try {
      await s.ready;
      s.child.stdout!.pause(); // alive, but no longer reading
      const body = JSON.stringify({ model: 'claude-invoke', messages: [{ role: 'user', content: 'x'.repeat(40_000) }] });
      for (let i = 0; i < 40; i++) {
        emu.script({ type: 'text', text: `reply ${i}` });
        const response = await fetch(`${s.proxy}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(20_000), // a hang fails the test; a loaded machine is not a hang
        });
        assert.equal(response.status, 200);
        assert.equal(
          ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
          `reply ${i}`,
        );
      }
      // Reading again: what was held comes out as whole JSON lines (spawnSidecar parses each), and so do new lines.
      s.child.stdout!.resume();
      let n = 0;
      await waitFor(async () => {
        emu.script({ type: 'text', text: 'after' });
        const id = `after-stall-${n++}`;
        await (await chat(s.proxy, { model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': id })).text();
        return s.lines.some((l) => String(l.requestId).startsWith('after-stall-'));
      });
      s.child.kill('SIGTERM');
      assert.equal(await exitWithin(s, 5_000), 0);
      assert.match(s.stderr, /writing logs to fd 1 failed \(EAGAIN\)/);
    } finally {
      s.child.kill('SIGKILL');
    }
  }));
