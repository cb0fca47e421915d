/**
 * The upstream of the per-request rows (bench/lib/per-request.ts): a Bedrock stand-in that costs almost
 * nothing per request, so that what a request costs the proxy in front of it can be seen. It answers every
 * POST with the same recorded ConverseStream event stream (the emulator's own bytes, captured by the
 * orchestrator at start and passed in BENCH_REPLY_B64): in one `end()` write, or, when the request body
 * carries the emulator's `[[emulator:frame-delay:MS]]` marker, frame by frame MS apart (the first frame at
 * once). It checks no signature and parses no JSON: the emulator spends ~0.3 ms per request on those,
 * which on two shared cores would cap every target's requests per second below what the proxies can do.
 *
 * env: BENCH_REPLY_B64 (the event-stream bytes).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failed, ready, serveStats } from './agent.ts';

const reply = Buffer.from(process.env.BENCH_REPLY_B64 ?? '', 'base64');

/** The reply cut into its frames (each starts with its 4-byte total length). */
function frames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= bytes.length;) {
    const total = bytes.readUInt32BE(at);
    if (total < 16 || at + total > bytes.length) throw new Error(`BENCH_REPLY_B64: bad frame length ${total} at byte ${at}`);
    out.push(bytes.subarray(at, at + total));
    at += total;
  }
  return out;
}

const FRAME_DELAY = Buffer.from('[[emulator:frame-delay:');
const HEADERS = { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'bench-upstream' };

function paceMs(body: Buffer): number {
  const at = body.indexOf(FRAME_DELAY);
  if (at < 0) return 0;
  const end = body.indexOf(']]', at);
  const ms = Number(body.subarray(at + FRAME_DELAY.length, end).toString('latin1'));
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function main(): void {
  const parts = frames(reply);
  if (parts.length === 0) throw new Error('BENCH_REPLY_B64: no reply');
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const pace = paceMs(Buffer.concat(chunks));
      res.writeHead(200, HEADERS);
      if (pace === 0 || parts.length === 1) {
        res.end(reply);
        return;
      }
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed) {
          clearInterval(timer);
          return;
        }
        const frame = parts[i++]!;
        if (i < parts.length) {
          res.write(frame);
        } else {
          clearInterval(timer);
          res.end(frame);
        }
      }, pace);
      res.write(parts[i++]!);
      res.on('close', () => clearInterval(timer));
    });
  });
  serveStats();
  server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  server.on('error', (error) => failed(error.message));
}

try {
  main();
} catch (error) {
  failed(String(error));
}
