// Tool-call ids in a request's history that Bedrock refuses, per API and model, in Bedrock's words.
// Input: a Converse body, or a Claude / Mistral chat invoke body. Output: the refusal's message, or nothing.
// A conversation's ids are minted by whichever model made the call (OpenAI `call_…`, Claude `toolu_…`, Kimi
// `functions.Bash:0`, Gemini's long ids), so a conversation moved between models (a fallback, a client's
// model switch) carries ids the next model may refuse.
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolUseBlock.html
import { isJson, type Json } from './families/types.ts';

/**
 * Converse `toolUseId` (ToolUseBlock and ToolResultBlock): 1 to 64 characters. AWS's page has two revisions:
 * the HTML one gives `[a-zA-Z0-9_-]+`, the newer one `[a-zA-Z0-9_.:-]+`; the emulator holds the newer (what
 * real Bedrock refuses under both readings: `|`, Gemini's ids over 64 characters). Reported from Bedrock:
 * maximhq/bifrost #6300 (2026-08-19, Gemini ids), earendil-works/pi #781 (2026-01-16, Codex's `call_…|fc_…`),
 * vercel/ai #13326 (2026-03-10).
 */
const CONVERSE_ID = /^[a-zA-Z0-9_.:-]+$/;
const CONVERSE_ID_MAX = 64;

/** Every `toolUseId` of a Converse body's messages, with its Smithy path. */
function converseIds(body: Json): Array<{ at: string; id: unknown }> {
  const out: Array<{ at: string; id: unknown }> = [];
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  messages.forEach((message, i) => {
    const content = isJson(message) && Array.isArray(message.content) ? (message.content as unknown[]) : [];
    content.forEach((block, j) => {
      if (!isJson(block)) return;
      for (const kind of ['toolUse', 'toolResult'] as const) {
        const inner = block[kind];
        if (isJson(inner)) out.push({ at: `messages.${i}.member.content.${j}.member.${kind}.toolUseId`, id: inner.toolUseId });
      }
    });
  });
  return out;
}

/** Converse's constraint errors on `toolUseId`, in the words of its other constraint errors (tool names). */
export function converseToolUseIdProblems(body: Json): string[] {
  const out: string[] = [];
  for (const { at, id } of converseIds(body)) {
    if (typeof id !== 'string') continue;
    if (id.length < 1) out.push(`Value at '${at}' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    if (id.length > CONVERSE_ID_MAX)
      out.push(`Value at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${CONVERSE_ID_MAX}`);
    if (id !== '' && !CONVERSE_ID.test(id))
      out.push(`Value '${id}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.:-]+`);
  }
  return out;
}

/**
 * Mistral's chat models take a tool-call id of exactly 9 characters of [a-zA-Z0-9] and nothing else, on Converse
 * and in their own chat body: "The model returned the following errors: Tool call id was a but must be a-z, A-Z,
 * 0-9, with a length of 9." (anomalyco/opencode #48843, 2026-09-13, Bedrock Converse; vercel/ai #11802,
 * 2026-01-15 and #16606, 2026-07-02, `tooluse_…` ids on Ministral and Pixtral). The same text is Mistral's own
 * API's (jackmpcollins/magentic #276), which the invoke body reaches unchanged [the invoke wording: unverified].
 */
const MISTRAL_ID = /^[a-zA-Z0-9]{9}$/;

function mistralRefusal(id: string): string {
  return `The model returned the following errors: Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`;
}

/** The first Mistral-refused id of a Converse body (calls and results alike). */
export function mistralConverseIdProblem(body: Json): string | undefined {
  for (const { id } of converseIds(body)) if (typeof id === 'string' && !MISTRAL_ID.test(id)) return mistralRefusal(id);
  return undefined;
}

/** The first Mistral-refused id of a Mistral chat body: `tool_calls[].id` and a tool message's `tool_call_id`. */
export function mistralChatIdProblem(body: Json): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (const m of messages) {
    if (!isJson(m)) continue;
    const ids = [
      ...(Array.isArray(m.tool_calls) ? (m.tool_calls as unknown[]).map((call) => (isJson(call) ? call.id : undefined)) : []),
      m.tool_call_id,
    ];
    for (const id of ids) if (typeof id === 'string' && !MISTRAL_ID.test(id)) return mistralRefusal(id);
  }
  return undefined;
}

/**
 * Claude's Messages body: `tool_use.id` (and `tool_result.tool_use_id`, the same pattern in Anthropic's schema)
 * must match ^[a-zA-Z0-9_-]+$: "messages.1.content.0.tool_use.id: String should match pattern
 * '^[a-zA-Z0-9_-]+$'" (maximhq/bifrost #5097, 2026-07-10; langchain-ai/langchain #37756, 2026-05-28; BerriAI/litellm
 * #28825, 2026-05-26, Kimi K2.5's ids handed to Claude on Bedrock).
 */
const CLAUDE_ID = /^[a-zA-Z0-9_-]+$/;

export function claudeToolIdProblem(body: Json): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (const [i, m] of messages.entries()) {
    const content = isJson(m) && Array.isArray(m.content) ? (m.content as unknown[]) : [];
    for (const [j, b] of content.entries()) {
      if (!isJson(b)) continue;
      const [key, id] = b.type === 'tool_use' ? ['id', b.id] : b.type === 'tool_result' ? ['tool_use_id', b.tool_use_id] : [];
      if (typeof id === 'string' && !CLAUDE_ID.test(id))
        return `messages.${i}.content.${j}.${String(b.type)}.${key}: String should match pattern '^[a-zA-Z0-9_-]+$'`;
    }
  }
  return undefined;
}
