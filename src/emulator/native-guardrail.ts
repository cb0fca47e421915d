// Guardrails applied by Bedrock inside a model call (docs/bedrock-wire.md#guardrails-inside-invoke,
// #guardrails-inside-converse): active when an invoke request carries `X-Amzn-Bedrock-GuardrailIdentifier`/`-Version`,
// or a converse body `guardrailConfig`. A block term in the model output ends the text before the piece that completes
// it (sync mode: failing text is never released), drops later tool calls and sets the stop reason to
// `guardrail_intervened`; invoke.ts adds `amazon-bedrock-guardrailAction` to the final chunk.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-use-converse-api.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-streaming.html
import type { CallContext } from './call.ts';
import type { Json } from './families/types.ts';
import { blockAssessment, findBlockTerm, resolveRules } from './guardrail-rules.ts';
import type { LazyText, OutputPlan } from './output.ts';

export interface NativeGuard {
  readonly active: boolean;
  readonly blockedMessage: string;
  /** The block term that fired, once one has. */
  readonly hit: string | undefined;
  /** Stream: make `plan.text` stop before the piece that completes a block term. */
  guardStream(plan: OutputPlan): void;
  /** Non-stream: on a block term, replace the answer by the blocked message. Returns whether it fired. */
  guardWhole(plan: OutputPlan): boolean;
  /** `trace.guardrail` for converse, when the request asked for a trace; undefined otherwise. */
  converseTrace(): Json | undefined;
  /** `amazon-bedrock-trace` for invoke (with `X-Amzn-Bedrock-Trace: ENABLED…`); undefined otherwise. */
  invokeTrace(): Json | undefined;
}

function header(call: CallContext, name: string): string | undefined {
  const v = call.req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function nativeGuardrail(call: CallContext, converseConfig: Json | undefined): NativeGuard {
  const rules = resolveRules(call.guardrails);
  const id = converseConfig ? String(converseConfig.guardrailIdentifier) : header(call, 'x-amzn-bedrock-guardrailidentifier');
  const active = id !== undefined;
  const converseTraceOn = converseConfig !== undefined && (converseConfig.trace === 'enabled' || converseConfig.trace === 'enabled_full');
  const invokeTraceOn = /^ENABLED/.test(header(call, 'x-amzn-bedrock-trace') ?? '');
  const maxTerm = Math.max(1, ...rules.blockTerms.map((t) => t.length));
  let hit: string | undefined;

  const intervene = (plan: OutputPlan, term: string): void => {
    hit = term;
    plan.stopReason = 'guardrail_intervened';
    plan.toolCalls = [];
  };

  return {
    active,
    blockedMessage: rules.blockedMessage,
    get hit() {
      return hit;
    },
    guardStream(plan) {
      if (!active || rules.blockTerms.length === 0) return;
      const inner = plan.text;
      const guarded: LazyText = {
        bytes: inner.bytes,
        full: () => inner.full(),
        *pieces() {
          let tail = '';
          for (const piece of inner.pieces()) {
            const window = tail + piece;
            const term = findBlockTerm(rules, window);
            if (term !== undefined) {
              intervene(plan, term);
              return;
            }
            tail = window.slice(-(maxTerm - 1) || window.length);
            yield piece;
          }
        },
      };
      plan.text = guarded;
    },
    guardWhole(plan) {
      if (!active) return false;
      const term = findBlockTerm(rules, plan.text.full());
      if (term === undefined) return false;
      intervene(plan, term);
      const msg = rules.blockedMessage;
      plan.text = { pieces: () => [msg], full: () => msg, bytes: Buffer.byteLength(msg) };
      return true;
    },
    converseTrace() {
      if (!converseTraceOn || !active) return undefined;
      return {
        guardrail: {
          ...(hit ? { modelOutput: [rules.blockedMessage] } : {}),
          outputAssessments: { [id]: [hit ? blockAssessment(hit) : {}] },
          ...(hit ? { actionReason: 'Guardrail blocked.' } : {}),
        },
      };
    },
    invokeTrace() {
      if (!invokeTraceOn || !active) return undefined;
      return { guardrail: { outputAssessments: { [id]: [hit ? blockAssessment(hit) : {}] } } };
    },
  };
}
