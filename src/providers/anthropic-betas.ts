/**
 * Claude-on-Bedrock constants shared by the invoke body (anthropic.ts) and the converse route: the beta
 * flags Bedrock accepts in `anthropic_beta`. (Thinking budgets and shapes per model: claude-rules.ts.)
 */

/** Beta flags Bedrock accepts in `anthropic_beta` (Bedrock answers "invalid beta flag" to others). */
export const BEDROCK_ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22', 'computer-use-2025-01-24', 'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14', 'output-128k-2025-02-19', 'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07', 'context-management-2025-06-27', 'effort-2025-11-24', 'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
]);
