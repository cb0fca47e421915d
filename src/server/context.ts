/**
 * What src/server receives from the composition root (src/app.ts), and nothing more: the current config
 * generation, the process-wide logger, metrics and clock, the readiness and drain state (read-only), and
 * the two registrations a request makes while it is served. The server never reaches back into the app.
 */
import type { SidecarConfig } from '../config/schema.ts';
import type { GuardrailSet } from '../guardrails/index.ts';
import type { ModelRegistry } from '../models/resolve.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { BedrockClient } from '../upstream/client.ts';
import type { Failover } from '../upstream/failover.ts';
import type { ByteBudget } from './budget.ts';
import type { LiveStream } from './stream-response.ts';

/** Everything one config generation needs; swapped whole on reload (a request keeps the one it started with). */
export interface Generation {
  config: SidecarConfig;
  models: ModelRegistry;
  client: BedrockClient;
  guardrails: GuardrailSet;
  /** Fallback chains' circuit breakers and budget (a reload starts them afresh). */
  failover: Failover;
}

export interface ServerContext {
  readonly log: Logger;
  readonly metrics: Metrics;
  now(): number;
  /** The generation a new request is served with. */
  generation(): Generation;
  /** Credentials resolved and not draining. */
  ready(): boolean;
  /**
   * What /readyz answers: not ready while starting, draining, or while no usable AWS credentials are held
   * (`reason` then names the credential source and what went wrong).
   */
  readiness(): { ready: boolean; status: string; reason?: string };
  /** The process's byte budget for request bodies and buffered answers in flight (server/budget.ts). */
  readonly budget: ByteBudget;
  /** SIGTERM was received: new model requests are refused. */
  draining(): boolean;
  /** Aborted when a drain's deadline comes: requests that have not answered yet then answer 503 (drain-deadline.ts). */
  readonly drainDeadline: AbortSignal;
  /** Model requests being served now (load shedding compares it with server.max_inflight). */
  active(): number;
  /** A model request is being served (a drain waits for it); call the returned function after its last byte. */
  begin(): () => void;
  /** Registers a live stream so a drain can end it; returns the unregister function. */
  track(stream: LiveStream): () => void;
}
