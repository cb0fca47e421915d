/**
 * Calls Bedrock Runtime: one undici Agent (a keep-alive pool per origin, `upstream.connections` each),
 * every attempt signed afresh over the exact bytes sent, retries with full-jitter exponential backoff for
 * throttling, 5xx and connection failures — only before anything was answered to the client, since the
 * caller gets the response only once Bedrock said 200. An expired-token answer refreshes the credentials
 * and retries once. The caller's AbortSignal aborts the request at any moment, body included.
 */
import { Agent } from 'undici';
import type { Readable } from 'node:stream';
import { SidecarError, isSidecarError } from '../errors.ts';
import type { UpstreamConfig } from '../config/schema.ts';
import { classifyAnswer, classifyNetworkError, errorNameOf, errorMessageOf } from './bedrock-errors.ts';
import { bearerHeaders, type Signer } from './signer.ts';
import { ConnectionSlots } from './slots.ts';

export interface BedrockCall {
  endpoint: string;
  region: string;
  /** A Bedrock API key: replaces SigV4 with a bearer token. */
  apiKey: string | undefined;
  /** Path below the endpoint, already percent-encoded. */
  path: string;
  body: Uint8Array;
  /** The body's SHA-256 (hex), when known: the signer then does not hash it again. */
  bodySha256?: string;
  accept: string;
  /** x-amzn-bedrock-* headers the sidecar sets itself (from config, or read from the request under its rules). */
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** The client protocol the call serves (`chat`, `messages`, …): the label of the shared `onRetry`'s metric. */
  surface: string;
  /** Told of each retry of this call (after the shared `onRetry`), also when the retries then run out. */
  onRetry?: (error: SidecarError) => void;
}

export interface BedrockResponse {
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface ClientOptions {
  upstream: UpstreamConfig;
  signer: Signer;
  /** Forces a credential refresh (after an ExpiredTokenException). */
  invalidateCredentials: () => void;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  onRetry?: (attempt: number, error: SidecarError, call: BedrockCall) => void;
}

const BACKOFF_BASE_MS = { throttle: 250, transient: 100 } as const;
const BACKOFF_CAP_MS = 5_000;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export class BedrockClient {
  private readonly agent: Agent;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly slots: ConnectionSlots;

  constructor(private readonly options: ClientOptions) {
    const u = options.upstream;
    this.agent = new Agent({
      connections: u.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: u.firstByteTimeoutMs,
      bodyTimeout: u.idleTimeoutMs,
      connect: { timeout: u.connectTimeoutMs },
    });
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.slots = new ConnectionSlots(u.connections, u.queueTimeoutMs);
  }

  async call(call: BedrockCall): Promise<BedrockResponse> {
    const url = new URL(call.endpoint + call.path);
    const max = this.options.upstream.maxAttempts;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (call.signal.aborted) throw aborted();
      const base: Record<string, string> = { 'content-type': 'application/json', accept: call.accept, ...call.headers };
      const headers = call.apiKey
        ? { ...base, host: url.host, ...bearerHeaders(call.apiKey) }
        : await this.options.signer.sign({ method: 'POST', url, headers: base, body: call.body, bodySha256: call.bodySha256 }, call.region);

      let failure: SidecarError;
      let retryAfterMs: number | undefined;
      const slot = this.slots.acquire(url.origin, call.signal);
      const release = typeof slot === 'function' ? slot : await slot;
      try {
        const res = await this.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers,
          body: call.body,
          signal: call.signal,
        });
        if (res.statusCode === 200) {
          // The slot is the connection's: it is free again once the body is read, destroyed or aborted.
          if (res.body.destroyed) release();
          else res.body.once('close', release);
          return { headers: res.headers, body: res.body };
        }
        const { text } = await readBody(res.body, MAX_ERROR_BODY_BYTES).finally(release);
        let json: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        const errorType = errorNameOf(res.headers['x-amzn-errortype'], json);
        const message = errorMessageOf(json) ?? text.slice(0, 500);
        failure = classifyAnswer({ status: res.statusCode, errorType, message });
        retryAfterMs = retryAfter(res.headers['retry-after'] ?? res.headers['x-amz-retry-after']);
        if (errorType === 'ExpiredTokenException' && !refreshed && !call.apiKey) {
          refreshed = true;
          this.options.invalidateCredentials();
          this.options.onRetry?.(attempt, failure, call);
          call.onRetry?.(failure);
          attempt--; // the refresh retry does not use up an attempt
          continue;
        }
      } catch (error) {
        release();
        if (call.signal.aborted) throw aborted();
        failure = isSidecarError(error) ? error : classifyNetworkError(error);
      }
      if (!failure.retryable || attempt >= max) throw failure;
      this.options.onRetry?.(attempt, failure, call);
      call.onRetry?.(failure);
      const backoffBase = failure.type === 'rate_limit_error' ? BACKOFF_BASE_MS.throttle : BACKOFF_BASE_MS.transient;
      const delay = Math.floor(this.random() * Math.min(backoffBase * 2 ** (attempt - 1), BACKOFF_CAP_MS));
      await this.sleep(Math.max(delay, Math.min(retryAfterMs ?? 0, BACKOFF_CAP_MS)), call.signal);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  destroy(): void {
    void this.agent.destroy().catch(() => undefined);
  }
}

/** Drops a response body we will not read; its abort error has nowhere to go and is ignored. */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function aborted(): SidecarError {
  return new SidecarError('unavailable', 'the request was cancelled', { upstreamCode: 'ABORTED' });
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Reads a Bedrock answer body as UTF-8 text, at most `limit` bytes: past that the body is dropped and
 * `overflow` tells the caller, who decides whether a truncated answer is an error. `account` is told of
 * each chunk's size before it is kept and may throw to refuse it (a byte budget); the body is dropped.
 */
export async function readBody(
  body: Readable,
  limit: number,
  account?: (bytes: number) => void,
): Promise<{ text: string; overflow: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk as Uint8Array);
    if (account) {
      try {
        account(buf.length);
      } catch (error) {
        discardBody(body);
        throw error;
      }
    }
    if (size + buf.length > limit) {
      parts.push(buf.subarray(0, limit - size));
      discardBody(body);
      return { text: Buffer.concat(parts).toString('utf8'), overflow: true };
    }
    parts.push(buf);
    size += buf.length;
  }
  return { text: Buffer.concat(parts, size).toString('utf8'), overflow: false };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
