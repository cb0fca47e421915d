/**
 * The bare pass-through proxy (the "limit a Node proxy can reach" of docs/contract.md#performance): `http.createServer`
 * → one undici request to the upstream (same path, same body, the client's SigV4 headers forwarded as they are) →
 * `stream.pipeline` of the upstream body to the response. No parsing, no transformation; backpressure and client aborts
 * come from `pipeline` alone. Its pool has the same size as the sidecar's in the benchmark.
 *
 * env: BENCH_UPSTREAM (origin), BENCH_CONNECTIONS (pool size per origin).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { Agent } from 'undici';
import { failed, ready, serveStats } from './agent.ts';

const upstream = process.env.BENCH_UPSTREAM ?? '';
const connections = Number(process.env.BENCH_CONNECTIONS ?? '512');
const agent = new Agent({ connections, keepAliveTimeout: 30_000 });

const FORWARDED = ['content-type', 'accept', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'];

function forwarded(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (chunk: Buffer) => parts.push(chunk));
  req.on('end', () => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    agent
      .request({
        origin: upstream,
        path: req.url ?? '/',
        method: 'POST',
        headers: forwarded(req.headers),
        body: Buffer.concat(parts),
        signal: controller.signal,
      })
      .then(
        (up) => {
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/octet-stream') });
          pipeline(up.body, res, () => undefined);
        },
        () => {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        },
      );
  });
});

serveStats();
server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
server.on('error', (error) => failed(error.message));
