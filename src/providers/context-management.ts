/**
 * Claude's context management on Bedrock InvokeModel (docs/contract.md#request-rules,
 * docs/bedrock-wire.md#beta-flags): which of a client's `context_management.edits` go to Bedrock, the beta
 * flag each needs, and Claude's `compaction` blocks where they cannot go as they are.
 *
 * - `clear_tool_uses_20250919` (beta `context-management-2025-06-27`), Claude 4 and later: probed on InvokeModel
 *   (aws-samples/anthropic-on-aws automatic_tool_clearing_bedrock.ipynb, run 2025-10-09: 200 and
 *   `context_management.applied_edits` in the answer).
 * - `compact_20260112` (beta `compact-2026-01-12`), on the models Anthropic lists for it (Opus 4.6 on, Sonnet 4.6 on,
 *   Claude 5, Mythos, Fable): AWS's claude-messages-compaction page; verified on InvokeModel by LiteLLM #27532 /
 *   #27534 (2026-05-09). Converse refuses the beta ("The compact beta feature is not currently supported on the
 *   Converse and ConverseStream APIs": kazuya-iwami/anthropic_on_aws_samples, stdapi.ai #288), so it is invoke-only.
 * - Every other edit is dropped and logged: `clear_thinking_20251015` (what Claude Code sends on every request) was
 *   never captured on Bedrock, LiteLLM drops it ("400s here"), and Claude Code's `keep: "all"` is the default on
 *   the newer models: Claude Code keeps working exactly as it does without it.
 *
 * The body edit without its beta is Bedrock's 400 "context_management: Extra inputs are not permitted" (LiteLLM
 * #27532, anthropics/claude-code #49548 / #51700, Wei-Shaw/sub2api #2726): each kept edit brings its flag.
 */
import { claudeModelName } from './claude-rules.ts';
import { isRecord } from './usage.ts';
import { own } from '../own.ts';

export const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';
export const COMPACT_BETA = 'compact-2026-01-12';

type Json = Record<string, unknown>;

/** Claude 4 and later (claude-rules.ts spelling): the models AWS lists for tool-use clearing. */
function clearsToolUses(name: string): boolean {
  return /^claude-((sonnet|opus|haiku)-([4-9]|\d{2,})|mythos-|fable-)/.test(name);
}

/**
 * Whether Bedrock takes compaction (`compact_20260112`, its beta and its blocks) for a model: Opus 4.6 and later,
 * Sonnet 4.6 and later, the Claude 5 models, Mythos and Fable (Anthropic's compaction page, "Amazon Bedrock: beta";
 * AWS's older page lists Sonnet and Opus 4.6 only).
 */
export function takesCompaction(modelId: string): boolean {
  return /^claude-((opus|sonnet)-4-([6-9]|\d{2,})|(opus|sonnet|haiku)-([5-9]|\d{2,})|mythos-|fable-)/.test(claudeModelName(modelId));
}

/** The edit types Bedrock is sent, with the beta each needs and the models that take it. */
const EDITS: Readonly<Record<string, { beta: string; takes: (modelId: string) => boolean }>> = {
  clear_tool_uses_20250919: { beta: CONTEXT_MANAGEMENT_BETA, takes: (modelId) => clearsToolUses(claudeModelName(modelId)) },
  compact_20260112: { beta: COMPACT_BETA, takes: takesCompaction },
};

/**
 * A client's `context_management` as Bedrock's Claude body takes it for `modelId`: the edits Bedrock takes for the
 * model, each as the client wrote it and in its order, and the beta flags they need; undefined `value` when none is
 * left (then the member is left out). Each edit left out is noted.
 */
export function bedrockContextManagement(
  modelId: string,
  value: unknown,
  note: (message: string) => void,
): { value: Json | undefined; betas: string[] } {
  if (!isRecord(value) || !Array.isArray(value.edits)) {
    note('"context_management" dropped: it holds no list of edits');
    return { value: undefined, betas: [] };
  }
  const edits: unknown[] = [];
  const betas: string[] = [];
  value.edits.forEach((edit: unknown, i) => {
    const type = isRecord(edit) ? String(edit.type) : 'non-object';
    const rule = own(EDITS, type);
    if (!rule) note(`context_management.edits[${i}] dropped: Bedrock is not sent a "${type}" edit (only clear_tool_uses and compaction)`);
    else if (!rule.takes(modelId)) note(`context_management.edits[${i}] dropped: Bedrock takes no "${type}" edit for ${modelId}`);
    else {
      edits.push(edit);
      if (!betas.includes(rule.beta)) betas.push(rule.beta);
    }
  });
  for (const key of Object.keys(value))
    if (key !== 'edits') note(`context_management.${key} dropped: Bedrock's Claude body does not take it`);
  return edits.length > 0 ? { value: { edits }, betas } : { value: undefined, betas: [] };
}

/**
 * A `compaction` block a client sends back, where it cannot go as it is (a model without compaction, a translated
 * body, a token count): the summary it carries as a text block, or undefined when it has none (`content: null`, a
 * compaction that failed, which the API treats as a no-op).
 */
export function compactionAsText(block: Json): Json | undefined {
  return typeof block.content === 'string' && block.content !== '' ? { type: 'text', text: block.content } : undefined;
}

/**
 * A Claude body as Bedrock's CountTokens is sent it: `context_management` left out (whether CountTokens takes it
 * is unprobed, and it changes what is sent, not what is counted), each `compaction` block counted as its summary
 * text (what the model reads of it; CountTokens taking the block itself is unprobed) and the compact beta left out
 * with them. The body itself when none of these is in it.
 */
export function countableClaudeBody(body: Json): Json {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  const hasCompaction = messages.some((m) => isRecord(m) && Array.isArray(m.content) && m.content.some(isCompaction));
  const betas = Array.isArray(body.anthropic_beta) ? (body.anthropic_beta as unknown[]) : undefined;
  if (!('context_management' in body) && !hasCompaction && !betas?.includes(COMPACT_BETA)) return body;
  const { context_management: _edits, ...out } = body;
  if (hasCompaction)
    out.messages = messages.map((m) =>
      isRecord(m) && Array.isArray(m.content)
        ? { ...m, content: m.content.flatMap((b: unknown) => (isCompaction(b) ? (compactionAsText(b) ?? []) : [b])) }
        : m,
    );
  if (betas) out.anthropic_beta = betas.filter((flag) => flag !== COMPACT_BETA);
  return out;
}

function isCompaction(block: unknown): block is Json {
  return isRecord(block) && block.type === 'compaction';
}
