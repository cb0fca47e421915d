/**
 * The sidecar process as an object: config, model registry, Bedrock client, guardrails, metrics and the
 * two listeners (proxy on loopback, admin for probes and metrics). `start()` binds both and resolves
 * credentials once (readiness); `drain()` is the SIGTERM path (docs/contract.md#operations); `reload()` swaps the
 * config for new requests while streams in flight keep the one they started with.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { SidecarError, errorBody, excerpt } from './errors.ts';
import type { SidecarConfig } from './config/schema.ts';
import { ModelRegistry, type Env } from './models/resolve.ts';
import { routeSupport } from './providers/index.ts';
import { createGuardrailSet } from './guardrails/index.ts';
import { Metrics } from './ops/metrics.ts';
import { createLogger, type Logger } from './ops/logger.ts';
import { rememberSecret } from './ops/secrets.ts';
import { BedrockClient } from './upstream/client.ts';
import {
  createCredentialSource,
  defaultCredentialProvider,
  describeCredentialSource,
  type AwsCredentialIdentityProvider,
  type CredentialSource,
} from './upstream/credentials.ts';
import { createSigner } from './upstream/signer.ts';
import { Failover } from './upstream/failover.ts';
import type { Generation, ServerContext } from './server/context.ts';
import { handleProxy, handleAdmin, MAX_HEADERS, refuseRequest, UNSERVED_FIELDS } from './server/router.ts';
import type { LiveStream } from './server/stream-response.ts';
import { ByteBudget } from './server/budget.ts';

export interface AppOptions {
  config: SidecarConfig;
  env?: Env;
  logger?: Logger;
  /** Credential provider (default: the AWS default chain). */
  credentials?: AwsCredentialIdentityProvider;
  now?: () => number;
  /** Jitter source for retry backoff (tests pass a fixed one). */
  random?: () => number;
  processMetrics?: boolean;
}

export class App {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly credentials: CredentialSource;
  readonly env: Env;
  readonly now: () => number;
  generation: Generation;
  ready = false;
  draining = false;
  private proxy: Server | undefined;
  private admin: Server | undefined;
  private readonly live = new Set<LiveStream>();
  /** Model requests being served, streaming or not, from the first byte read to the last written. */
  private active = 0;
  /** Aborted at the drain deadline: requests still waiting for an answer then answer 503. */
  private readonly deadline = new AbortController();
  /** Bytes of request bodies and buffered answers all requests hold (server.max_inflight_bytes). */
  readonly budget = new ByteBudget(() => this.config.server.maxInflightBytes);
  private readonly random: (() => number) | undefined;
  private fdWatch: NodeJS.Timeout | undefined;
  /** What the server receives: read access to the current state, and the registrations a request makes. */
  private readonly context: ServerContext;

  constructor(options: AppOptions) {
    this.env = options.env ?? process.env;
    this.log = options.logger ?? createLogger(options.config.logging.level);
    this.metrics = new Metrics({ processMetrics: options.processMetrics ?? true });
    this.now = options.now ?? Date.now;
    this.random = options.random;
    this.credentials = createCredentialSource(options.credentials ?? defaultCredentialProvider(), {
      timeoutMs: () => this.config.upstream.credentialsTimeoutMs,
      description: options.credentials ? 'the configured credential provider' : describeCredentialSource(this.env),
    });
    this.generation = this.build(options.config);
    this.context = {
      log: this.log,
      metrics: this.metrics,
      now: () => this.now(),
      generation: () => this.generation,
      ready: () => this.ready && !this.draining,
      draining: () => this.draining,
      drainDeadline: this.deadline.signal,
      active: () => this.active,
      begin: () => {
        this.active++;
        let ended = false;
        return () => {
          if (!ended) this.active--;
          ended = true;
        };
      },
      track: (stream) => this.track(stream),
      readiness: () => this.readiness(),
      budget: this.budget,
    };
  }

  get config(): SidecarConfig {
    return this.generation.config;
  }

  /** Builds a config generation; throws (naming the problem) if the config cannot be served. */
  build(config: SidecarConfig): Generation {
    rememberSecret('server.auth_token', config.server.authToken);
    const models = new ModelRegistry(config, this.env, routeSupport);
    for (const [alias, problem] of models.deferred) {
      this.log.warn(
        { alias, problem: problem.message, status: problem.status },
        'this alias cannot be served: its requests are refused until the config says more',
      );
    }
    const signer = createSigner({ credentials: this.credentials });
    const client = new BedrockClient({
      upstream: config.upstream,
      signer,
      invalidateCredentials: () => this.credentials.invalidate(),
      ...(this.random ? { random: this.random } : {}),
      onRetry: (attempt, error, call) => {
        this.metrics.retries.inc({ reason: error.type, surface: call.surface });
        this.log.warn({ attempt, error: error.message }, 'retrying Bedrock');
      },
    });
    const guardrails = createGuardrailSet({ config, client, metrics: this.metrics, log: this.log });
    const failover = new Failover(
      config.upstream,
      {
        onFallback: (from, to, reason) => this.metrics.fallbacks.inc({ from, to, reason }),
        onSkip: (target, why) => this.log.info({ alias: target, why }, 'fallback skipped'),
        onBreaker: (target, open) => {
          this.metrics.breakerOpen.set({ model: target }, open ? 1 : 0);
          this.log.warn({ alias: target, open }, open ? 'circuit breaker opened' : 'circuit breaker closed');
        },
      },
      this.now,
    );
    return { config, models, client, guardrails, failover };
  }

  /** Binds both listeners, then resolves credentials once (in the background) for readiness. */
  async start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }> {
    const { server } = this.config;
    this.proxy = this.listener('proxy', (req, res) => handleProxy(this.context, req, res));
    this.admin = this.listener('admin', (req, res) => handleAdmin(this.context, req, res));
    const proxy = await listen(this.proxy, server.host, server.port);
    const admin = await listen(this.admin, server.adminHost, server.adminPort);
    this.proxy.on('error', (error) => this.listenerError('proxy', error));
    this.admin.on('error', (error) => this.listenerError('admin', error));
    void this.resolveCredentials();
    this.watchDescriptors();
    return { proxy, admin };
  }

  /**
   * Out of file descriptors, libuv accepts and closes new connections itself and tells Node nothing: the
   * only sign would be clients' resets. So the count of open descriptors is looked at every few seconds
   * (Linux: /proc/self/fd) and a warning logged (at most once a minute) from 90% of the limit on.
   */
  private watchDescriptors(): void {
    const limit = openFileLimit();
    if (limit === undefined) return;
    const { server, upstream } = this.config;
    const needed = server.maxConnections + server.adminMaxConnections + upstream.connections + FD_RESERVE;
    if (needed > limit) {
      this.log.warn(
        { limit, needed },
        `the connection caps (server.max_connections + admin_max_connections + upstream.connections + ${FD_RESERVE}) ` +
          `exceed the file descriptor limit ${limit}: the process can run out of descriptors before a cap is reached`,
      );
    }
    const advice = 'lower server.max_connections / admin_max_connections / upstream.connections or raise ulimit -n';
    this.fdWatch = setInterval(() => {
      readdir('/proc/self/fd').then(
        (entries) => {
          if (entries.length >= limit * 0.9) {
            this.refused(
              'process',
              'fd_limit',
              `${entries.length} of ${limit} file descriptors are open: at the limit new connections ` +
                `are reset without a word; ${advice}`,
            );
          }
        },
        (error: NodeJS.ErrnoException) => {
          // Counting them takes a descriptor too: none left is the answer.
          if (error.code === 'EMFILE' || error.code === 'ENFILE') {
            this.refused(
              'process',
              'fd_limit',
              `all ${limit} file descriptors are open (${error.code}): new connections are reset without a word; ${advice}`,
            );
          }
        },
      );
    }, FD_WATCH_MS);
    this.fdWatch.unref();
  }

  /**
   * One listener. Bounded: at most `maxConnections` open connections (Node closes any more at once, and
   * says so with 'drop'); a connection that sends no complete header block within headers_timeout_ms,
   * its first byte included, gets a 408 and is closed (also when the client never closes its side); an
   * idle keep-alive connection is closed after keep_alive_timeout_ms. The admin listener's cap is small
   * and separate, so probes from the pod network can never use up the descriptors the proxy needs.
   */
  private listener(name: 'proxy' | 'admin', handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
    const { server } = this.config;
    const s = createServer(
      {
        // Node checks headers_timeout_ms and request_timeout_ms on this period (30 s by default, far too
        // coarse for a 10 s limit). Fixed for the listener's life: a reload changes the limits, not this.
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(server.headersTimeoutMs / 2))),
        maxHeaderSize: 16 * 1024,
        // Checked by the router instead, so that a missing Host gets the JSON error with an x-request-id.
        requireHostHeader: false,
      },
      handler,
    );
    applyListenerLimits(s, server, name);
    // One more than the limit the router enforces, so "too many" is visible to it (Node truncates silently).
    s.maxHeadersCount = MAX_HEADERS + 1;
    s.on('drop', () =>
      this.refused(
        name,
        'max_connections',
        `the ${name} listener is at its cap of ${s.maxConnections} connections ` +
          `(server.${name === 'proxy' ? '' : 'admin_'}max_connections): new connections are closed at once`,
      ),
    );
    s.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      // A bad request pipelined behind one whose response is under way (a stream): nothing may be written
      // into that response. It runs to its end; then the connection closes (the parser cannot go on). A
      // response not started yet (its own request's body timed out) is answered here as before.
      const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
      if (current && current.headersSent && !current.writableFinished) {
        current.once('close', () => socket.destroy());
        this.log.info(
          {
            requestId: randomUUID(),
            ...UNSERVED_FIELDS,
            status: 400,
            error: {
              type: 'invalid_request_error',
              message: `bad request: ${error.code ?? error.message} (pipelined behind a response in progress; not answered)`,
            },
          },
          'request completed',
        );
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const type = status === 431 ? 'request_header_fields_too_large' : 'invalid_request_error';
      this.rawAnswer(socket, new SidecarError(type, `bad request: ${error.code ?? error.message}`, { status }));
    });
    // CONNECT (a proxy tunnel) is nothing this server does: the JSON error, not a socket closed without a word.
    s.on('connect', (req: IncomingMessage, socket: Duplex) => {
      this.rawAnswer(socket, new SidecarError('method_not_allowed', `${req.method} is not served here`), req);
    });
    // An Expect other than 100-continue: 417 as Node would, but as the JSON error with its x-request-id.
    s.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      refuseRequest(
        this.context,
        req,
        res,
        new SidecarError(
          'invalid_request_error',
          `Expect: ${excerpt(String(req.headers.expect), 100)} is not supported (only 100-continue)`,
          { status: 417 },
        ),
        { connection: 'close' },
      );
    });
    return s;
  }

  /**
   * A JSON error written straight to a socket no response exists for (Node's parser failed, or CONNECT),
   * then the socket closed for good once written: a client that never closes its side must not keep it.
   */
  private rawAnswer(socket: Duplex, error: SidecarError, req?: IncomingMessage): void {
    const body = JSON.stringify(errorBody(error));
    // No request object exists (or it is a tunnel request): a fresh x-request-id.
    const requestId = randomUUID();
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n` +
        `connection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    setTimeout(() => socket.destroy(), 1_000).unref();
    this.log.info(
      {
        requestId,
        ...UNSERVED_FIELDS,
        ...(req ? { method: req.method, path: req.url } : {}),
        status: error.status,
        error: { type: error.type, message: error.message },
      },
      'request completed',
    );
  }

  private readonly refusalLogged = new Map<string, number>();

  /** A connection closed at once: counted always, logged at most once a minute per listener and reason. */
  private refused(listener: string, reason: string, message: string): void {
    this.metrics.connectionsRefused.inc({ listener, reason });
    const key = `${listener}/${reason}`;
    const now = Date.now();
    if (now - (this.refusalLogged.get(key) ?? 0) < 60_000) return;
    this.refusalLogged.set(key, now);
    this.log.warn({ listener, reason }, message);
  }

  /** An accept that failed after listening (out of file descriptors: EMFILE/ENFILE): logged, never fatal. */
  private listenerError(listener: string, error: NodeJS.ErrnoException): void {
    if (error.code === 'EMFILE' || error.code === 'ENFILE') {
      this.refused(
        listener,
        'fd_limit',
        `the process is out of file descriptors (${error.code}): new connections are refused; ` +
          'lower server.max_connections or raise the fd limit (ulimit -n)',
      );
      return;
    }
    this.log.error({ listener, err: error }, 'listener error');
  }

  /** Signing needs AWS credentials (no Bedrock API key for every call). */
  get needsSigV4(): boolean {
    return !this.env.AWS_BEARER_TOKEN_BEDROCK;
  }

  private async resolveCredentials(): Promise<void> {
    for (let delay = 500; !this.draining; delay = Math.min(delay * 2, 30_000)) {
      try {
        if (this.needsSigV4) await this.credentials.get();
        this.ready = true;
        this.log.debug('credentials resolved');
        return;
      } catch (error) {
        this.log.warn({ error: (error as Error).message }, 'AWS credentials could not be resolved yet; /readyz answers 503');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  /**
   * What /readyz says. Not ready while starting, draining, or while no usable AWS credentials are held
   * (expired, and the refresh failed or hangs): requests would only get 503s. Each probe in that state
   * starts a resolution in the background (bounded by upstream.credentials_timeout_ms), so readiness
   * comes back on its own once the source answers again, with or without traffic.
   */
  readiness(): { ready: boolean; status: string; reason?: string } {
    if (this.draining) return { ready: false, status: 'draining' };
    if (!this.ready) return { ready: false, status: 'starting', ...this.credentialProblem() };
    if (this.needsSigV4 && !this.credentials.usable()) {
      this.credentials.get().catch(() => undefined);
      return { ready: false, status: 'credentials_unavailable', ...this.credentialProblem() };
    }
    return { ready: true, status: 'ready' };
  }

  private credentialProblem(): { reason?: string } {
    const error = this.credentials.lastError();
    return error ? { reason: error.message } : {};
  }

  track(stream: LiveStream): () => void {
    this.live.add(stream);
    return () => this.live.delete(stream);
  }

  get inflight(): number {
    return this.live.size;
  }

  /** Swaps in a new config for new requests; streams in flight keep the generation they started with. */
  reload(config: SidecarConfig): void {
    const previous = this.generation;
    this.generation = this.build(config);
    // The listeners' caps and timeouts apply to new connections and checks from now on (addresses stay).
    if (this.proxy) applyListenerLimits(this.proxy, config.server, 'proxy');
    if (this.admin) applyListenerLimits(this.admin, config.server, 'admin');
    this.log.level = config.logging.level;
    this.log.info({ source: config.source, models: config.models.length }, 'config reloaded');
    setTimeout(() => void previous.client.close().catch(() => undefined), (previous.config.server.drainTimeoutS + 5) * 1000).unref();
  }

  /**
   * SIGTERM: not ready at once, new requests 503, streams in flight run on for drain_timeout_s, then end
   * with an `unavailable` error frame and `[DONE]`. Resolves when everything is closed.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.ready = false;
    const timeoutMs = this.config.server.drainTimeoutS * 1000;
    this.log.info({ inflight: this.active, streams: this.live.size, timeoutMs }, 'draining');
    // The listeners stay open while draining: new requests get a 503 rather than a refused connection.
    const deadline = Date.now() + timeoutMs;
    while ((this.active > 0 || this.live.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.deadline.abort();
    for (const stream of this.live) {
      stream.stop(new SidecarError('unavailable', 'the sidecar is shutting down (drain deadline reached)'));
    }
    const grace = Date.now() + 2_000;
    while ((this.active > 0 || this.live.size > 0) && Date.now() < grace) await new Promise((r) => setTimeout(r, 20));
    await this.close();
  }

  async close(): Promise<void> {
    clearInterval(this.fdWatch);
    this.draining = true;
    this.ready = false;
    await Promise.all([closeServer(this.proxy), closeServer(this.admin)]);
    await this.generation.client.close().catch(() => undefined);
  }
}

/** Descriptors the process needs besides connections (stdio, the event loop, the config watch, …). */
const FD_RESERVE = 64;
/** How often open file descriptors are counted. */
const FD_WATCH_MS = 2_000;

/** The soft limit on open files (Linux: /proc/self/limits), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A listener's connection cap and timeouts from `server.*` (at start, and again at each reload). */
function applyListenerLimits(s: Server, server: SidecarConfig['server'], name: 'proxy' | 'admin'): void {
  s.maxConnections = name === 'proxy' ? server.maxConnections : server.adminMaxConnections;
  s.headersTimeout = server.headersTimeoutMs;
  s.requestTimeout = server.requestTimeoutMs;
  s.keepAliveTimeout = server.keepAliveTimeoutMs;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server || !server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1_000).unref();
  });
}
