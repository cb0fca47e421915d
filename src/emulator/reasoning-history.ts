// Reasoning handed back in a request's history (Converse `reasoningContent`, the same block in Nova's invoke body).
// What real Bedrock does with it differs by model, as users report it (tried against Bedrock, 2025–2026):
// - Nova refuses it, its own reasoning included: "User messages cannot contain reasoning content. Please remove
//   the reasoning content and try again." (can1357/oh-my-pi #9086, 2026-08, on every turn after the first).
// - DeepSeek R1 refuses it with the same words (aws-samples/bedrock-chat #851, 2025-04; langchain-aws #1229,
//   2026-08: "us.deepseek.r1-v1:0 # ValidationException (reasoning content not allowed)").
// - Kimi K2.5 (and GLM 4.7) fail a request replaying Claude's thinking (earendil-works/pi #1505, 2026-02); no
//   wording is quoted, so the emulator gives Nova's.
// - Claude takes it only signed: "thinking.signature: Field required" (maximhq/bifrost #6942, 2026-09;
//   langchain-aws #1229: "ValidationException (signature required)").
// - gpt-oss and DeepSeek V3.2 take unsigned reasoning (langchain-aws #1229); the rest is unreported and taken.
import { baseModelId, familyOf } from './model-id.ts';
import { isJson } from './families/types.ts';

export const REASONING_REFUSED = 'User messages cannot contain reasoning content. Please remove the reasoning content and try again.';

function refusesReasoning(modelId: string): boolean {
  const family = familyOf(modelId);
  return family === 'nova' || family === 'moonshot' || (family === 'deepseek' && baseModelId(modelId).startsWith('deepseek.r1'));
}

/**
 * The refusal of the reasoning blocks in `messages` for `modelId`, or undefined. Claude's is its own
 * message (Converse wraps it in "The model returned the following errors: "); the others are Bedrock's.
 */
export function reasoningHistoryProblem(modelId: string, messages: unknown): { message: string; claude: boolean } | undefined {
  if (!Array.isArray(messages)) return undefined;
  const claude = familyOf(modelId) === 'anthropic';
  const refuses = refusesReasoning(modelId);
  if (!claude && !refuses) return undefined;
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    const content = isJson(message) ? message.content : undefined;
    if (!Array.isArray(content)) continue;
    for (let j = 0; j < content.length; j++) {
      const block: unknown = content[j];
      const reasoning = isJson(block) ? block.reasoningContent : undefined;
      if (reasoning === undefined) continue;
      if (refuses) return { message: REASONING_REFUSED, claude: false };
      const text = isJson(reasoning) ? reasoning.reasoningText : undefined;
      if (isJson(text) && (typeof text.signature !== 'string' || text.signature === ''))
        return { message: `messages.${i}.content.${j}.thinking.signature: Field required`, claude: true };
    }
  }
  return undefined;
}
