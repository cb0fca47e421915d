/**
 * What one request's guardrails did, for the request's log line, the intervention metric and a log line
 * per intervention. Text is logged only with `logging.content: true`; reasons are content-free.
 *
 * Outcome: `none` (no guardrail applied), `passed` (guardrails ran, nothing happened), or a comma list of
 * `<stage>:<guardrail>:<action>`, action one of `block`, `mask`, `error_block` (the guardrail failed and
 * on_error blocked), `error_allow` (it failed and on_error let the text through). The metric
 * `sidecar_guardrail_interventions_total{guardrail,action,surface}` counts `block`, `mask` and `error` once per
 * request, guardrail and action.
 */
import { SidecarError } from '../errors.ts';
import type { GuardrailPhase } from '../config/schema.ts';
import type { Logger } from '../ops/logger.ts';
import type { Metrics } from '../ops/metrics.ts';

export type OutcomeAction = 'block' | 'mask' | 'error_block' | 'error_allow';

export const BLOCK_MESSAGE = 'Violated guardrail policy';

/** The error a block ends a request or stream with (docs/contract.md#guardrails): the same for a policy block and a failure on_error: block. */
export function violation(guardrail: string): SidecarError {
  return new SidecarError('guardrail_violation', BLOCK_MESSAGE, { guardrail });
}

export class GuardrailRecorder {
  private readonly outcomes: string[] = [];
  private readonly counted = new Set<string>();
  private ran = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly logContent: boolean,
    private readonly surface: string,
  ) {}

  /** A guardrail was applied to this request (so the outcome is at least `passed`). */
  applied(): void {
    this.ran = true;
  }

  intervened(stage: GuardrailPhase, guardrail: string, action: 'block' | 'mask', reason: string, detail?: string): void {
    this.ran = true;
    this.note(stage, guardrail, action, action);
    this.log.info(
      {
        guardrail,
        stage,
        action,
        reason,
        ...(this.logContent && detail !== undefined ? { text: detail } : {}),
      },
      action === 'block' ? 'guardrail blocked' : 'guardrail masked',
    );
  }

  failed(stage: GuardrailPhase, guardrail: string, onError: 'block' | 'allow', reason: string): void {
    this.ran = true;
    this.note(stage, guardrail, onError === 'block' ? 'error_block' : 'error_allow', 'error');
    this.log.warn(
      { guardrail, stage, onError, reason },
      onError === 'block'
        ? 'guardrail failed; on_error: block ends the request'
        : 'guardrail failed; on_error: allow lets the text through',
    );
  }

  outcome(): string {
    if (this.outcomes.length > 0) return this.outcomes.join(',');
    return this.ran ? 'passed' : 'none';
  }

  private note(stage: GuardrailPhase, guardrail: string, action: OutcomeAction, metricAction: 'block' | 'mask' | 'error'): void {
    const key = `${stage}:${guardrail}:${action}`;
    if (this.counted.has(key)) return;
    this.counted.add(key);
    this.outcomes.push(key);
    this.metrics.guardrailInterventions.inc({ guardrail, action: metricAction, surface: this.surface });
  }
}
