/**
 * Claude-on-Bedrock constants shared by the invoke body (anthropic.ts, anthropic-native.ts) and the converse
 * route: the beta flags Bedrock accepts in `anthropic_beta`, per model. (Thinking budgets and shapes per
 * model: claude-rules.ts.)
 */
import { claudeModelName } from './claude-rules.ts';

/** Beta flags Bedrock accepts in `anthropic_beta` (Bedrock answers "invalid beta flag" to others). */
export const BEDROCK_ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
]);

/** Anthropic's names Bedrock knows under another flag (docs/bedrock-wire.md#anthropic-claude). */
const BETA_ALIASES: Readonly<Record<string, string>> = { 'advanced-tool-use-2025-11-20': 'tool-search-tool-2025-10-19' };

/** Flags only some models take: the model names (claude-rules.ts spelling) each is kept for. */
const ONLY_FOR: Readonly<Record<string, RegExp>> = {
  // The 1M context window: Sonnet 4 and later, Opus 4.6 and later.
  'context-1m-2025-08-07': /^claude-(sonnet-[4-9]|opus-4-[6-9]|opus-[5-9])/,
  // Extended thinking betas mean nothing to a model without thinking (Claude 3.5 and older).
  'interleaved-thinking-2025-05-14': /^claude-(3-7|sonnet-[4-9]|opus-[4-9]|haiku-[4-9]|fable|mythos)/,
};

/**
 * A client's beta flags filtered to what Bedrock takes for this model: aliases renamed, duplicates and
 * unknown flags dropped (a Messages client such as Claude Code sends flags Bedrock has never heard of).
 */
export function bedrockBetas(modelId: string, flags: readonly string[]): { kept: string[]; dropped: string[] } {
  const name = claudeModelName(modelId);
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const flag of flags) {
    const beta = BETA_ALIASES[flag] ?? flag;
    const only = ONLY_FOR[beta];
    if (!BEDROCK_ANTHROPIC_BETAS.has(beta) || (only !== undefined && !only.test(name))) dropped.push(flag);
    else if (!kept.includes(beta)) kept.push(beta);
  }
  return { kept, dropped };
}
