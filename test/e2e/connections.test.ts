/**
 * Connections that never send a byte, too many connections, and the fd limit, against the real process:
 * each listener has its own cap (the admin one small), silent connections are closed even when the
 * client never closes its side, and reaching a cap or the fd limit is logged and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { configText, killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { chat } from '../helpers/harness.ts';

/** A client that connects, sends nothing and never closes its side (`allowHalfOpen`). */
function silent(base: string): Promise<{ socket: Socket; ended: Promise<void> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), allowHalfOpen: true });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    const ended = new Promise<void>((r) => socket.on('end', () => r()));
    socket.once('connect', () => resolve({ socket, ended }));
    socket.once('error', reject);
  });
}

function settled(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
}

/** Open file descriptors of a process (sockets included). */
function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The connections a process holds open on a local port: its socket descriptors (/proc/PID/fd) that are
 * TCP connections from that port in /proc/PID/net/tcp{,6}, listeners aside. Unlike a count of every
 * descriptor against a baseline, nothing else the process opens or closes meanwhile (a file read at start,
 * an upstream connection) moves it.
 */
function connectionsOn(pid: number, base: string): number {
  const port = Number(new URL(base).port);
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed since the listing
    }
  }
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 table
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (!local || !inode || state === '0A' /* LISTEN */) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && inodes.has(inode)) n++;
    }
  }
  return n;
}

test('connections: silent connections are closed after headers_timeout_ms even if the client never closes; each listener has its own cap', async () => {
  const emu = await startTestEmulator();
  const file = writeConfigFile(
    configText().replace(
      'drain_timeout_s: 3}',
      // 6 s: everything up to the count below must happen within it, a loaded machine included.
      'drain_timeout_s: 3, headers_timeout_ms: 6000, max_connections: 12, admin_max_connections: 4}',
    ),
  );
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  const sockets: Socket[] = [];
  try {
    await s.ready;
    const pid = s.child.pid!;
    const baseline = fds(pid);
    assert.equal(connectionsOn(pid, s.admin) + connectionsOn(pid, s.proxy), 0, 'no connection before the test opens any');
    // The admin listener fills up: connections past its cap are closed at once.
    const admin = [];
    for (let i = 0; i < 6; i++) admin.push(await silent(s.admin));
    sockets.push(...admin.map((c) => c.socket));
    // Silent proxy connections too, opened at once (all within the header timeout, however loaded the
    // machine is afterwards). None of these clients ever closes its side.
    const proxy = [];
    for (let i = 0; i < 5; i++) proxy.push(await silent(s.proxy));
    sockets.push(...proxy.map((c) => c.socket));
    await Promise.all(admin.slice(4).map((c) => c.ended));
    for (const c of admin.slice(0, 4)) assert.equal(await settled(c.ended), false, 'the first four are held');
    // The client sees 'connect' once the kernel has queued the connection; the process may accept it a
    // moment later (under load, after this line), so wait — well inside the header timeout — for all nine:
    // the four the admin cap holds and the five on the proxy, each a descriptor of the process. (Counting
    // every descriptor against a baseline taken at start failed on a loaded machine: descriptors the
    // process still had open then were gone by now.)
    const held = (): string => `admin ${connectionsOn(pid, s.admin)}, proxy ${connectionsOn(pid, s.proxy)}`;
    await waitFor(() => held() === 'admin 4, proxy 5', 4_000).catch(() =>
      assert.fail(`each silent connection held holds a descriptor: ${held()}, expected admin 4, proxy 5`),
    );
    // The proxy serves meanwhile, probes included.
    emu.script({ type: 'text', text: 'still serving' });
    const res = await chat(s.proxy, { model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${s.proxy}/healthz`)).status, 200);
    const metrics = await (await fetch(`${s.proxy}/metrics`)).text();
    assert.match(metrics, /sidecar_connections_refused_total\{listener="admin",reason="max_connections"\} 2/);
    assert.ok(s.lines.some((l) => l.level === 'warn' && l.listener === 'admin' && /cap of 4 connections/.test(String(l.msg))));

    // After the header timeout the sidecar has let go of every silent connection (its descriptors are back
    // to where they were).
    await Promise.all([...admin.slice(0, 4), ...proxy].map((c) => c.ended));
    await waitFor(() => connectionsOn(pid, s.admin) === 0, 15_000);
    // (A little above the baseline: the upstream pool and this test's own keep-alive connection may remain.)
    await waitFor(() => fds(pid) <= baseline + 4, 15_000);
    assert.equal((await fetch(`${s.admin}/healthz`)).status, 200, 'the admin listener has room again');
  } finally {
    for (const socket of sockets) socket.destroy();
    await killSidecar(s);
    await emu.close();
  }
});

test('connections: near the file descriptor limit the sidecar says so (libuv itself resets new connections without a word)', async () => {
  const emu = await startTestEmulator();
  const file = writeConfigFile(configText().replace('drain_timeout_s: 3}', 'drain_timeout_s: 3, max_connections: 500}'));
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url }, { openFiles: 120 });
  const sockets: Socket[] = [];
  try {
    await s.ready;
    assert.ok(
      s.lines.some((l) => l.level === 'warn' && /exceed the file descriptor limit 120/.test(String(l.msg))),
      'the caps were checked at start',
    );
    for (let i = 0; i < 130; i++) {
      const c = await silent(s.proxy).catch(() => undefined);
      if (c) sockets.push(c.socket);
    }
    await waitFor(() => s.lines.some((l) => l.level === 'warn' && /file descriptors are open/.test(String(l.msg))));
    for (const socket of sockets) socket.destroy();
    await waitFor(async () => (await fetch(`${s.admin}/healthz`).catch(() => ({ status: 0 }))).status === 200);
  } finally {
    for (const socket of sockets) socket.destroy();
    await killSidecar(s);
    await emu.close();
  }
});

/** One keep-alive request on a raw socket; resolves with the socket once the whole answer is in. */
function keptAlive(base: string): Promise<{ socket: Socket; ended: Promise<void> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), allowHalfOpen: true });
    const ended = new Promise<void>((r) => socket.on('end', () => r()));
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (head !== -1 && length && text.length >= head + 4 + Number(length[1])) resolve({ socket, ended });
    });
    socket.once('error', reject);
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

test('connections: an idle keep-alive connection is closed after keep_alive_timeout_ms; a reload applies new caps and timeouts', async () => {
  const emu = await startTestEmulator();
  const text = (server: string): string => configText().replace('drain_timeout_s: 3}', `drain_timeout_s: 3, ${server}}`);
  const file = writeConfigFile(text('keep_alive_timeout_ms: 300, admin_max_connections: 8'));
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  const sockets: Socket[] = [];
  try {
    await s.ready;
    // Node's own default keeps an idle connection 5 s: closed before that, the setting is what applies (4 s
    // leaves a loaded machine far more than the 300 ms it needs).
    const idle = await keptAlive(s.admin);
    sockets.push(idle.socket);
    await Promise.race([idle.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('still open after 4 s')), 4_000))]);

    writeFileSync(file, text('keep_alive_timeout_ms: 300, admin_max_connections: 2'));
    await waitFor(() => s.lines.some((l) => l.msg === 'config reloaded'));
    const admin = [];
    for (let i = 0; i < 3; i++) admin.push(await silent(s.admin));
    sockets.push(...admin.map((c) => c.socket));
    await admin[2]!.ended;
    for (const c of admin.slice(0, 2)) assert.equal(await settled(c.ended), false, 'the reloaded cap holds two');
    assert.ok(s.lines.some((l) => l.level === 'warn' && l.listener === 'admin' && /cap of 2 connections/.test(String(l.msg))));
  } finally {
    for (const socket of sockets) socket.destroy();
    await killSidecar(s);
    await emu.close();
  }
});
