/**
 * Prometheus metrics (docs/contract.md#observability) on a registry of the app's own (so several apps in one process, as in
 * tests, never share counters). Labels are bounded: `model` is the alias name, or `direct` for route
 * strings sent in requests, never a free-form string from a request; `surface` is the client protocol
 * (`chat`, `messages`, …: src/server/surface.ts).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SurfaceName } from '../server/surface.ts';

/** Time to first token for LLMs: 50 ms to 30 s. */
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30];
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/** The surfaces that stream: their in-flight gauges exist (at 0) from the start, so a dashboard reads 0, not "no data". */
const STREAMING_SURFACES = ['chat', 'messages', 'responses', 'native'] as const satisfies readonly SurfaceName[];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sidecar_requests_total',
    help: 'Model requests by alias, route, outcome status and surface',
    labelNames: ['model', 'route', 'status', 'surface'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sidecar_request_duration_seconds',
    help: 'Whole request duration, until the last byte or the error',
    labelNames: ['model', 'route', 'surface'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'sidecar_time_to_first_token_seconds',
    help: 'From request start to the first model output sent to the client',
    labelNames: ['model', 'route', 'surface'] as const,
    buckets: TTFT_BUCKETS,
    registers: [this.registry],
  });
  readonly chunks = new Counter({
    name: 'sidecar_stream_chunks_total',
    help: 'Stream data frames sent to clients',
    labelNames: ['model', 'surface'] as const,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'sidecar_tokens_total',
    help: 'Tokens reported by Bedrock',
    labelNames: ['direction', 'model', 'surface'] as const,
    registers: [this.registry],
  });
  readonly guardrailInterventions = new Counter({
    name: 'sidecar_guardrail_interventions_total',
    help: 'Guardrail interventions by guardrail, action (block, mask, error) and surface',
    labelNames: ['guardrail', 'action', 'surface'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'sidecar_upstream_retries_total',
    help: 'Upstream attempts retried before the first byte, by reason and surface',
    labelNames: ['reason', 'surface'] as const,
    registers: [this.registry],
  });
  readonly inflight = new Gauge({
    name: 'sidecar_inflight_streams',
    help: 'Streaming responses in flight, by surface',
    labelNames: ['surface'] as const,
    registers: [this.registry],
  });
  readonly cancelled = new Counter({
    name: 'sidecar_requests_cancelled_total',
    help: 'Requests the client abandoned before the end',
    labelNames: ['model', 'surface'] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: 'sidecar_fallbacks_total',
    help: 'Requests moved from one alias to its next fallback before the first byte, by reason',
    labelNames: ['from', 'to', 'reason'] as const,
    registers: [this.registry],
  });
  readonly breakerOpen = new Gauge({
    name: 'sidecar_breaker_open',
    help: "1 while the alias target's circuit breaker is open (skipped), else 0",
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'sidecar_connections_refused_total',
    help: 'Connections closed at once by a listener: its connection cap (server.max_connections) or the fd limit was reached',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'sidecar_requests_shed_total',
    help: 'Requests refused with 503 because the byte budget for bodies and buffered answers in flight was spent',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    for (const surface of STREAMING_SURFACES) this.inflight.set({ surface }, 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
