/**
 * A credential source that hangs, against the real process: an EKS Pod Identity / container credentials
 * endpoint on loopback that accepts connections and never answers, at start and again when the
 * credentials it gave have expired. Requests get a prompt 503 naming the source, /readyz says not ready,
 * and everything comes back on its own once the endpoint answers again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chat, TEST_CREDENTIALS } from '../helpers/harness.ts';
import { configText, killSidecar, spawnSidecar, waitFor, writeConfigFile } from '../helpers/sidecar-process.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';

test('credentials: a container endpoint that never answers gives prompt 503s naming it and an unready /readyz, at start and at expiry, until it answers', async () => {
  let mode: 'hang' | 'short' | 'long' = 'hang';
  const held: ServerResponse[] = [];
  let calls = 0;
  const agent = await startHostileUpstream((_req, res) => {
    calls++;
    if (mode === 'hang') {
      held.push(res); // accepted, never answered
      return;
    }
    const expiration = new Date(Date.now() + (mode === 'short' ? 2_500 : 3_600_000)).toISOString();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ...{ AccessKeyId: TEST_CREDENTIALS.accessKeyId, SecretAccessKey: TEST_CREDENTIALS.secretAccessKey },
        Token: 'pod-identity-session-token',
        Expiration: expiration,
      }),
    );
  });
  const emu = await startTestEmulator();
  const home = mkdtempSync(join(tmpdir(), 'creds-hang-'));
  const file = writeConfigFile(
    configText().replace('logging: {level: info}', 'logging: {level: info}\nupstream: {credentials_timeout_ms: 300, max_attempts: 1}'),
  );
  const s = spawnSidecar(['--config', file], {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
  });
  // Bounded far beyond the 300 ms credentials bound: a hang fails the test, not the runner.
  const ask = (): Promise<Response> =>
    chat(s.proxy, { model: 'claude-invoke', messages: [{ role: 'user', content: 'hi' }] }, {}, AbortSignal.timeout(15_000));
  const readyz = async (): Promise<{ status: number; body: { status: string; reason?: string } }> => {
    const res = await fetch(`${s.admin}/readyz`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
  };
  const assertRefused = async (): Promise<void> => {
    const res = await ask();
    assert.equal(res.status, 503);
    const error = ((await res.json()) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, 'unavailable');
    assert.match(error.message, /container credentials endpoint http:\/\/127\.0\.0\.1:\d+\/v1\/credentials/);
    const ready = await readyz();
    assert.equal(ready.status, 503);
    assert.match(ready.body.reason ?? '', /container credentials endpoint/);
  };
  try {
    await s.ready;
    // At start: the endpoint hangs.
    await assertRefused();
    assert.equal(emu.requests.length, 0);

    // It answers: readiness and requests come back without a restart.
    mode = 'short';
    await waitFor(async () => (await readyz()).status === 200);
    const first = await ask();
    assert.equal(first.status, 200, await first.clone().text());

    // It hangs again, and the credentials it gave expire: a prompt 503 again, never a hang.
    mode = 'hang';
    await waitFor(async () => (await readyz()).status === 503);
    await assertRefused();

    // And it recovers once more (the refresh that hung is not waited on for ever).
    mode = 'long';
    await waitFor(async () => (await readyz()).status === 200);
    assert.equal((await ask()).status, 200);
    assert.ok(calls >= 4);
    assert.ok(s.child.exitCode === null, 'the process stayed up');
  } finally {
    await killSidecar(s);
    for (const res of held) res.destroy();
    await agent.close();
    await emu.close();
  }
});
