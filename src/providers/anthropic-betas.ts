/**
 * Claude-on-Bedrock constants shared by the invoke body (anthropic.ts, anthropic-native.ts) and the converse
 * route: the beta flags Bedrock accepts in `anthropic_beta`, per model (docs/bedrock-wire.md#beta-flags).
 * (Thinking budgets and shapes per model: claude-rules.ts.)
 */
import { claudeModelName, claudeRule } from './claude-rules.ts';
import { COMPACT_BETA, takesCompaction } from './context-management.ts';

/** Fine-grained tool streaming: tool input streamed as Claude writes it, not buffered and validated first. */
export const FINE_GRAINED_TOOL_STREAMING = 'fine-grained-tool-streaming-2025-05-14';

/**
 * A streamed Claude request's flags with fine-grained tool streaming added when a tool says
 * `eager_input_streaming: true` (Anthropic's GA spelling): Bedrock's tool schema refuses the key, and without
 * the flag a big tool input is a long silence Bedrock can end in a ModelTimeoutException. Kept or dropped
 * per model like any flag (`bedrockBetas`). The Messages surface and native InvokeModel both ask it so.
 */
export function withEagerToolStreaming(flags: readonly string[], tools: unknown, stream: boolean): string[] {
  const eager =
    Array.isArray(tools) &&
    tools.some((tool) => typeof tool === 'object' && tool !== null && (tool as Record<string, unknown>).eager_input_streaming === true);
  return stream && eager && !flags.includes(FINE_GRAINED_TOOL_STREAMING) ? [...flags, FINE_GRAINED_TOOL_STREAMING] : [...flags];
}

/** Beta flags Bedrock accepts in `anthropic_beta` (Bedrock answers "invalid beta flag" to others). */
export const BEDROCK_ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  FINE_GRAINED_TOOL_STREAMING,
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
  COMPACT_BETA,
]);

/** Anthropic's names Bedrock knows under another flag (docs/bedrock-wire.md#anthropic-claude). */
const BETA_ALIASES: Readonly<Record<string, string>> = { 'advanced-tool-use-2025-11-20': 'tool-search-tool-2025-10-19' };

/**
 * The 2025 generations, Claude 3.7 to 4.6 (a thinking rule of `budget` or `adaptive`): the only ones Bedrock
 * takes fine-grained tool streaming and interleaved thinking for. From Opus 4.7 on (and on every model
 * claude-rules.ts does not know yet) Bedrock answers "invalid beta flag" to the first, and the second means
 * nothing there: adaptive thinking interleaves by itself (docs/bedrock-wire.md#beta-flags).
 */
function before47(name: string): boolean {
  const thinking = claudeRule(name).thinking;
  return thinking === 'budget' || thinking === 'adaptive';
}

/** Flags only some models take: whether each is kept for a model name (claude-rules.ts spelling). */
const ONLY_FOR: Readonly<Record<string, (name: string) => boolean>> = {
  // The 1M context window: Sonnet 4 and later, Opus 4.6 and later.
  'context-1m-2025-08-07': (name) => /^claude-(sonnet-[4-9]|opus-4-[6-9]|opus-[5-9])/.test(name),
  'interleaved-thinking-2025-05-14': before47,
  [FINE_GRAINED_TOOL_STREAMING]: before47,
  [COMPACT_BETA]: takesCompaction,
};

/**
 * Flags Bedrock takes on InvokeModel only: Converse answers "The compact beta feature is not currently supported on
 * the Converse and ConverseStream APIs" (kazuya-iwami/anthropic_on_aws_samples, 2026-02; stdapi.ai #288,
 * 2026-09-22), and compaction's answer has no Converse shape.
 */
const INVOKE_ONLY: ReadonlySet<string> = new Set([COMPACT_BETA]);

/**
 * A client's beta flags filtered to what Bedrock takes for this model on this route: aliases renamed, duplicates
 * and unknown flags dropped (a Messages client such as Claude Code sends flags Bedrock has never heard of).
 */
export function bedrockBetas(
  modelId: string,
  flags: readonly string[],
  route: 'invoke' | 'converse' = 'invoke',
): { kept: string[]; dropped: string[] } {
  const name = claudeModelName(modelId);
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const flag of flags) {
    const beta = BETA_ALIASES[flag] ?? flag;
    const only = ONLY_FOR[beta];
    if (!BEDROCK_ANTHROPIC_BETAS.has(beta) || (only !== undefined && !only(name)) || (route === 'converse' && INVOKE_ONLY.has(beta)))
      dropped.push(flag);
    else if (!kept.includes(beta)) kept.push(beta);
  }
  return { kept, dropped };
}
