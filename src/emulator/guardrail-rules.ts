// The emulator's guardrail "policy": configurable block terms and mask terms (case-insensitive
// substrings), and the assessment objects Bedrock reports for them (docs/bedrock-wire.md#applyguardrail).
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html
//         https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_GuardrailAssessment.html
import type { Json } from './families/types.ts';
import type { GuardrailRules } from './types.ts';

/** Bedrock's default blocked messaging for a guardrail created in the console. */
export const DEFAULT_BLOCKED_MESSAGE = 'Sorry, the model cannot answer this question.';
/** Defaults chosen so that ordinary text never trips them; configure real terms with `guardrails`. */
export const DEFAULT_BLOCK_TERMS = ['emulator-blocked-topic'];
export const DEFAULT_MASK_TERMS = [{ term: 'emulator-pii-name', type: 'NAME' }];

export interface ResolvedRules {
  blockTerms: string[];
  maskTerms: { term: string; type: string }[];
  blockedMessage: string;
}

export function resolveRules(rules: GuardrailRules): ResolvedRules {
  return {
    blockTerms: (rules.blockTerms ?? DEFAULT_BLOCK_TERMS).filter((t) => t !== ''),
    maskTerms: (rules.maskTerms ?? DEFAULT_MASK_TERMS).filter((m) => m.term !== '').map((m) => ({ term: m.term, type: m.type ?? 'NAME' })),
    blockedMessage: rules.blockedMessage ?? DEFAULT_BLOCKED_MESSAGE,
  };
}

/** The first block term found in `text` (case-insensitive), if any. */
export function findBlockTerm(rules: ResolvedRules, text: string): string | undefined {
  const lower = text.toLowerCase();
  return rules.blockTerms.find((t) => lower.includes(t.toLowerCase()));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replaces every mask term with `{TYPE}`; returns the text and the entities found. */
export function maskText(rules: ResolvedRules, text: string): { text: string; entities: { match: string; type: string }[] } {
  const entities: { match: string; type: string }[] = [];
  let out = text;
  for (const m of rules.maskTerms) {
    out = out.replace(new RegExp(escapeRegExp(m.term), 'gi'), (match) => {
      entities.push({ match, type: m.type });
      return `{${m.type}}`;
    });
  }
  return { text: out, entities };
}

export function blockAssessment(term: string): Json {
  return {
    wordPolicy: { customWords: [{ match: term, action: 'BLOCKED', detected: true }], managedWordLists: [] },
    topicPolicy: { topics: [{ name: 'Emulator blocked topic', type: 'DENY', action: 'BLOCKED', detected: true }] },
  };
}

export function maskAssessment(entities: { match: string; type: string }[]): Json {
  return {
    sensitiveInformationPolicy: {
      piiEntities: entities.map((e) => ({ match: e.match, type: e.type, action: 'ANONYMIZED', detected: true })),
      regexes: [],
    },
  };
}
