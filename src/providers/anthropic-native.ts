/**
 * Claude on invoke for a Messages client (docs/contract.md#anthropic-messages): the client's own body, kept
 * as it was sent — thinking blocks, their signatures, `redacted_thinking` and `cache_control` byte for byte —
 * and filtered to what Bedrock's Claude body takes (docs/bedrock-wire.md#anthropic-claude). Whatever Bedrock
 * would refuse is dropped and logged, never a 400: Claude Code cannot be told to stop sending it.
 *
 * - `model` and `stream` are already gone (the reader took them); `anthropic_version` is Bedrock's.
 * - Beta flags (header and body) are filtered per model (anthropic-betas.ts); on a streamed Messages request a
 *   tool's `eager_input_streaming` arrives as the fine-grained tool streaming flag (the reader turns it into one).
 * - Top-level keys, block keys and tool keys outside Bedrock's schema are dropped (`metadata`, `service_tier`, a
 *   tool's `eager_input_streaming` / `defer_loading` / `strict`, …).
 * - `context_management` keeps the edits Bedrock takes for the model, and brings their beta flags
 *   (context-management.ts); a `compaction` block goes back byte for byte where the model compacts, else as its
 *   summary text.
 * - `role: "system"` messages inside `messages` become user `<system-reminder>` text, as Claude Code's own
 *   Bedrock mode sends them; neighbouring messages of one role are then merged.
 * - `thinking` / `output_config` take the shape the model takes (claude-rules.ts); the constraint keywords
 *   Claude refuses in `output_config.format.schema` move into descriptions (json-schema.ts `claudeSchema`).
 *   The structured-output beta's top-level `output_format` goes as `output_config.format`.
 */
import { bedrockBetas, FINE_GRAINED_TOOL_STREAMING } from './anthropic-betas.ts';
import { checkCacheLimits } from './caching.ts';
import { adaptClaudeThinking, claudeCaching, claudeSampling } from './claude-rules.ts';
import { bedrockContextManagement, COMPACT_BETA, compactionAsText, takesCompaction } from './context-management.ts';
import { relabelClaudeImages } from './image-format.ts';
import { claudeSchema } from './json-schema.ts';
import { limitClaudeMedia, mediaRule } from './media-limit.ts';
import { mergeExtraFields } from './policy.ts';
import { maskedOwnBody } from './paths.ts';
import type { AnthropicNative, ChatRequest } from './request.ts';
import { CLAUDE_TOOL_IDS, toolIdAliases } from './tool-ids.ts';
import { toolInputSchema } from './tool-schema.ts';
import type { BuildContext } from './types.ts';
import { own } from '../own.ts';

const ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The members of Claude's Messages body Bedrock takes (besides `anthropic_version` / `anthropic_beta`). */
export const CLAUDE_BODY_KEYS: readonly string[] = [
  'max_tokens',
  'messages',
  'system',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
];
const TOP_LEVEL: ReadonlySet<string> = new Set(CLAUDE_BODY_KEYS);

/** Keys Bedrock takes per content-block type; a type not listed is dropped whole. */
const BLOCK_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  text: new Set(['type', 'text', 'cache_control', 'citations']),
  image: new Set(['type', 'source', 'cache_control']),
  document: new Set(['type', 'source', 'title', 'context', 'citations', 'cache_control']),
  search_result: new Set(['type', 'source', 'title', 'content', 'citations', 'cache_control']),
  tool_use: new Set(['type', 'id', 'name', 'input', 'cache_control']),
  tool_result: new Set(['type', 'tool_use_id', 'content', 'is_error', 'cache_control']),
  thinking: new Set(['type', 'thinking', 'signature']),
  redacted_thinking: new Set(['type', 'data']),
  // Anthropic's BetaCompactionBlockParam; opaque like thinking (`encrypted_content` is checked by Claude).
  compaction: new Set(['type', 'content', 'encrypted_content', 'cache_control']),
};
const TOOL_RESULT_PARTS: ReadonlySet<string> = new Set(['text', 'image', 'document', 'search_result']);
const CUSTOM_TOOL_KEYS: ReadonlySet<string> = new Set(['type', 'name', 'description', 'input_schema', 'cache_control']);

/** Extra fields an alias may add on this path (same as the translated Claude body). */
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['top_k', 'anthropic_beta', 'thinking', 'output_config', 'tool_choice']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The client's own Messages body as it goes: as the client wrote it, an input guardrail's masks written where
 * the masked text was read (paths.ts `maskedOwnBody`), so every member of Claude's body stays. The request
 * rules (caching.ts, documents.ts) copy the neutral messages to add marks or names, which changes no text.
 * Undefined when the request carries no such body, or a masked text cannot be placed in it (then the masked
 * translation goes).
 */
export function ownMessagesBody(request: ChatRequest): AnthropicNative | undefined {
  const native = request.anthropic;
  if (!native) return undefined;
  const body = maskedOwnBody(native.body, native.messages, request.messages);
  if (!body) return undefined;
  return body === native.body ? native : { ...native, body };
}

export function nativeMessagesBody(native: AnthropicNative, request: ChatRequest, ctx: BuildContext): Json {
  const body: Json = { anthropic_version: ANTHROPIC_VERSION };
  for (const [key, value] of Object.entries(native.body)) {
    if (key === 'anthropic_beta' || key === 'context_management') continue; // both below
    if (TOP_LEVEL.has(key)) body[key] = value;
    else if (key !== 'output_format') ctx.note(`"${key}" dropped: Bedrock's Claude body does not take it`);
  }
  // The structured-output beta's `output_format` is `output_config.format` today, the only place Bedrock takes it.
  const config = isObject(body.output_config) ? body.output_config : {};
  if (isObject(native.body.output_format) && (config.format === undefined || config.format === null)) {
    body.output_config = { ...config, format: native.body.output_format };
    ctx.note('output_format sent as output_config.format: where Bedrock takes structured outputs');
  } else if (native.body.output_format !== undefined) ctx.note('"output_format" dropped: output_config.format is set');
  // Images labelled as their bytes are (image-format.ts); Claude's limit on images and documents
  // (media-limit.ts): the oldest left out, the latest turn kept whole.
  const note = (message: string): void => ctx.note(message);
  const relabelled = relabelClaudeImages(claudeToolIds(bedrockMessages(native.body.messages, ctx), ctx), note);
  body.messages = limitClaudeMedia(relabelled, mediaRule('anthropic', ctx.target.modelId), `${ctx.target.modelId} on Bedrock`, note);
  if (Array.isArray(body.system)) body.system = (body.system as unknown[]).flatMap((b, i) => keepBlock(b, `system[${i}]`, ctx));
  if (Array.isArray(body.tools)) body.tools = (body.tools as unknown[]).map((t, i) => keepTool(t, i, ctx));
  if (request.params.max_tokens !== undefined) body.max_tokens = request.params.max_tokens;

  const adapted = adaptClaudeThinking(
    ctx.target.modelId,
    isObject(body.thinking) ? body.thinking : undefined,
    isObject(body.output_config) ? body.output_config : undefined,
  );
  delete body.thinking;
  delete body.output_config;
  if (adapted.thinking) body.thinking = bedrockThinking(adapted.thinking, ctx);
  if (adapted.output_config) body.output_config = adapted.output_config;
  if (isObject(body.output_config) && isObject(body.output_config.format) && isObject(body.output_config.format.schema)) {
    const format = body.output_config.format;
    body.output_config = {
      ...body.output_config,
      format: { ...format, schema: claudeOutputSchema(format.schema as Json, ctx, 'output_config.format.schema') },
    };
  }
  for (const note of adapted.notes) ctx.note(note);
  const sampling = claudeSampling(ctx.target.modelId, { temperature: body.temperature, top_p: body.top_p, top_k: body.top_k });
  for (const { key, note } of sampling.omitted) {
    ctx.note(note);
    delete body[key];
  }
  for (const { key, why } of sampling.refused) {
    ctx.note(`"${key}" dropped: it ${why}`);
    delete body[key];
  }

  const edits =
    native.body.context_management === undefined
      ? undefined
      : bedrockContextManagement(ctx.target.modelId, native.body.context_management, note);
  if (edits?.value) body.context_management = edits.value;
  // The beta of each edit kept: the edit without it is Bedrock's 400 "context_management: Extra inputs are not
  // permitted". A compaction block handed back carries its beta too, as Anthropic asks of every request holding one.
  const compacted = (body.messages as Json[]).some((m) => asBlocks(m.content).some((b) => isObject(b) && b.type === 'compaction'));
  const needed = [...(edits?.betas ?? []), ...(compacted ? [COMPACT_BETA] : [])];
  const { kept, dropped } = bedrockBetas(ctx.target.modelId, [...native.betas, ...needed]);
  for (const flag of dropped) ctx.note(`anthropic-beta "${flag}" dropped: Bedrock does not take it for ${ctx.target.modelId}`);
  if (kept.length > 0) body.anthropic_beta = kept;
  if (ctx.target.alias?.promptCaching === 'auto' && claudeCaching(ctx.target.modelId)) placeAutoCache(body, ctx);
  // Bedrock's limits, on every mark the body carries (the neutral request may not carry them all).
  checkCacheLimits(cacheMarksOf(body).map((m) => (m.ttl === '1h' || m.ttl === '5m' ? { ttl: m.ttl } : {})));
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Claude on invoke');
  return body;
}

/**
 * A structured-output schema for Claude (Converse `outputConfig.textFormat`, or `output_config.format` of
 * Claude's own body): the constraint keywords Claude refuses moved into descriptions (json-schema.ts
 * `claudeSchema`), each move logged at debug under `what`, the client's name for the schema.
 */
export function claudeOutputSchema(schema: Json, ctx: BuildContext, what: string): Json {
  const { schema: out, changed } = claudeSchema(schema);
  if (changed.length > 0) ctx.note(`${what}: keywords Claude's structured outputs refuse moved into descriptions (${changed.join('; ')})`);
  return out;
}

/** The `cache_control` values of Claude's body in Bedrock's processing order: tools, system, messages. */
function cacheMarksOf(body: Json): Json[] {
  const marks: Json[] = [];
  const collect = (blocks: unknown): void => {
    for (const block of Array.isArray(blocks) ? blocks : []) {
      if (!isObject(block)) continue;
      if (isObject(block.cache_control)) marks.push(block.cache_control);
      if (block.type === 'tool_result') collect(block.content);
    }
  };
  collect(body.tools);
  collect(body.system);
  for (const m of Array.isArray(body.messages) ? body.messages : []) if (isObject(m)) collect(m.content);
  return marks;
}

/** Bedrock's most cache points per request (docs/contract.md#request-rules). */
const MAX_CACHE_POINTS = 4;

/**
 * `prompt_caching: auto` on the client's own body (docs/contract.md#request-rules): `cache_control` on the
 * last tool, the system prompt and the last user turn, each only where the client put none, within
 * Bedrock's four points. A client that marks anything for an hour keeps its own marks only: a five-minute
 * point in front of an hour-long one would break Bedrock's TTL order.
 */
function placeAutoCache(body: Json, ctx: BuildContext): void {
  const marks = cacheMarksOf(body);
  if (marks.some((m) => m.ttl === '1h')) {
    ctx.note('prompt_caching auto: no points added, the client marks an hour-long cache itself');
    return;
  }
  let budget = MAX_CACHE_POINTS - marks.length;
  const placed: string[] = [];
  const mark = (): Json => ({ type: 'ephemeral' });
  const unmarked = (blocks: unknown[]): boolean => !blocks.some((b) => isObject(b) && isObject(b.cache_control));

  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  const lastTool: unknown = tools[tools.length - 1];
  if (isObject(lastTool) && unmarked(tools) && budget > 0) {
    body.tools = [...tools.slice(0, -1), { ...lastTool, cache_control: mark() }];
    budget--;
    placed.push('after the tools');
  }
  const system: unknown[] | undefined =
    typeof body.system === 'string' && body.system !== ''
      ? [{ type: 'text', text: body.system }]
      : Array.isArray(body.system)
        ? body.system
        : undefined;
  if (system && system.length > 0 && unmarked(system) && budget > 0) {
    const last: unknown = system[system.length - 1];
    if (isObject(last) && last.type === 'text') {
      body.system = [...system.slice(0, -1), { ...last, cache_control: mark() }];
      budget--;
      placed.push('after the system prompt');
    }
  }
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  const userAt = messages.findLastIndex((m) => isObject(m) && m.role === 'user');
  const user = messages[userAt];
  if (isObject(user) && budget > 0) {
    const content = [...asBlocks(user.content)];
    const lastAt = content.findLastIndex((b) => isObject(b) && b.type !== 'thinking' && b.type !== 'redacted_thinking');
    const last = content[lastAt];
    if (isObject(last) && unmarked(content)) {
      content[lastAt] = { ...last, cache_control: mark() };
      messages[userAt] = { ...user, content };
      placed.push('on the last user turn');
    }
  }
  if (placed.length > 0) ctx.note(`prompt_caching auto: cache points ${placed.join(', ')}`);
}

const THINKING_KEYS: ReadonlySet<string> = new Set(['type', 'budget_tokens', 'display']);
const DISPLAYS: ReadonlySet<unknown> = new Set(['summarized', 'omitted']);

/**
 * `thinking` with the members Bedrock takes: `display` is `summarized` or `omitted` there (the Agent SDK's
 * `updates` asks for thinking as it goes: summarized is the nearest), other members are dropped.
 */
function bedrockThinking(thinking: Json, ctx: BuildContext): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(thinking)) {
    if (!THINKING_KEYS.has(key)) ctx.note(`thinking.${key} dropped: Bedrock's Claude thinking does not take it`);
    else if (key === 'display' && !DISPLAYS.has(value)) {
      out.display = 'summarized';
      ctx.note(`thinking.display ${JSON.stringify(value)} sent as "summarized": Bedrock takes summarized or omitted`);
    } else out[key] = value;
  }
  return out;
}

/**
 * Which `role: "system"` messages the model no longer sees: one with `clear_at: "next_user_message"` is shown for the
 * user turn it follows only, and once a later `role: "user"` message exists it stays in the array unseen
 * (Anthropic's `BetaSystemMessageParam.clear_at`). Bedrock has no such member, so the sidecar leaves the message out;
 * sent as a reminder on every turn, it would keep telling the model what held one turn ago.
 */
export function clearedSystemMessages(messages: readonly unknown[]): (i: number) => boolean {
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (isObject(m) && m.role === 'user') lastUser = i;
  });
  return (i) => {
    const m = messages[i];
    return isObject(m) && m.role === 'system' && m.clear_at === 'next_user_message' && i < lastUser;
  };
}

function bedrockMessages(value: unknown, ctx: BuildContext): Json[] {
  const out: Array<{ role: string; content: unknown }> = [];
  // The messages of `out` whose content is already a list of their own (neighbours merged into it).
  const merged = new WeakSet<object>();
  const list = Array.isArray(value) ? value : [];
  const cleared = clearedSystemMessages(list);
  list.forEach((m: unknown, i) => {
    if (!isObject(m) || cleared(i)) return;
    let role = m.role;
    let content: unknown = m.content;
    for (const key of Object.keys(m)) {
      if (key !== 'role' && key !== 'content' && !(role === 'system' && key === 'clear_at'))
        ctx.note(`messages[${i}].${key} dropped: Bedrock's Claude messages take role and content only`);
    }
    if (role === 'system') {
      // What Claude Code's own Bedrock mode sends for it: user text in a <system-reminder>.
      role = 'user';
      const text =
        typeof content === 'string'
          ? content
          : Array.isArray(content)
            ? content.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).join('')
            : '';
      // A system message without text (Claude Code's `{content: [], output_config}`) says nothing to the model.
      if (text === '') return;
      content = [{ type: 'text', text: `<system-reminder>\n${text}\n</system-reminder>` }];
    } else if (Array.isArray(content)) {
      content = content.flatMap((b, j) => keepBlock(b, `messages[${i}].content[${j}]`, ctx));
    }
    const last = out[out.length - 1];
    if (last && last.role === role) {
      // Appended in place to the one list of merged blocks: copying it for each neighbour was quadratic, and a
      // body of 20,000 one-line user messages (0.6 MB) held the event loop, every other stream with it, for 10 s.
      if (!merged.has(last)) {
        last.content = [...asBlocks(last.content)];
        merged.add(last);
      }
      for (const block of asBlocks(content)) (last.content as unknown[]).push(block);
    } else out.push({ role: String(role), content });
  });
  return out;
}

/**
 * The messages with each tool-call id Claude refuses (tool-ids.ts: `^[a-zA-Z0-9_-]+$`) replaced by its alias,
 * in `tool_use.id` and `tool_result.tool_use_id` alike: a conversation a fallback or a model switch carried
 * through another model holds its ids (Kimi's `functions.Bash:0`), and Claude would refuse every later turn.
 * The blocks are bedrockMessages' copies; the ids Claude takes, every id of a conversation Claude alone
 * answered, go as they are.
 */
function claudeToolIds(messages: Json[], ctx: BuildContext): Json[] {
  const ids: string[] = [];
  const idOf = (block: Json): string | undefined =>
    block.type === 'tool_use' && typeof block.id === 'string'
      ? block.id
      : block.type === 'tool_result' && typeof block.tool_use_id === 'string'
        ? block.tool_use_id
        : undefined;
  for (const m of messages) for (const b of asBlocks(m.content)) if (isObject(b) && idOf(b) !== undefined) ids.push(idOf(b)!);
  const aliases = toolIdAliases([...new Set(ids)], CLAUDE_TOOL_IDS);
  if (!aliases) return messages;
  ctx.note(`tool-call ids Claude cannot take replaced: ${[...aliases].map(([own, sent]) => `${own} → ${sent}`).join(', ')}`);
  return messages.map((m) => {
    if (!Array.isArray(m.content)) return m;
    const content = (m.content as unknown[]).map((b) => {
      const id = isObject(b) ? idOf(b) : undefined;
      const alias = id === undefined ? undefined : aliases.get(id);
      if (alias === undefined) return b;
      return (b as Json).type === 'tool_use' ? { ...(b as Json), id: alias } : { ...(b as Json), tool_use_id: alias };
    });
    return { ...m, content };
  });
}

function asBlocks(content: unknown): unknown[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return Array.isArray(content) ? content : [];
}

/** A content block with only the keys Bedrock takes for its type; [] for a type it does not take. */
function keepBlock(block: unknown, at: string, ctx: BuildContext): Json[] {
  if (!isObject(block)) return [];
  const type = String(block.type);
  const keys = own(BLOCK_KEYS, type);
  if (!keys) {
    ctx.note(`${at} dropped: Bedrock's Claude body takes no "${type}" block`);
    return [];
  }
  if (type === 'thinking' || type === 'redacted_thinking') return [block]; // byte for byte, signature included
  if (type === 'compaction') {
    if (takesCompaction(ctx.target.modelId)) return [block]; // byte for byte, encrypted_content included
    const text = compactionAsText(block);
    ctx.note(
      `${at}: ${ctx.target.modelId} takes no compaction block on Bedrock: ${text ? 'its summary sent as text' : 'dropped (no summary)'}`,
    );
    return text ? [text] : [];
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(block)) {
    if (keys.has(key)) out[key] = value;
    else ctx.note(`${at}.${key} dropped: Bedrock's Claude body does not take it`);
  }
  if (type === 'tool_result' && Array.isArray(out.content)) {
    out.content = (out.content as unknown[]).filter((part, k) => {
      const partType = isObject(part) ? String(part.type) : 'none';
      if (TOOL_RESULT_PARTS.has(partType)) return true;
      ctx.note(`${at}.content[${k}] dropped: a tool result on Bedrock takes no "${partType}" part`);
      return false;
    });
  }
  return [out];
}

function keepTool(tool: unknown, i: number, ctx: BuildContext): unknown {
  if (!isObject(tool)) return tool;
  // Anthropic-defined tools (computer_…, bash_…) carry their own members: passed as they are.
  if (tool.type !== undefined && tool.type !== 'custom') return tool;
  const out: Json = {};
  for (const [key, value] of Object.entries(tool)) {
    if (key === 'input_schema' && isObject(value))
      out[key] = toolInputSchema(value, true, typeof tool.name === 'string' ? tool.name : `tools[${i}]`, (message) => ctx.note(message));
    else if (CUSTOM_TOOL_KEYS.has(key)) out[key] = value;
    else if (key === 'eager_input_streaming')
      ctx.note(
        `tools[${i}].eager_input_streaming dropped: Bedrock's Claude tools do not take it (a streamed Messages request asks for the ${FINE_GRAINED_TOOL_STREAMING} beta instead)`,
      );
    else ctx.note(`tools[${i}].${key} dropped: Bedrock's Claude tools do not take it`);
  }
  return out;
}
