/**
 * `type: bedrock` — the ApplyGuardrail API (docs/bedrock-wire.md#applyguardrail), called through the same
 * `BedrockClient` (signer, keep-alive pool, retries before an answer) as model calls.
 *
 * Request: `POST /guardrail/{id}/version/{version}/apply` with `source` INPUT or OUTPUT and one text
 * content block per segment (`context + text`), so `outputs[i]` lines up with segment `i` — the contract
 * masking relies on. Region and endpoint are the model's, unless the guardrail sets `region` / `endpoint`.
 * The whole call, retries included, is bounded by `timeout_ms`.
 *
 * Answer: `action: NONE` passes. `GUARDRAIL_INTERVENED` is a mask only when every intervening assessment
 * entry says ANONYMIZED and the outputs line up with the segments and leave each context untouched;
 * anything else that intervened is a block (when in doubt, block: never release text Bedrock objected to,
 * never apply a masked text to the wrong place). Failures (timeout, throttling or 5xx after retries, 4xx,
 * network, an answer that is not ApplyGuardrail's shape) are `failed` verdicts.
 */
import type { GuardrailConfig } from '../config/schema.ts';
import { readBody, type BedrockClient } from '../upstream/client.ts';
import { encodeGuardrailPath } from '../upstream/signer.ts';
import { CANCELLED, PASS, type CheckSource, type Segment, type TextGuardrail, type Verdict } from './types.ts';

/** Where and as whom ApplyGuardrail is called for one request. */
export interface GuardrailEndpoint {
  endpoint: string;
  region: string;
  apiKey: string | undefined;
}

const MIN_ANSWER_BYTES = 1024 * 1024;

/**
 * Already judged text sent again before the new text of a streaming check, so an entity or phrase cut by
 * a check boundary is still seen whole. Bedrock bills text units of 1000 characters: with the default
 * `interval_chars: 1000` a check is 2 units; `interval_chars: 800` keeps it to one.
 */
export const BEDROCK_CONTEXT_CHARS = 200;

/** `surface`: the client protocol of the request the checks serve (the label of a retried call's metric). */
export function createBedrockGuardrail(
  config: GuardrailConfig,
  client: BedrockClient,
  where: GuardrailEndpoint,
  surface: string,
): TextGuardrail {
  const path = encodeGuardrailPath(config.id, config.version);
  return {
    config,
    contextChars: BEDROCK_CONTEXT_CHARS,
    async check(source: CheckSource, segments: readonly Segment[], signal: AbortSignal): Promise<Verdict> {
      if (signal.aborted) return CANCELLED;
      const body = Buffer.from(JSON.stringify(applyGuardrailBody(source, segments)));
      const timeout = AbortSignal.timeout(config.timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      try {
        const answer = await client.call({
          endpoint: where.endpoint,
          region: where.region,
          apiKey: where.apiKey,
          path,
          body,
          accept: 'application/json',
          signal: both,
          surface,
        });
        const limit = Math.max(MIN_ANSWER_BYTES, body.length * 4);
        const { text, overflow } = await readBody(answer.body, limit);
        if (overflow) return { kind: 'failed', reason: `ApplyGuardrail's answer is larger than ${limit} bytes` };
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return { kind: 'failed', reason: 'ApplyGuardrail answered 200 with a body that is not JSON' };
        }
        return interpretApplyGuardrail(json, segments);
      } catch (error) {
        if (signal.aborted) return CANCELLED;
        if (timeout.aborted) return { kind: 'failed', reason: `ApplyGuardrail did not answer within timeout_ms (${config.timeoutMs} ms)` };
        return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

export function applyGuardrailBody(source: CheckSource, segments: readonly Segment[]): Record<string, unknown> {
  return { source, content: segments.map((s) => ({ text: { text: s.context + s.text } })) };
}

interface Entry {
  policy: string;
  action: string;
  label: string;
}

/** Reads an ApplyGuardrail answer into a verdict (pure; see the module comment for the rules). */
export function interpretApplyGuardrail(answer: unknown, segments: readonly Segment[]): Verdict {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    return { kind: 'failed', reason: 'ApplyGuardrail answered with something that is not a JSON object' };
  }
  const a = answer as Record<string, unknown>;
  if (a.action === 'NONE') return PASS;
  if (a.action !== 'GUARDRAIL_INTERVENED') {
    return { kind: 'failed', reason: `ApplyGuardrail answered without a known action (${JSON.stringify(a.action ?? null).slice(0, 60)})` };
  }
  const entries = interventions(a.assessments);
  const blocking = entries.filter((e) => e.action !== 'ANONYMIZED');
  const reason = describe(entries, typeof a.actionReason === 'string' ? a.actionReason : undefined);
  if (entries.length === 0 || blocking.length > 0) return { kind: 'block', reason };

  // ANONYMIZED only: the masked texts, one output per segment, each still starting with its context.
  const outputs = Array.isArray(a.outputs) ? a.outputs : [];
  if (outputs.length !== segments.length) {
    return { kind: 'block', reason: `${reason}; ${outputs.length} masked outputs for ${segments.length} texts, cannot apply them` };
  }
  const texts: Array<string | undefined> = [];
  for (let i = 0; i < segments.length; i++) {
    const out = (outputs[i] as { text?: unknown } | null)?.text;
    const { context, text } = segments[i]!;
    if (typeof out !== 'string' || !out.startsWith(context)) {
      return { kind: 'block', reason: `${reason}; the masked text changes text already released, cannot apply it` };
    }
    const masked = out.slice(context.length);
    texts.push(masked === text ? undefined : masked);
  }
  return { kind: 'mask', texts, reason };
}

/** Every assessment entry that intervened (`action` other than NONE, `detected` not false). */
function interventions(assessments: unknown): Entry[] {
  const out: Entry[] = [];
  const walk = (node: unknown, policy: string, depth: number): void => {
    if (depth > 6 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, policy, depth + 1);
      return;
    }
    const o = node as Record<string, unknown>;
    if (typeof o.action === 'string' && o.action !== 'NONE' && o.detected !== false) {
      const label = [o.type, o.name].find((v): v is string => typeof v === 'string');
      out.push({ policy, action: o.action, label: label ?? '' });
    }
    for (const [key, value] of Object.entries(o)) {
      if (key === 'invocationMetrics' || key === 'appliedGuardrailDetails') continue;
      walk(value, policy || key, depth + 1);
    }
  };
  if (Array.isArray(assessments)) for (const a of assessments) walk(a, '', 0);
  return out;
}

/** A content-free summary for logs: `contentPolicy:VIOLENCE:BLOCKED, sensitiveInformationPolicy:EMAIL:ANONYMIZED`. */
function describe(entries: readonly Entry[], actionReason: string | undefined): string {
  const parts = [...new Set(entries.map((e) => [e.policy, e.label, e.action].filter(Boolean).join(':')))];
  if (parts.length === 0) return actionReason ? `intervened: ${actionReason}` : 'intervened';
  return parts.slice(0, 8).join(', ');
}
