/**
 * Tool-call ids a route cannot carry, replaced in the history for the call (docs/contract.md#request-rules).
 *
 * A conversation's tool calls keep the ids the model that made them gave them, and a conversation moves
 * between models (a client's model switch, a fallback): an OpenAI `call_…` id, Claude's `toolu_…`, Kimi's
 * `functions.Bash:0`, Gemini's ids of a hundred characters, Codex's `call_…|fc_…`. Bedrock refuses the whole
 * request for one id its rule does not take, so every later turn of that conversation fails:
 * - Converse `toolUseId`: 1 to 64 characters of `[a-zA-Z0-9_-]` (AWS's newer page also allows `.` and `:`;
 *   the older pattern is the one kept here, taken by both readings);
 * - Claude's own body (`tool_use.id`): `^[a-zA-Z0-9_-]+$`;
 * - Mistral's chat models (either route): exactly 9 characters of `[a-zA-Z0-9]`.
 *
 * An id the rule refuses is replaced — in the call and in its result alike — by an alias derived from it
 * alone (its SHA-256), so the same id goes the same way on every request and prompt caches hold; two ids
 * whose aliases meet in one request are told apart (the later takes the next attempt). An id the rule takes
 * goes as it is. Nothing is named back: the answer's calls carry the ids Bedrock gave them, which the
 * client hands back, and which go through this same rule on the next turn.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest } from './request.ts';

export interface ToolIdRule {
  /** The ids the route takes as they are. */
  readonly valid: RegExp;
  /** The id sent for `id` (attempt 0; a higher attempt when that one is another id's). */
  alias(id: string, attempt: number): string;
}

/**
 * The SHA-256 of a name or id (of it and the attempt, past the first): the same on every request, for the
 * aliases of tool ids and tool names (tool-names.ts).
 */
export function stableDigest(text: string, attempt: number): Buffer {
  return createHash('sha256')
    .update(attempt === 0 ? text : `${text}\u0000${attempt}`)
    .digest();
}

/**
 * A rule of "these characters, at most `maxLength`": a refused id keeps what it can of itself (other
 * characters become `_`), cut to leave room for `_` and 8 hex digits of its SHA-256, which it always ends in,
 * so no folded id can be mistaken for a valid one the client sent.
 */
function foldedIds(valid: RegExp, invalid: RegExp, maxLength: number): ToolIdRule {
  return {
    valid,
    alias: (id, attempt) => `${id.replace(invalid, '_').slice(0, maxLength - 9)}_${stableDigest(id, attempt).toString('hex').slice(0, 8)}`,
  };
}

/** Converse's `toolUseId` (ToolUseBlock, ToolResultBlock): 1 to 64 characters of `[a-zA-Z0-9_-]`. */
export const BEDROCK_TOOL_IDS: ToolIdRule = foldedIds(/^[a-zA-Z0-9_-]{1,64}$/, /[^a-zA-Z0-9_-]/g, 64);

/** Claude's Messages body on invoke: `^[a-zA-Z0-9_-]+$`, no length limit (an alias is kept to Converse's 64). */
export const CLAUDE_TOOL_IDS: ToolIdRule = foldedIds(/^[a-zA-Z0-9_-]+$/, /[^a-zA-Z0-9_-]/g, 64);

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Mistral's chat models: exactly 9 of `[a-zA-Z0-9]`. Nothing of a refused id fits beside a hash, so its alias
 * is 9 base-62 digits of its SHA-256 (62^9: about 1.3e16 values).
 */
export const MISTRAL_TOOL_IDS: ToolIdRule = {
  valid: /^[a-zA-Z0-9]{9}$/,
  alias(id, attempt) {
    let n = stableDigest(id, attempt).readBigUInt64BE(0);
    let out = '';
    for (let i = 0; i < 9; i++) {
      out += BASE62[Number(n % 62n)];
      n /= 62n;
    }
    return out;
  },
};

export interface AliasedToolIds {
  request: ChatRequest;
  /** The id sent for each id the rule refused, by the client's id (for the debug line). */
  aliases: ReadonlyMap<string, string>;
}

/** Every tool-call id of the history, calls and results, in the order they first appear. */
function idsIn(messages: readonly ChatMessage[]): string[] {
  const ids = new Set<string>();
  for (const m of messages) {
    if (m.role === 'assistant') for (const call of m.toolCalls) ids.add(call.id);
    else if (m.role === 'tool') ids.add(m.toolCallId);
  }
  return [...ids];
}

/**
 * The alias of each id the rule refuses, by the id, or undefined when it takes them all. `ids` in the order
 * they first appear in the conversation: a valid id keeps itself, and the refused are aliased in that order,
 * so a conversation's earlier ids keep their aliases as it grows.
 */
export function toolIdAliases(ids: readonly string[], rule: ToolIdRule): Map<string, string> | undefined {
  const taken = new Set(ids.filter((id) => rule.valid.test(id)));
  if (taken.size === new Set(ids).size) return undefined;
  const aliases = new Map<string, string>();
  for (const id of ids) {
    if (rule.valid.test(id) || aliases.has(id)) continue;
    let alias = rule.alias(id, 0);
    for (let attempt = 1; !rule.valid.test(alias) || taken.has(alias); attempt++) alias = rule.alias(id, attempt);
    taken.add(alias);
    aliases.set(id, alias);
  }
  return aliases;
}

/**
 * The request with every tool-call id the rule refuses replaced by its alias, in the calls and in their
 * results; undefined when the rule takes every id (the common case: nothing is copied).
 */
export function aliasToolIds(request: ChatRequest, rule: ToolIdRule): AliasedToolIds | undefined {
  const aliases = toolIdAliases(idsIn(request.messages), rule);
  if (!aliases) return undefined;
  const as = (id: string): string => aliases.get(id) ?? id;
  const messages = request.messages.map((m): ChatMessage => {
    if (m.role === 'assistant' && m.toolCalls.some((call) => aliases.has(call.id)))
      return { ...m, toolCalls: m.toolCalls.map((call) => ({ ...call, id: as(call.id) })) };
    if (m.role === 'tool' && aliases.has(m.toolCallId)) return { ...m, toolCallId: as(m.toolCallId) };
    return m;
  });
  return { request: { ...request, messages }, aliases };
}
