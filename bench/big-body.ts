/**
 * `npx tsx bench/big-body.ts`: how long one big request holds the sidecar's event loop. The sidecar runs as
 * its own process (`node --import tsx src/main.ts`, as `npm start` runs it) with a probe preloaded
 * (bench/lib/loop-probe.ts: a 2 ms timer noting how late each tick came); a sink in this process stands
 * in for Bedrock (it drops what it is sent and answers one short message, so nothing of Bedrock's side is
 * measured). Big chat requests — an 18.7 MiB body, a 14 MiB image as a base64 data URL — go one at a time to
 * a Converse and an invoke Claude alias, alternately; for each, the sidecar's worst event-loop delay while
 * it was served (from the request's first byte to its answer) and its delays over 20 ms with when they
 * ended. The first request after start is reported apart (warm-up). Prints the load average before and after:
 * on a shared machine the other processes' work shows up in every figure.
 *
 *   BIGBODY_REQUESTS (default 12), BIGBODY_IMAGE_MIB (default 14), BIGBODY_CONCURRENCY (default 1: requests
 *   sent together per round, each round's worst stall reported; the default byte budget admits two),
 *   BIGBODY_NODE_FLAGS (extra node flags for the sidecar, e.g. "--trace-gc" or "--cpu-prof --cpu-prof-dir=/tmp/p"),
 *   BIGBODY_OUT (a file for the sidecar's stdout: its log lines, and --trace-gc's)
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const REQUESTS = Number(process.env.BIGBODY_REQUESTS ?? 12);
const IMAGE_MIB = Number(process.env.BIGBODY_IMAGE_MIB ?? 14);
const CONCURRENCY = Number(process.env.BIGBODY_CONCURRENCY ?? 1);
const NODE_FLAGS = (process.env.BIGBODY_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');

interface Report {
  worst: number;
  worstCpu: number;
  delays: Array<[at: number, wall: number, cpu: number]>;
}

/** Bedrock's stand-in: reads and drops the body, answers a short Converse or Claude message. */
async function startSink(): Promise<{ url: string; close: () => void; received: number[] }> {
  const received: number[] = [];
  const server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      received.push(size);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url?.endsWith('/converse')
            ? {
                output: { message: { role: 'assistant', content: [{ text: 'seen' }] } },
                stopReason: 'end_turn',
                usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
              }
            : {
                id: 'msg_sink',
                type: 'message',
                role: 'assistant',
                model: 'claude',
                content: [{ type: 'text', text: 'seen' }],
                stop_reason: 'end_turn',
                usage: { input_tokens: 1, output_tokens: 1 },
              },
        ),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close(), received };
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const sink = await startSink();
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-bigbody-'));
  const file = join(dir, 'sidecar.yaml');
  writeFileSync(
    file,
    `server: {port: 0, admin_port: 0, admin_host: 127.0.0.1}
logging: {level: info}
models:
  - name: claude-converse
    model: bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
    endpoint: ${sink.url}
  - name: claude-invoke
    model: bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0
    region: us-east-1
    endpoint: ${sink.url}
`,
  );
  const child = fork('src/main.ts', ['--config', file], {
    execArgv: ['--import', 'tsx', '--import', './bench/lib/loop-probe.ts', ...NODE_FLAGS],
    env: {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const out = process.env.BIGBODY_OUT ? createWriteStream(process.env.BIGBODY_OUT) : undefined;
  const base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      out?.write(d);
      if (seen.length < 100_000) seen += d.toString();
      const m = /"proxy":"(http:\/\/[^"]+)"/.exec(seen);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the sidecar exited during start (${code}): ${seen}`)));
    setTimeout(() => reject(new Error(`the sidecar did not say where it listens within 30 s: ${seen.slice(0, 2000)}`)), 30_000).unref();
  });
  const ask = <T>(message: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send(message);
    });

  const image = Buffer.alloc(IMAGE_MIB * 1024 * 1024, 7).toString('base64');
  const body = (model: string): string =>
    JSON.stringify({
      model,
      max_tokens: 16,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } },
          ],
        },
      ],
    });
  const bodies = { 'claude-converse': Buffer.from(body('claude-converse')), 'claude-invoke': Buffer.from(body('claude-invoke')) };
  console.log(
    `big bodies: ${REQUESTS} rounds of ${CONCURRENCY === 1 ? 'one request' : `${CONCURRENCY} requests at once`} of ` +
      `${(bodies['claude-invoke'].length / 1048576).toFixed(1)} MiB; ` +
      `node ${process.version}${NODE_FLAGS.length ? ` ${NODE_FLAGS.join(' ')}` : ''}; load average ${load()}`,
  );
  await new Promise((r) => setTimeout(r, 500)); // the start's own work done
  const worsts: number[] = [];
  const worstCpus: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const model = i % 2 === 0 ? 'claude-converse' : 'claude-invoke';
    await ask('reset');
    const t = performance.now();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[model],
        });
        return [res.status, await res.text()] as const;
      }),
    );
    const ms = performance.now() - t;
    const report = await ask<Report>('report');
    worsts.push(report.worst);
    worstCpus.push(report.worstCpu);
    for (const [status, text] of answers) if (status !== 200) throw new Error(`${model}: ${status} ${text.slice(0, 300)}`);
    console.log(
      `${String(i + 1).padStart(2)} ${model.padEnd(15)} ${ms.toFixed(0).padStart(5)} ms  worst stall ${report.worst.toFixed(0).padStart(4)} ms` +
        ` (CPU ${report.worstCpu.toFixed(0).padStart(3)} ms)  over 20 ms, wall/CPU@end: ` +
        `${report.delays.map(([at, wall, cpu]) => `${wall}/${cpu}@${at}`).join(' ') || '-'}${i === 0 ? '  (first after start)' : ''}`,
    );
  }
  const summary = (what: string, all: number[]): string => {
    const rest = all.slice(1).sort((a, b) => a - b);
    const median = rest[Math.floor(rest.length / 2)] ?? NaN;
    return (
      `${what}: first ${all[0]!.toFixed(0)} ms; then median ${median.toFixed(0)} ms, max ${Math.max(...rest).toFixed(0)} ms ` +
      `(${rest.filter((w) => w < 100).length}/${rest.length} under 100 ms)`
    );
  };
  console.log(summary('worst stall, wall', worsts));
  console.log(summary('worst stall, main-thread CPU', worstCpus));
  console.log(`upstream got ${sink.received.length} bodies; load average ${load()}`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  out?.end();
  sink.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
