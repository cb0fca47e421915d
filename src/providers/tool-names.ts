/**
 * Tool names a route cannot carry, renamed for the call and named back in the answer
 * (docs/contract.md#request-rules).
 *
 * Bedrock's Converse takes a tool name of at most 64 characters from `[a-zA-Z0-9_-]` (`toolSpec.name`,
 * `toolChoice.tool.name` and every `toolUse.name` of the history) and refuses the whole request otherwise;
 * clients send what their tools are called (MCP tools: `mcp__<server>__<tool>`, from a server's own names),
 * and a model's call under a name it made up (`browser.navigate`) stays in the history, failing every later
 * turn. Amazon Nova is stricter still: a name with a hyphen is accepted,
 * but Nova fails (`ModelErrorException: Model produced invalid sequence as part of ToolUse`) each time it
 * calls that tool, so on Nova a name is a letter, then letters, digits and underscores.
 *
 * A name the route's rule refuses is folded into it — other characters become `_`, and a name still too
 * long, empty, or now the same as another tool's ends in 8 hex digits of its SHA-256 — the same way on every
 * request, so a conversation's history and cache points stay stable. The model's calls come back under the
 * client's own names (`restoreToolNames` on a whole answer, `withToolNames` on a stream).
 */
import type { StreamEvent } from '../pipeline/events.ts';
import type { ChatMessage, ChatRequest } from './request.ts';
import { stableDigest } from './tool-ids.ts';
import type { StreamMapper } from './types.ts';

export interface ToolNameRule {
  /** The names the route takes as they are. */
  readonly valid: RegExp;
  /** Characters that are not allowed anywhere in a name (replaced by `_`). */
  readonly invalid: RegExp;
  /** What a name must start with, if anything (a name that does not gets a `t` in front). */
  readonly start?: RegExp;
  readonly maxLength: number;
}

/** Converse's `ToolSpecification.name` (and Nova on invoke, whose `toolConfig` is Converse's). */
export const BEDROCK_TOOL_NAMES: ToolNameRule = { valid: /^[a-zA-Z0-9_-]{1,64}$/, invalid: /[^a-zA-Z0-9_-]/g, maxLength: 64 };

/** Amazon Nova: Bedrock's rule, without hyphens, starting with a letter. */
export const NOVA_TOOL_NAMES: ToolNameRule = {
  valid: /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/,
  invalid: /[^a-zA-Z0-9_]/g,
  start: /^[a-zA-Z]/,
  maxLength: 64,
};

/** The model's names of renamed tools → the client's. */
export type ToolNames = ReadonlyMap<string, string>;

export interface RenamedTools {
  request: ChatRequest;
  /** The client's name of each renamed tool, by the name it was sent under. */
  names: ToolNames;
}

/** Every tool name the request sends: its tools, its tool choice and the calls in its history. */
function namesIn(request: ChatRequest): Set<string> {
  const names = new Set<string>();
  for (const tool of request.params.tools ?? []) names.add(tool.name);
  const choice = request.params.tool_choice;
  if (choice?.type === 'function') names.add(choice.name);
  for (const m of request.messages) if (m.role === 'assistant') for (const call of m.toolCalls) names.add(call.name);
  return names;
}

function fold(name: string, rule: ToolNameRule): string {
  const folded = name.replace(rule.invalid, '_');
  return rule.start && folded !== '' && !rule.start.test(folded) ? `t${folded}` : folded;
}

function suffixed(base: string, name: string, rule: ToolNameRule, attempt: number): string {
  const hash = stableDigest(name, attempt).toString('hex').slice(0, 8);
  const head = base.slice(0, rule.maxLength - hash.length - 1);
  return `${head === '' && rule.start ? 't' : head}_${hash}`;
}

/**
 * The request with every name the rule refuses renamed, and the way back; undefined when every name is one
 * the route takes (the common case: nothing is copied).
 */
export function renameTools(request: ChatRequest, rule: ToolNameRule): RenamedTools | undefined {
  const taken = new Set<string>();
  const refused: string[] = [];
  for (const name of namesIn(request)) {
    if (rule.valid.test(name)) taken.add(name);
    else refused.push(name);
  }
  if (refused.length === 0) return undefined;
  const sent = new Map<string, string>();
  for (const name of refused) {
    const folded = fold(name, rule);
    let safe = folded;
    for (let attempt = 0; !rule.valid.test(safe) || taken.has(safe); attempt++) safe = suffixed(folded, name, rule, attempt);
    taken.add(safe);
    sent.set(name, safe);
  }
  const as = (name: string): string => sent.get(name) ?? name;
  const p = request.params;
  const choice = p.tool_choice;
  const messages = request.messages.map((m): ChatMessage =>
    m.role === 'assistant' && m.toolCalls.some((call) => sent.has(call.name))
      ? { ...m, toolCalls: m.toolCalls.map((call) => ({ ...call, name: as(call.name) })) }
      : m,
  );
  return {
    request: {
      ...request,
      messages,
      params: {
        ...p,
        ...(p.tools ? { tools: p.tools.map((tool) => ({ ...tool, name: as(tool.name) })) } : {}),
        ...(choice?.type === 'function' ? { tool_choice: { type: 'function', name: as(choice.name) } } : {}),
      },
    },
    names: new Map([...sent].map(([client, model]) => [model, client])),
  };
}

function restored(event: StreamEvent, names: ToolNames): StreamEvent {
  if (event.kind !== 'tool_start') return event;
  const name = names.get(event.name);
  return name === undefined ? event : { ...event, name };
}

/** A whole answer's events with the client's tool names. */
export function restoreToolNames(events: StreamEvent[], names: ToolNames | undefined): StreamEvent[] {
  return names ? events.map((event) => restored(event, names)) : events;
}

/** A stream's mapper whose tool calls carry the client's tool names. */
export function withToolNames(mapper: StreamMapper, names: ToolNames | undefined): StreamMapper {
  if (!names) return mapper;
  return {
    get terminated() {
      return mapper.terminated;
    },
    push: (event) => mapper.push(event).map((e) => restored(e, names)),
    end: () => mapper.end?.()?.map((e) => restored(e, names)),
    whole: () => mapper.whole?.()?.map((e) => restored(e, names)),
  };
}
