/**
 * Several guardrails judging the same segments together: all checks start at once (in parallel), and the
 * outcome does not depend on which answers first — the first guardrail *in attachment order* that blocks
 * (or fails with on_error: block) names the block. A failure with on_error: allow counts as a pass (logged
 * and counted). Masks apply in order: the first masking guardrail's text is taken, and any later guardrail
 * that also masked judges that masked text again (a mask of a mask), so masks compose instead of racing.
 *
 * Returns synchronously when every check did (regex), so the common local case costs no microtask.
 */
import type { GuardrailPhase } from '../config/schema.ts';
import type { GuardrailRecorder } from './recorder.ts';
import { isPromise, type CheckSource, type Segment, type TextGuardrail, type Verdict } from './types.ts';

export type Judgement =
  | { readonly kind: 'pass' }
  /** The final text of each segment, or undefined when it is unchanged. */
  | { readonly kind: 'mask'; readonly texts: ReadonlyArray<string | undefined> }
  | { readonly kind: 'block'; readonly guardrail: string }
  | { readonly kind: 'cancelled' };

export interface JudgeContext {
  stage: GuardrailPhase;
  recorder: GuardrailRecorder;
  /** False where text is already with the client (async streaming): a mask is then a block. */
  maskAllowed: boolean;
}

const PASSED: Judgement = { kind: 'pass' };
const CANCELLED: Judgement = { kind: 'cancelled' };

export function judge(
  guards: readonly TextGuardrail[],
  source: CheckSource,
  segments: readonly Segment[],
  signal: AbortSignal,
  ctx: JudgeContext,
): Judgement | Promise<Judgement> {
  if (guards.length === 0 || segments.length === 0) return PASSED;
  const verdicts = guards.map((g) => g.check(source, segments, signal));
  if (verdicts.every((v): v is Verdict => !isPromise(v))) return combine(guards, verdicts, source, segments, signal, ctx);
  return Promise.all(verdicts).then((all) => combine(guards, all, source, segments, signal, ctx));
}

function combine(
  guards: readonly TextGuardrail[],
  verdicts: readonly Verdict[],
  source: CheckSource,
  segments: readonly Segment[],
  signal: AbortSignal,
  ctx: JudgeContext,
): Judgement | Promise<Judgement> {
  if (verdicts.some((v) => v.kind === 'cancelled')) return CANCELLED;
  let blockAt = -1;
  verdicts.forEach((v, i) => {
    const g = guards[i]!.config;
    if (v.kind === 'failed') {
      ctx.recorder.failed(ctx.stage, g.name, g.onError, v.reason);
      if (g.onError === 'block' && blockAt < 0) blockAt = i;
    } else if ((v.kind === 'block' || (v.kind === 'mask' && !ctx.maskAllowed)) && blockAt < 0) {
      blockAt = i;
    }
  });
  if (blockAt >= 0) {
    const v = verdicts[blockAt]!;
    const name = guards[blockAt]!.config.name;
    if (v.kind === 'block') ctx.recorder.intervened(ctx.stage, name, 'block', v.reason, v.detail);
    if (v.kind === 'mask') ctx.recorder.intervened(ctx.stage, name, 'block', `${v.reason} (a mask needs stream_mode: sync)`, v.detail);
    return { kind: 'block', guardrail: name };
  }

  const maskers = verdicts.flatMap((v, i) => (v.kind === 'mask' ? [i] : []));
  if (maskers.length === 0) return PASSED;
  const first = verdicts[maskers[0]!] as Extract<Verdict, { kind: 'mask' }>;
  ctx.recorder.intervened(ctx.stage, guards[maskers[0]!]!.config.name, 'mask', first.reason, first.detail);
  return remask(guards, maskers.slice(1), source, withTexts(segments, first.texts), signal, ctx, (final) => result(segments, final));
}

/** Later maskers judge the already masked text, one after the other. */
function remask(
  guards: readonly TextGuardrail[],
  rest: readonly number[],
  source: CheckSource,
  current: readonly Segment[],
  signal: AbortSignal,
  ctx: JudgeContext,
  done: (final: readonly Segment[]) => Judgement,
): Judgement | Promise<Judgement> {
  if (rest.length === 0) return done(current);
  const g = guards[rest[0]!]!;
  const step = (v: Verdict): Judgement | Promise<Judgement> => {
    switch (v.kind) {
      case 'cancelled':
        return CANCELLED;
      case 'block':
        ctx.recorder.intervened(ctx.stage, g.config.name, 'block', v.reason, v.detail);
        return { kind: 'block', guardrail: g.config.name };
      case 'failed':
        ctx.recorder.failed(ctx.stage, g.config.name, g.config.onError, v.reason);
        if (g.config.onError === 'block') return { kind: 'block', guardrail: g.config.name };
        break;
      case 'mask':
        ctx.recorder.intervened(ctx.stage, g.config.name, 'mask', v.reason, v.detail);
        return remask(guards, rest.slice(1), source, withTexts(current, v.texts), signal, ctx, done);
      case 'pass':
        break;
    }
    return remask(guards, rest.slice(1), source, current, signal, ctx, done);
  };
  const verdict = g.check(source, current, signal);
  return isPromise(verdict) ? verdict.then(step) : step(verdict);
}

function withTexts(segments: readonly Segment[], texts: ReadonlyArray<string | undefined>): Segment[] {
  return segments.map((s, i) => (texts[i] === undefined ? s : { context: s.context, text: texts[i] }));
}

function result(original: readonly Segment[], current: readonly Segment[]): Judgement {
  return { kind: 'mask', texts: current.map((s, i) => (s.text === original[i]!.text ? undefined : s.text)) };
}
