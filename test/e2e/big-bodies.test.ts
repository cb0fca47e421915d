/**
 * Memory in flight, against the real process: request bodies and buffered Bedrock answers share one
 * byte budget (server.max_inflight_bytes); past it requests get a 503 naming it, and the process stays
 * up. Bodies of a megabyte or more are parsed on the JSON thread, with the same answers as on the loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configText, killSidecar, spawnSidecar, writeConfigFile } from '../helpers/sidecar-process.ts';
import { gate, startTestEmulator } from '../helpers/emulator.ts';
import { chat } from '../helpers/harness.ts';

const MiB = 1024 * 1024;

test('big bodies: bodies and buffered answers in flight beyond server.max_inflight_bytes get a 503 naming it', async () => {
  const emu = await startTestEmulator();
  const file = writeConfigFile(
    configText().replace('drain_timeout_s: 3}', `drain_timeout_s: 3, max_body_bytes: ${4 * MiB}, max_inflight_bytes: ${8 * MiB}}`),
  );
  const s = spawnSidecar(['--config', file], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  const post = (content: string): Promise<Response> => chat(s.proxy, { model: 'claude-invoke', messages: [{ role: 'user', content }] });
  try {
    await s.ready;
    // Two 3.5 MiB bodies held while Bedrock thinks — until the test opens the gate (a 1.5 s delay could end,
    // on a loaded machine, before the later requests were read, and they fitted); a third does not fit.
    const held = gate();
    emu.script(
      { type: 'delay', ms: 60_000, until: held.opened, then: { type: 'text', text: 'one' } },
      { type: 'delay', ms: 60_000, until: held.opened, then: { type: 'text', text: 'two' } },
    );
    const big = 'x'.repeat(3.5 * MiB);
    const first = [post(big), post(big)];
    // Opened whatever happens below, so that the held requests never outlive the test.
    const release = setTimeout(held.open, 30_000).unref();
    while (emu.requests.length < 2) await new Promise((r) => setTimeout(r, 20));
    const third = await post(big);
    assert.equal(third.status, 503);
    const error = ((await third.json()) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, 'unavailable');
    assert.match(error.message, /server\.max_inflight_bytes/);
    // The count endpoints read their bodies within the same budget (Messages' and Bedrock's own).
    const counts = await Promise.all([
      fetch(`${s.proxy}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-invoke', messages: [{ role: 'user', content: big }] }),
      }),
      fetch(`${s.proxy}/model/claude-invoke/count-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { converse: { messages: [{ role: 'user', content: [{ text: big }] }] } } }),
      }),
    ]);
    for (const count of counts) {
      assert.equal(count.status, 503);
      assert.match(await count.text(), /server\.max_inflight_bytes/);
    }
    clearTimeout(release);
    held.open();
    assert.deepEqual(
      (await Promise.all(first)).map((r) => r.status),
      [200, 200],
    );

    // Everything was given back: the same body now passes.
    emu.script({ type: 'text', text: 'three' });
    assert.equal((await post(big)).status, 200);

    // A non-streaming answer larger than the budget is not buffered whole.
    emu.script({ type: 'text', text: 'y'.repeat(9 * MiB) });
    const huge = await post('hi');
    assert.equal(huge.status, 503);
    assert.match(((await huge.json()) as { error: { message: string } }).error.message, /buffered Bedrock answers/);

    const metrics = await (await fetch(`${s.admin}/metrics`)).text();
    assert.match(metrics, /sidecar_requests_shed_total\{what="body"\} 3/);
    assert.match(metrics, /sidecar_requests_shed_total\{what="answer"\} 1/);
    assert.equal((await fetch(`${s.admin}/healthz`)).status, 200);
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});

test('big bodies: a body parsed on the JSON thread gets the same answers as one parsed on the event loop', async () => {
  const emu = await startTestEmulator();
  const s = spawnSidecar(['--config', writeConfigFile(configText())], { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url });
  const send = async (body: string | Buffer): Promise<{ status: number; error?: { message: string; param: string | null } }> => {
    const res = await fetch(`${s.proxy}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { error?: { message: string; param: string | null } };
    return { status: res.status, ...(json.error ? { error: json.error } : {}) };
  };
  try {
    await s.ready;
    const pad = ' '.repeat(2 * MiB); // whitespace: the same JSON, over the off-thread threshold
    emu.script({ type: 'text', text: 'parsed off the loop' });
    const ok = await chat(s.proxy, `{"model":"claude-invoke",${pad}"messages":[{"role":"user","content":"hi"}]}`);
    assert.equal(ok.status, 200);
    assert.equal(
      ((await ok.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
      'parsed off the loop',
    );

    let deep = '0';
    for (let i = 0; i < 600; i++) deep = `[${deep}]`;
    const nested = await send(`{"model":"claude-invoke",${pad}"tools":${deep}}`);
    assert.equal(nested.status, 400);
    assert.match(nested.error!.message, /nests deeper than 512 levels \(under "tools"\)/);
    assert.equal(nested.error!.param, 'tools');

    const broken = await send(`{"model":"claude-invoke",${pad}"messages":[}`);
    assert.equal(broken.status, 400);
    assert.match(broken.error!.message, /not valid JSON/);

    const latin1 = await send(
      Buffer.concat([Buffer.from(`{"model":"claude-invoke",${pad}"x":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    );
    assert.equal(latin1.status, 400);
    assert.match(latin1.error!.message, /not valid UTF-8/);
  } finally {
    await killSidecar(s);
    await emu.close();
  }
});
