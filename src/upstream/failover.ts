/**
 * Failover before the first byte (docs/contract.md#failover-and-overload): a request names one alias; its
 * `fallbacks` are tried in order when the current target fails with throttling, a 5xx, a timeout or a
 * connection error (and, per alias, `fallback_on: [access_denied, model_not_ready]`). Never after Bedrock
 * answered 200 — `run` returns as soon as a target did — and never on a 400.
 *
 * Each target has a circuit breaker: `breakerFailures` consecutive failures open it for a cool-down that
 * doubles after every failed probe (up to `breakerMaxCooldownMs`); once the cool-down is over, exactly one
 * request probes it while the others skip it. A success closes it.
 *
 * A chain's attempts together stay within `failoverBudgetMs`: when it is spent the attempt in flight is
 * aborted and the request ends with one 504 naming the targets tried. A lone target (no fallbacks) has no
 * budget: Part I's timeouts bound it. Surface-blind: the caller says how to
 * prepare a call for a target (`prepare`, which may refuse a fallback that cannot serve the request: it is
 * skipped) and how to send it (`send`).
 */
import { SidecarError, isSidecarError } from '../errors.ts';
import type { FallbackTrigger, UpstreamConfig } from '../config/schema.ts';

export type FallbackReason = 'throttled' | 'unavailable' | 'timeout' | 'connection' | 'model_not_ready' | 'access_denied' | 'breaker_open';

/** What failover needs of a target: its alias name (the breaker's key) and that alias's extra triggers. */
export interface FailoverTarget {
  name: string;
  alias: { name: string; fallbackOn: readonly FallbackTrigger[] } | undefined;
}

const CONNECT_TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/**
 * Why a failure may move the request on, or undefined when it must reach the client as it is. Only what
 * another region or model could answer better: throttling (429), a 5xx, ModelNotReady, our connect or
 * first-byte timeout, a connection error — and, where the alias asks, AccessDenied. Never a 400 (not even
 * a quota's), never a model's own failure (424 ModelError, 408 ModelTimeout).
 */
export function fallbackReason(error: SidecarError, extra: readonly FallbackTrigger[]): FallbackReason | undefined {
  const code = error.upstreamCode ?? '';
  const status = error.upstreamStatus;
  if (status !== undefined) {
    if (code === 'ModelNotReadyException') return 'model_not_ready';
    if (status === 429) return 'throttled';
    if (status >= 500 && status <= 599) return 'unavailable';
    if (code === 'AccessDeniedException' && extra.includes('access_denied')) return 'access_denied';
    return undefined;
  }
  if (CONNECT_TIMEOUTS.has(code)) return 'timeout';
  // Network failures carry undici's or Node's code (classifyNetworkError); anything else is not the network's.
  if (error.type === 'upstream_error' && code !== '') return 'connection';
  return undefined;
}

type BreakerState = 'closed' | 'open' | 'probing';

export class Breaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private cooldownMs: number;
  private openUntil = 0;
  /** What the last failure was: an open breaker with nowhere else to go answers like it (429 or 503). */
  lastType: SidecarError['type'] = 'unavailable';

  constructor(
    private readonly options: { failures: number; cooldownMs: number; maxCooldownMs: number },
    private readonly onChange: (open: boolean) => void,
  ) {
    this.cooldownMs = Math.min(options.cooldownMs, options.maxCooldownMs);
  }

  /** May a request use this target now? The first request after a cool-down becomes the probe. */
  allow(nowMs: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && nowMs >= this.openUntil) {
      this.state = 'probing';
      return true;
    }
    return false;
  }

  /** Until when it stays open (for `retry-after` when no target is left). */
  get retryAtMs(): number {
    return this.openUntil;
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  success(): void {
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    this.failures = 0;
    this.cooldownMs = Math.min(this.options.cooldownMs, this.options.maxCooldownMs);
    if (wasOpen) this.onChange(false);
  }

  failure(nowMs: number, error: SidecarError): void {
    this.lastType = error.type;
    if (this.state === 'probing') {
      this.cooldownMs = Math.min(this.cooldownMs * 2, this.options.maxCooldownMs);
      this.state = 'open';
      this.openUntil = nowMs + this.cooldownMs;
      return;
    }
    if (++this.failures >= this.options.failures && this.state === 'closed') {
      this.state = 'open';
      this.openUntil = nowMs + this.cooldownMs;
      this.onChange(true);
    }
  }

  /** A probe that ended without a verdict (the client left, a 400) gives the next request the probe. */
  release(): void {
    if (this.state === 'probing') this.state = 'open';
  }
}

export interface FailoverHooks {
  onFallback(from: string, to: string, reason: FallbackReason): void;
  onSkip(target: string, why: string): void;
  onBreaker(target: string, open: boolean): void;
}

export interface FailoverRun<T extends FailoverTarget, P, R> {
  /** The requested target first, then its fallbacks. */
  chain: readonly T[];
  /**
   * Builds the call for a target. For a fallback, an `invalid_request_error` / `unsupported_parameter`
   * thrown here means "this target cannot serve the request": it is skipped. For the first target it is
   * the request's answer.
   */
  prepare(target: T, index: number): Promise<P> | P;
  send(prepared: P, target: T, signal: AbortSignal): Promise<R>;
  signal: AbortSignal;
}

export interface FailoverResult<T, P, R> {
  target: T;
  prepared: P;
  value: R;
}

const SKIPPABLE = new Set(['invalid_request_error', 'unsupported_parameter']);

export class Failover {
  private readonly breakers = new Map<string, Breaker>();

  constructor(
    private readonly upstream: Pick<UpstreamConfig, 'failoverBudgetMs' | 'breakerFailures' | 'breakerCooldownMs' | 'breakerMaxCooldownMs'>,
    private readonly hooks: FailoverHooks,
    private readonly now: () => number = Date.now,
  ) {}

  breaker(name: string): Breaker {
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new Breaker(
        {
          failures: this.upstream.breakerFailures,
          cooldownMs: this.upstream.breakerCooldownMs,
          maxCooldownMs: this.upstream.breakerMaxCooldownMs,
        },
        (open) => this.hooks.onBreaker(name, open),
      );
      this.breakers.set(name, breaker);
    }
    return breaker;
  }

  async run<T extends FailoverTarget, P, R>(run: FailoverRun<T, P, R>): Promise<FailoverResult<T, P, R>> {
    // The budget bounds a chain: a lone target keeps Part I's timeouts (a non-streaming answer may take
    // longer than the budget to its first byte, and there is nowhere else to go).
    const budgeted = run.chain.length > 1;
    // An attempt ends when the client goes (the request's signal) or, in a chain, when the budget is spent.
    // The attempt's signal is also the body's once a target answered; both signals are the request's own,
    // so nothing is left listening on anything that outlives it. A lone target's attempt is the request.
    const budget = budgeted ? new AbortController() : undefined;
    const signal = budget ? AbortSignal.any([run.signal, budget.signal]) : run.signal;
    let budgetSpent = false;
    const timer = budget
      ? setTimeout(() => {
          budgetSpent = true;
          budget.abort();
        }, this.upstream.failoverBudgetMs)
      : undefined;
    timer?.unref();
    const tried: string[] = [];
    let last: { error: SidecarError; target: T } | undefined;
    let skippedOpen: Breaker | undefined;
    try {
      for (let i = 0; i < run.chain.length; i++) {
        const target = run.chain[i]!;
        const breaker = target.alias ? this.breaker(target.alias.name) : undefined;
        if (breaker && !breaker.allow(this.now())) {
          this.hooks.onSkip(target.name, 'circuit breaker open');
          skippedOpen ??= breaker;
          const next = run.chain[i + 1];
          if (next) this.hooks.onFallback(target.name, next.name, 'breaker_open');
          continue;
        }
        let prepared: P;
        try {
          prepared = await run.prepare(target, i);
        } catch (error) {
          breaker?.release();
          if (i > 0 && isSidecarError(error) && SKIPPABLE.has(error.type)) {
            this.hooks.onSkip(target.name, error.message);
            continue;
          }
          throw error;
        }
        tried.push(target.name);
        try {
          const value = await run.send(prepared, target, signal);
          breaker?.success();
          return { target, prepared, value };
        } catch (error) {
          if (budgetSpent) break;
          if (run.signal.aborted || !isSidecarError(error)) {
            breaker?.release();
            throw error;
          }
          const reason = fallbackReason(error, target.alias?.fallbackOn ?? []);
          if (!reason) {
            // The target answered (a 400, a model error): it is up, whatever the request's fault.
            if (error.upstreamStatus !== undefined) breaker?.success();
            else breaker?.release();
            throw error;
          }
          breaker?.failure(this.now(), error);
          last = { error, target };
          const next = run.chain[i + 1];
          if (next) this.hooks.onFallback(target.name, next.name, reason);
        }
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (budgetSpent) {
      throw new SidecarError(
        'upstream_timeout',
        `no model answered within upstream.failover_budget_ms (${this.upstream.failoverBudgetMs} ms); tried ${tried.join(' → ') || 'nothing'}`,
        { upstreamCode: 'FAILOVER_BUDGET' },
      );
    }
    if (last) throw last.error;
    // Every target was skipped (open breakers, or fallbacks that cannot serve): the first one's breaker says when to come back.
    const retryAfterS = skippedOpen ? Math.max(1, Math.ceil((skippedOpen.retryAtMs - this.now()) / 1000)) : 1;
    const type = skippedOpen?.lastType === 'rate_limit_error' ? 'rate_limit_error' : 'unavailable';
    throw new SidecarError(
      type,
      `circuit breaker open for ${run.chain.map((t) => `"${t.name}"`).join(', ')}: Bedrock failed ${this.upstream.breakerFailures} times in a row; ` +
        `retry after ${retryAfterS} s`,
      { upstreamCode: 'BREAKER_OPEN', retryAfterS },
    );
  }
}
