// `npm run emulator`: the CLI prints one JSON line with the URL, serves, and exits 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CLAUDE, claudeBody, post } from './helpers.ts';

test('cli: prints {"msg":"emulator listening","url"} and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts', '--port', '0', '--no-verify', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const line = JSON.parse(first) as { msg: string; url: string };
    assert.equal(line.msg, 'emulator listening');
    assert.match(line.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await post(line.url, `/model/${encodeURIComponent(CLAUDE)}/invoke`, JSON.stringify(claudeBody('cli')), { sign: false });
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('cli: one long unpaced answer read as fast as it comes does not keep other connections waiting', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts', '--port', '0', '--no-verify', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    const { url } = JSON.parse(first) as { url: string };
    const path = `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`;
    let bigDone = false;
    // Tens of MB, taken by this process as fast as the emulator writes them: its socket always has room.
    const big = post(url, path, JSON.stringify(claudeBody('long [[emulator:repeat:60000]]')), { sign: false }).then((r) => {
      bigDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    const small = await post(url, path, JSON.stringify(claudeBody('short')), { sign: false });
    assert.equal(small.status, 200);
    assert.equal(bigDone, false, 'the short answer came while the long one was still being written');
    assert.equal((await big).status, 200);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
