/**
 * The sidecar process as an object: config, model registry, Bedrock client, guardrails, metrics and the
 * two listeners (proxy on loopback, admin for probes and metrics). `start()` binds both and resolves
 * credentials once (readiness); `drain()` is the SIGTERM path (docs/contract.md#operations); `reload()` swaps the
 * config for new requests while streams in flight keep the one they started with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SidecarError } from './errors.ts';
import type { SidecarConfig } from './config/schema.ts';
import { ModelRegistry, type Env } from './models/resolve.ts';
import { routeSupport } from './providers/index.ts';
import { createGuardrailSet } from './guardrails/index.ts';
import { Metrics } from './ops/metrics.ts';
import { createLogger, type Logger } from './ops/logger.ts';
import { rememberSecret } from './ops/secrets.ts';
import { BedrockClient } from './upstream/client.ts';
import { createCredentialSource, defaultCredentialProvider, type AwsCredentialIdentityProvider, type CredentialSource } from './upstream/credentials.ts';
import { createSigner } from './upstream/signer.ts';
import { Failover } from './upstream/failover.ts';
import type { Generation, ServerContext } from './server/context.ts';
import { handleProxy, handleAdmin, MAX_HEADERS, UNSERVED_FIELDS } from './server/router.ts';
import type { LiveStream } from './server/stream-response.ts';

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
  private readonly random: (() => number) | undefined;
  /** What the server receives: read access to the current state, and the registrations a request makes. */
  private readonly context: ServerContext;

  constructor(options: AppOptions) {
    this.env = options.env ?? process.env;
    this.log = options.logger ?? createLogger(options.config.logging.level);
    this.metrics = new Metrics({ processMetrics: options.processMetrics ?? true });
    this.now = options.now ?? Date.now;
    this.random = options.random;
    this.credentials = createCredentialSource(options.credentials ?? defaultCredentialProvider());
    this.generation = this.build(options.config);
    this.context = {
      log: this.log,
      metrics: this.metrics,
      now: () => this.now(),
      generation: () => this.generation,
      ready: () => this.ready && !this.draining,
      draining: () => this.draining,
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
      this.log.warn({ alias, problem: problem.message, status: problem.status }, 'this alias cannot be served: its requests are refused until the config says more');
    }
    const signer = createSigner({ credentials: this.credentials });
    const client = new BedrockClient({
      upstream: config.upstream,
      signer,
      invalidateCredentials: () => this.credentials.invalidate(),
      ...(this.random ? { random: this.random } : {}),
      onRetry: (attempt, error) => {
        this.metrics.retries.inc({ reason: error.type });
        this.log.warn({ attempt, error: error.message }, 'retrying Bedrock');
      },
    });
    const guardrails = createGuardrailSet({ config, client, metrics: this.metrics, log: this.log });
    const failover = new Failover(config.upstream, {
      onFallback: (from, to, reason) => this.metrics.fallbacks.inc({ from, to, reason }),
      onSkip: (target, why) => this.log.info({ alias: target, why }, 'fallback skipped'),
      onBreaker: (target, open) => {
        this.metrics.breakerOpen.set({ model: target }, open ? 1 : 0);
        this.log.warn({ alias: target, open }, open ? 'circuit breaker opened' : 'circuit breaker closed');
      },
    }, this.now);
    return { config, models, client, guardrails, failover };
  }

  /** Binds both listeners, then resolves credentials once (in the background) for readiness. */
  async start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }> {
    const { server } = this.config;
    this.proxy = this.listener((req, res) => handleProxy(this.context, req, res));
    this.admin = this.listener((req, res) => handleAdmin(this.context, req, res));
    const proxy = await listen(this.proxy, server.host, server.port);
    const admin = await listen(this.admin, server.adminHost, server.adminPort);
    void this.resolveCredentials();
    return { proxy, admin };
  }

  private listener(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
    const { server } = this.config;
    const s = createServer({
      headersTimeout: server.headersTimeoutMs,
      requestTimeout: server.requestTimeoutMs,
      // Node checks those two timeouts on this period (30 s by default, far too coarse for a 10 s limit).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(server.headersTimeoutMs / 2))),
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
    }, handler);
    // One more than the limit the router enforces, so "too many" is visible to it (Node truncates silently).
    s.maxHeadersCount = MAX_HEADERS + 1;
    s.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const type = status === 431 ? 'request_header_fields_too_large' : 'invalid_request_error';
      const body = JSON.stringify({ error: { message: `bad request: ${error.code ?? error.message}`, type, param: null, code: status } });
      // Node's parser failed before any request existed, so there is no x-request-id to echo: a fresh one.
      const requestId = randomUUID();
      socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n` +
        `connection: close\r\n\r\n${body}`);
      this.log.info({ requestId, ...UNSERVED_FIELDS, status, error: { type, message: `bad request: ${error.code ?? error.message}` } }, 'request completed');
    });
    return s;
  }

  private async resolveCredentials(): Promise<void> {
    const needsSigV4 = !this.env.AWS_BEARER_TOKEN_BEDROCK;
    for (let delay = 500; !this.draining; delay = Math.min(delay * 2, 30_000)) {
      try {
        if (needsSigV4) await this.credentials.get();
        this.ready = true;
        this.log.debug('credentials resolved');
        return;
      } catch (error) {
        this.log.warn({ error: (error as Error).message }, 'AWS credentials could not be resolved yet; /readyz answers 503');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
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
    this.log.info({ inflight: this.live.size, timeoutMs }, 'draining');
    // The listeners stay open while draining: new requests get a 503 rather than a refused connection.
    const deadline = Date.now() + timeoutMs;
    while ((this.active > 0 || this.live.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const stream of this.live) {
      stream.stop(new SidecarError('unavailable', 'the sidecar is shutting down (drain deadline reached)'));
    }
    const grace = Date.now() + 2_000;
    while ((this.active > 0 || this.live.size > 0) && Date.now() < grace) await new Promise((r) => setTimeout(r, 20));
    await this.close();
  }

  async close(): Promise<void> {
    this.draining = true;
    this.ready = false;
    await Promise.all([closeServer(this.proxy), closeServer(this.admin)]);
    await this.generation.client.close().catch(() => undefined);
  }
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
