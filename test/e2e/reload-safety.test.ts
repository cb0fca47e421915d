/**
 * Reloads that would open the door by accident, against the real process: an empty file, a file seen
 * half-written while it is rewritten in place, and a complete file that really turns auth off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { chat } from '../helpers/harness.ts';

const header =
  'server: {port: 0, admin_port: 0, admin_host: 127.0.0.1, drain_timeout_s: 3, auth_token: reload-secret-token}\nlogging: {level: info}\n';
const alias = (name: string): string => `  - name: ${name}
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
`;

test('reload: an empty file, or one caught half-written, never turns auth off or drops the aliases; a complete one that does is applied with a warning', async () => {
  const emu = await startTestEmulator();
  const file = writeConfigFile(`${header}models:\n${alias('first')}`);
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  const ask = async (model: string, token?: string): Promise<number> => {
    emu.script({ type: 'text', text: 'ok' });
    const res = await chat(
      s.proxy,
      { model, messages: [{ role: 'user', content: 'hi' }] },
      { ...(token ? { authorization: `Bearer ${token}` } : {}) },
    );
    await res.arrayBuffer();
    return res.status;
  };
  const rejected = (): number => s.lines.filter((l) => l.msg === 'config reload rejected; the previous config keeps serving').length;
  try {
    await s.ready;
    assert.equal(await ask('first', 'reload-secret-token'), 200);

    // Truncated to nothing (as `> sidecar.yaml` does first): an error, the old config serves on.
    writeFileSync(file, '');
    s.child.kill('SIGHUP');
    await waitFor(() => rejected() === 1);
    assert.match(String(s.lines.findLast((l) => l.msg?.toString().startsWith('config reload rejected'))?.error), /the file is empty/);
    assert.equal(await ask('first'), 401, 'auth still on');
    assert.equal(await ask('first', 'reload-secret-token'), 200);

    // Rewritten in place, slowly: first the server section alone (valid YAML: no auth change, no alias),
    // then the whole new file. The half must never be served. The sidecar holds a file without aliases for
    // 1.8 s (settle, then the dangerous settle) before it would apply it, so the scenario means something
    // only when the second write lands inside that window: a test process stalled past it (a loaded CI
    // machine) runs the scenario again rather than failing on its own timing.
    let measured = false;
    for (let attempt = 1; attempt <= 3 && !measured; attempt++) {
      const from = s.lines.length;
      const name = `second-${attempt}`;
      writeFileSync(file, header);
      const signalled = performance.now();
      s.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
      writeFileSync(file, `${header}models:\n${alias('first')}${alias(name)}`);
      measured = performance.now() - signalled < 1_300;
      if (!measured) s.child.kill('SIGHUP'); // the half may have been applied: reload the whole file
      await waitFor(async () => (await ask(name, 'reload-secret-token')) === 200);
      if (measured) {
        const applied = s.lines.slice(from).filter((l) => l.msg === 'config reloaded');
        assert.ok(!applied.some((l) => l.models === 0), 'the half file was never applied');
      }
    }
    assert.ok(measured, 'the second write landed inside the settle window in one of three tries');
    assert.equal(await ask('first', 'reload-secret-token'), 200);

    // A complete file that turns auth off: applied, once it has stayed the same, with a warning.
    writeFileSync(file, `server: {port: 0, admin_port: 0, admin_host: 127.0.0.1, drain_timeout_s: 3}\nmodels:\n${alias('first')}`);
    s.child.kill('SIGHUP');
    await waitFor(async () => (await ask('first')) === 200);
    assert.ok(s.lines.some((l) => l.level === 'warn' && /auth_token is no longer set/.test(String(l.msg))));
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});

test('reload: an empty config file is refused at start too', async () => {
  const s = spawnSidecar(['--config', writeConfigFile('# nothing but a comment\n')], {});
  assert.equal(await s.exit, 1);
  assert.match(s.stderr, /the file is empty/);
});
