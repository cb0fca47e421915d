/**
 * The Anthropic Messages request reader (docs/contract.md#anthropic-messages): a `POST /v1/messages` body and
 * its `anthropic-beta` header, read into the neutral request. The neutral fields carry what every family can
 * be sent (text, images, documents, tool use and results, thinking text, sampling, stop sequences,
 * max_tokens); the client's own body rides along (`ChatRequest.anthropic`) for Claude, which keeps it. Keys
 * the reader does not know are not errors here: they are returned as notes (logged, dropped), since Anthropic
 * clients cannot be configured to leave them out. Malformed input is still a 400 naming the field.
 */
import type { IncomingMessage } from 'node:http';
import { SidecarError } from '../../errors.ts';
import {
  takeSidecarParams,
  thinkingBlock,
  type AssistantBlockKind,
  type CacheMark,
  type ChatMessage,
  type ChatParams,
  type ContentPart,
  type DocumentFormat,
  type ReasoningBlock,
  type ReasoningEffort,
  type ResponseFormat,
  type TextPart,
  type ToolCall,
  type ToolDefinition,
} from '../../providers/request.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import { CLAUDE_BODY_KEYS, clearedSystemMessages } from '../../providers/anthropic-native.ts';
import { withEagerToolStreaming } from '../../providers/anthropic-betas.ts';
import { documentFormat, documentName, documentPart, overDocumentLimit } from '../../providers/documents.ts';
import { claudeOutputEffort } from '../../providers/claude-rules.ts';
import { takesAnthropicMessages } from '../../providers/index.ts';
import type { SurfaceRequest } from '../../server/surface.ts';

/**
 * Keys read into neutral fields (and kept in the native body); anything else is the native body's alone.
 * `output_format` is the structured-output beta's spelling of `output_config.format`.
 */
const READ: ReadonlySet<string> = new Set(['model', 'stream', ...CLAUDE_BODY_KEYS, 'metadata', 'output_format']);
/** Keys the Messages API defines that only Claude's own body can carry (dropped for other families). */
const NATIVE_ONLY = new Set(['context_management', 'service_tier', 'anthropic_beta', 'container', 'mcp_servers']);

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface MessagesRead extends SurfaceRequest {
  /** Content the neutral form cannot carry (URL documents, server tools …): fine for Claude, a 400 for others. */
  untranslatable: string[];
  /** What a translated body leaves out (a document's citations, context): logged for every target but Claude on invoke. */
  translationDrops: string[];
}

/** What reading the messages collects beside them. */
interface Reading {
  untranslatable: string[];
  translationDrops: string[];
  /** Documents read so far: the next unnamed one is `document <n + 1>`. */
  documents: number;
}

/**
 * The `max_tokens` a count's body is sent with, where the client's count_tokens body has none: 1, as Bedrock's
 * CountTokens examples send, or one more than a thinking budget. CountTokens reads the body InvokeModel would
 * (it refuses what InvokeModel refuses: claude-code #63532's `eager_input_streaming`), and InvokeModel wants
 * `max_tokens` above `thinking.budget_tokens`; no count depends on it.
 */
function countingMaxTokens(thinking: unknown): number {
  const budget = isObject(thinking) && thinking.type === 'enabled' ? thinking.budget_tokens : undefined;
  return typeof budget === 'number' && Number.isInteger(budget) && budget >= 1 ? budget + 1 : 1;
}

/**
 * `countOnly`: a count_tokens body, which has no `max_tokens` (the count needs one upstream: countingMaxTokens).
 */
export function readMessagesRequest(body: unknown, req: IncomingMessage | undefined, { countOnly = false } = {}): MessagesRead {
  if (!isObject(body)) throw bad('', 'the request body must be a JSON object');
  const sidecar = takeSidecarParams(body);
  const notes: string[] = [];
  const untranslatable: string[] = [];
  const reading: Reading = { untranslatable, translationDrops: [], documents: 0 };
  if (typeof body.model !== 'string' || body.model === '') throw bad('model', '"model" is required and must be a string');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw bad('stream', '"stream" must be a boolean');
  if (countOnly && body.max_tokens === undefined) body.max_tokens = countingMaxTokens(body.thinking);
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw bad('max_tokens', '"max_tokens" is required and must be a positive integer');
  }
  const params: ChatParams = { max_tokens: body.max_tokens };
  if (body.temperature !== undefined) params.temperature = numberIn('temperature', body.temperature, 0, 1);
  if (body.top_p !== undefined) params.top_p = numberIn('top_p', body.top_p, 0, 1);
  if (body.top_k !== undefined) {
    if (typeof body.top_k !== 'number' || !Number.isInteger(body.top_k) || body.top_k < 0)
      throw bad('top_k', '"top_k" must be a non-negative integer');
    if (body.top_k > 0) params.top_k = body.top_k;
  }
  if (body.stop_sequences !== undefined) {
    const stops = body.stop_sequences;
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string'))
      throw bad('stop_sequences', '"stop_sequences" must be a list of strings');
    const list = (stops as string[]).filter((s) => s !== '');
    if (list.length > 0) params.stop = list;
  }
  if (body.tools !== undefined) {
    const tools = readTools(body.tools, untranslatable);
    if (tools.length > 0) params.tools = tools;
  }
  if (body.tool_choice !== undefined) readToolChoice(body.tool_choice, params);
  const effort = reasoningEffort(body.thinking, body.output_config);
  if (effort !== undefined) params.reasoning_effort = effort;
  if (effort === undefined || effort === 'none') {
    // Effort without thinking: the answer's own effort, which a translated Claude body carries too.
    const alone = claudeOutputEffort(body.output_config);
    if (alone !== undefined) params.effort = alone;
  }
  const format = outputFormat(body);
  if (format !== undefined) params.response_format = format;
  const userId = isObject(body.metadata) ? body.metadata.user_id : undefined;
  if (typeof userId === 'string') params.user = userId;

  const messages: ChatMessage[] = [...readSystem(body.system), ...readMessages(body.messages, reading)];
  for (const key of Object.keys(body)) {
    if (!READ.has(key) && !NATIVE_ONLY.has(key)) notes.push(`"${key}" is not a Messages parameter the sidecar knows`);
  }
  // A tool's `eager_input_streaming: true` is asked of Bedrock as the fine-grained tool streaming flag.
  const betas = withEagerToolStreaming(
    [
      ...headerList(req?.headers['anthropic-beta']),
      ...(Array.isArray(body.anthropic_beta) ? body.anthropic_beta.filter((b): b is string => typeof b === 'string') : []),
    ],
    body.tools,
    body.stream === true && !countOnly,
  );
  // A translated Claude body (a converse alias, or a mask Claude's own body could not place: paths.ts) takes
  // them too, filtered per model; another family drops and logs them (the surface drops what it cannot take).
  if (betas.length > 0) params.anthropic_beta = betas;
  const native: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (key !== 'model' && key !== 'stream') native[key] = value;
  return {
    request: {
      model: body.model,
      stream: body.stream === true,
      messages,
      params,
      sidecar,
      anthropic: { body: native, betas, messages },
    },
    unknown: [],
    notes,
    untranslatable,
    translationDrops: reading.translationDrops,
  };
}

function headerList(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function numberIn(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw bad(key, `"${key}" must be a number from ${min} to ${max}`);
  }
  return value;
}

/**
 * Messages' structured output → the neutral `response_format`, so a translated body (a converse alias of
 * Claude, a fallback of another family) asks for the schema too: `output_config.format`
 * (`{type: "json_schema", schema}`), or the structured-output beta's top-level `output_format`, which older
 * SDKs still send (Anthropic's API takes it for a transition period; today's SDK moves it into
 * `output_config.format` itself). Anthropic's format has no name: Converse's is `response`.
 */
function outputFormat(body: Record<string, unknown>): ResponseFormat | undefined {
  const config = isObject(body.output_config) ? body.output_config : {};
  const current = config.format !== undefined && config.format !== null;
  const format = current ? config.format : body.output_format;
  if (format === undefined || format === null) return undefined;
  const at = current ? 'output_config.format' : 'output_format';
  if (!isObject(format) || format.type !== 'json_schema') throw bad(at, `"${at}.type" must be json_schema`);
  if (!isObject(format.schema)) throw bad(`${at}.schema`, `"${at}.schema" must be a JSON schema object`);
  return { type: 'json_schema', name: 'response', schema: format.schema };
}

/** Messages' thinking → the neutral reasoning effort other families are sent (Claude keeps its own). */
function reasoningEffort(thinking: unknown, outputConfig: unknown): ReasoningEffort | undefined {
  if (thinking === undefined || thinking === null) return undefined;
  if (!isObject(thinking)) throw bad('thinking', '"thinking" must be an object');
  switch (thinking.type) {
    case 'disabled':
    case 'between_tools':
      // `none`: off where the model can go without (or its least thinking: Claude 5 is sent `disabled`, Sonnet 5.5
      // `between_tools`); where it cannot, this surface drops it.
      return 'none';
    case 'adaptive':
      // Claude's effort levels are neutral efforts too; none given is Claude's default, high.
      return claudeOutputEffort(outputConfig) ?? 'high';
    case 'enabled': {
      const budget = thinking.budget_tokens;
      if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) {
        throw bad('thinking.budget_tokens', '"thinking.budget_tokens" must be an integer of at least 1024');
      }
      return budget <= 1024 ? 'minimal' : budget <= 4096 ? 'low' : budget <= 16384 ? 'medium' : 'high';
    }
    default:
      throw bad('thinking.type', '"thinking.type" must be enabled, adaptive, disabled or between_tools');
  }
}

/**
 * A block's `cache_control: {type: "ephemeral", ttl?}` as a neutral cache mark, so a family reached through
 * the translation caches too (Converse `cachePoint`; caching.ts drops and logs it for a family that cannot
 * cache) and Bedrock's limits are checked before the call. Another shape is left to Claude's own body.
 */
function cacheOf(block: Record<string, unknown>): CacheMark | undefined {
  const control = block.cache_control;
  if (!isObject(control) || control.type !== 'ephemeral') return undefined;
  return control.ttl === '5m' || control.ttl === '1h' ? { ttl: control.ttl } : {};
}

/** `part` with the block's cache mark, if it has one. */
function marked<T extends ContentPart>(part: T, block: Record<string, unknown>): T {
  const cache = cacheOf(block);
  return cache ? { ...part, cache } : part;
}

function readSystem(system: unknown): ChatMessage[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string')
    return system === '' ? [] : [{ role: 'system', content: [{ type: 'text', text: system, at: 'system' }], at: 'system' }];
  if (!Array.isArray(system)) throw bad('system', '"system" must be a string or a list of text blocks');
  const parts: TextPart[] = system.map((block, i) => {
    if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string')
      throw bad(`system[${i}]`, `system[${i}] must be a text block`);
    return marked<TextPart>({ type: 'text', text: block.text, at: `system[${i}]` }, block);
  });
  return parts.length > 0 ? [{ role: 'system', content: parts, at: 'system' }] : [];
}

function readMessages(value: unknown, reading: Reading): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw bad('messages', '"messages" is required and must be a non-empty list');
  const out: ChatMessage[] = [];
  const cleared = clearedSystemMessages(value);
  value.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw bad(at, `${at} must be an object`);
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(blocks)) throw bad(`${at}.content`, `${at}.content must be a string or a list of blocks`);
    // Where block j came from: a string content is the one text block.
    const blockAt = (j: number): string => (typeof m.content === 'string' ? `${at}.content` : `${at}.content[${j}]`);
    switch (m.role) {
      case 'system': {
        if (m.clear_at !== undefined && m.clear_at !== null && m.clear_at !== 'never' && m.clear_at !== 'next_user_message')
          throw bad(`${at}.clear_at`, `${at}.clear_at must be "next_user_message" or "never"`);
        // Read even when cleared: what the message carries is checked on every turn, as Anthropic's API does. One
        // with no text (Claude Code's `{content: [], output_config}`, a per-turn setting Bedrock has no place for)
        // says nothing to the model.
        const content = systemText(blocks, blockAt);
        if (!cleared(i) && content.length > 0) out.push({ role: 'system', content, at });
        return;
      }
      case 'user':
        readUser(blocks as unknown[], at, blockAt, out, reading);
        return;
      case 'assistant':
        out.push(readAssistant(blocks as unknown[], at, blockAt, reading.untranslatable));
        return;
      default:
        throw bad(`${at}.role`, `${at}.role must be user, assistant or system, got ${JSON.stringify(m.role)}`);
    }
  });
  return out;
}

/** The mid-conversation tool changes a `role: "system"` message may carry on Anthropic's API. */
const TOOL_CHANGES: ReadonlySet<unknown> = new Set(['tool_addition', 'tool_removal']);

/**
 * A mid-conversation `role: "system"` message's text. Its tool changes (`tool_addition`, `tool_removal`) are
 * refused with the code Anthropic's API gives where they are not supported: Bedrock takes them on no model
 * ("This model doesn't support the toolAddition field for system messages", stdapi-ai/stdapi.ai #104, probed
 * 2026-09-10), and Claude Code 2.1.332 falls back on that code to announcing late tools its other way, where any
 * other 400 failed every later turn of the session.
 */
function systemText(blocks: readonly unknown[], blockAt: (j: number) => string): TextPart[] {
  return blocks.flatMap((b, j) => {
    if (isObject(b) && TOOL_CHANGES.has(b.type)) {
      throw new SidecarError(
        'invalid_request_error',
        `${blockAt(j)}: ${String(b.type)} (a mid-conversation tool change) is not supported through Bedrock; declare the tools in "tools" instead`,
        { param: blockAt(j), errorCode: 'mid_conversation_tool_changes_not_supported' },
      );
    }
    if (!isObject(b) || typeof b.text !== 'string') throw bad(blockAt(j), `${blockAt(j)} must be a text block`);
    return b.text === '' ? [] : [{ type: 'text' as const, text: b.text, at: blockAt(j) }];
  });
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function image(block: Record<string, unknown>, where: string, untranslatable: string[]): ContentPart | undefined {
  const source = block.source;
  if (!isObject(source)) throw bad(`${where}.source`, `${where}.source is required`);
  if (
    source.type !== 'base64' ||
    typeof source.data !== 'string' ||
    typeof source.media_type !== 'string' ||
    !IMAGE_TYPES.has(source.media_type)
  ) {
    untranslatable.push(`${where} (an image that is not base64 png, jpeg, gif or webp)`);
    return undefined;
  }
  const format = source.media_type.slice('image/'.length) as 'png' | 'jpeg' | 'gif' | 'webp';
  return { type: 'image', mediaType: source.media_type, format, data: source.data, at: where };
}

/**
 * A `document` block → its neutral parts: a document (a base64 source of a format Bedrock reads, or a text
 * source as a TXT document), named from its `title` by Bedrock's name rule (else `document <n>`); a content
 * source's own text and image blocks, in place (Converse has no document made of blocks every family reads).
 * A source the translation cannot carry (a URL, a file id, a document over Bedrock's 4.5 MB) is noted in
 * `untranslatable` (Claude on invoke still gets it in its own body); `citations` and `context`, which no
 * translated answer carries, in `translationDrops`.
 */
function document(block: Record<string, unknown>, where: string, reading: Reading): ContentPart[] {
  const source = block.source;
  if (!isObject(source)) throw bad(`${where}.source`, `${where}.source is required`);
  if (block.title !== undefined && block.title !== null && typeof block.title !== 'string')
    throw bad(`${where}.title`, `${where}.title must be a string`);
  const untranslatable = (why: string): ContentPart[] => {
    reading.untranslatable.push(`${where} (${why})`);
    return [];
  };
  if (isObject(block.citations) && block.citations.enabled === true) reading.translationDrops.push(`${where}.citations`);
  if (typeof block.context === 'string' && block.context !== '') reading.translationDrops.push(`${where}.context`);
  // A document of `format` with base64 `data`, named and counted; what a translation cannot carry is noted.
  const take = (format: DocumentFormat, data: string): ContentPart[] => {
    if (data === '') return untranslatable('an empty document');
    if (overDocumentLimit(data)) return untranslatable("a document over 4.5 MB, Bedrock's limit for a translated document");
    const title = typeof block.title === 'string' ? block.title : undefined;
    const part = { ...documentPart(format, documentName(title, `document ${reading.documents + 1}`), data), at: where };
    reading.documents++;
    return [marked(part, block)];
  };
  switch (source.type) {
    case 'base64': {
      if (typeof source.data !== 'string') throw bad(`${where}.source.data`, `${where}.source.data must be a base64 string`);
      if (typeof source.media_type !== 'string') throw bad(`${where}.source.media_type`, `${where}.source.media_type is required`);
      const format = documentFormat(source.media_type);
      if (format === undefined) return untranslatable(`a ${source.media_type} document, which Bedrock does not read as a document`);
      return take(format, source.data.replace(/\s+/g, ''));
    }
    case 'text': {
      if (typeof source.data !== 'string') throw bad(`${where}.source.data`, `${where}.source.data must be a string`);
      if (source.media_type !== undefined && source.media_type !== 'text/plain')
        return untranslatable(`a text document of type ${JSON.stringify(source.media_type)}, not text/plain`);
      return take('txt', Buffer.from(source.data, 'utf8').toString('base64'));
    }
    case 'content': {
      const blocks = typeof source.content === 'string' ? [{ type: 'text', text: source.content }] : source.content;
      if (!Array.isArray(blocks)) throw bad(`${where}.source.content`, `${where}.source.content must be a string or a list of blocks`);
      const parts = (blocks as unknown[]).flatMap((b, k): ContentPart[] => {
        const at = typeof source.content === 'string' ? `${where}.source.content` : `${where}.source.content[${k}]`;
        if (isObject(b) && b.type === 'text' && typeof b.text === 'string')
          return b.text === '' ? [] : [{ type: 'text', text: b.text, at }];
        if (isObject(b) && b.type === 'image') {
          const picture = image(b, at, reading.untranslatable);
          return picture ? [picture] : [];
        }
        reading.untranslatable.push(`${at} (a ${isObject(b) ? String(b.type) : 'non-block'} part in a document)`);
        return [];
      });
      const last = parts[parts.length - 1];
      if (last) parts[parts.length - 1] = marked(last, block);
      return parts;
    }
    case 'url':
      return untranslatable('a document from a URL');
    case 'file':
      return untranslatable('a document by file id');
    default:
      return untranslatable(`a document with a ${JSON.stringify(source.type)} source`);
  }
}

/** A user turn: tool results become neutral tool messages (in order), the rest one user message. */
function readUser(blocks: readonly unknown[], at: string, blockAt: (j: number) => string, out: ChatMessage[], reading: Reading): void {
  const { untranslatable } = reading;
  let parts: ContentPart[] = [];
  const flush = (): void => {
    if (parts.length > 0) out.push({ role: 'user', content: parts, at });
    parts = [];
  };
  blocks.forEach((b, j) => {
    const where = blockAt(j);
    if (!isObject(b)) throw bad(where, `${where} must be a content block`);
    switch (b.type) {
      case 'text':
        if (typeof b.text !== 'string') throw bad(`${where}.text`, `${where}.text must be a string`);
        if (b.text !== '') parts.push(marked<TextPart>({ type: 'text', text: b.text, at: where }, b));
        return;
      case 'image': {
        const part = image(b, where, untranslatable);
        if (part) parts.push(marked(part, b));
        return;
      }
      case 'document':
        parts.push(...document(b, where, reading));
        return;
      case 'tool_result': {
        if (typeof b.tool_use_id !== 'string' || b.tool_use_id === '')
          throw bad(`${where}.tool_use_id`, `${where}.tool_use_id is required`);
        flush();
        const content = typeof b.content === 'string' ? [{ type: 'text', text: b.content }] : Array.isArray(b.content) ? b.content : [];
        const result: ContentPart[] = [];
        // One block upstream: a mark on it or on any of its parts is a point after the whole result.
        let cache = cacheOf(b);
        // Images, documents and `is_error` go on where the target reads them (Converse's toolResult content
        // and status on Claude and Nova); for another family the request rules drop and log them
        // (checkToolResults), and the result's text goes on.
        (content as unknown[]).forEach((part, k) => {
          if (isObject(part)) cache ??= cacheOf(part);
          const partAt = typeof b.content === 'string' ? `${where}.content` : `${where}.content[${k}]`;
          if (isObject(part) && part.type === 'text' && typeof part.text === 'string')
            result.push({ type: 'text', text: part.text, at: partAt });
          else if (isObject(part) && part.type === 'image') {
            const picture = image(part, `${where}.content[${k}]`, untranslatable);
            if (picture) result.push(picture);
          } else if (isObject(part) && part.type === 'document') {
            // Its cache mark is the whole result's (above).
            for (const { cache: _mark, ...read } of document(part, `${where}.content[${k}]`, reading)) result.push(read);
          } else if (isObject(part) && part.type === 'tool_reference')
            return; // what a tool search loaded: nothing to say
          else untranslatable.push(`${where}.content[${k}] (a ${isObject(part) ? String(part.type) : 'non-block'} part in a tool result)`);
        });
        out.push({
          role: 'tool',
          toolCallId: b.tool_use_id,
          content: result,
          ...(b.is_error === true ? { error: true } : {}),
          ...(cache ? { cache } : {}),
          at: where,
        });
        return;
      }
      default:
        untranslatable.push(`${where} (a "${String(b.type)}" block)`);
    }
  });
  flush();
}

function readAssistant(blocks: readonly unknown[], at: string, blockAt: (j: number) => string, untranslatable: string[]): ChatMessage {
  const content: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  // Each thinking block keeps its own signature and its place among the text and tool use.
  const reasoning: ReasoningBlock[] = [];
  const order: AssistantBlockKind[] = [];
  let cache: CacheMark | undefined;
  blocks.forEach((b, j) => {
    const where = blockAt(j);
    if (!isObject(b)) throw bad(where, `${where} must be a content block`);
    switch (b.type) {
      case 'text':
        if (typeof b.text !== 'string') throw bad(`${where}.text`, `${where}.text must be a string`);
        if (b.text !== '') {
          content.push(marked<TextPart>({ type: 'text', text: b.text, at: where }, b));
          order.push('text');
        }
        return;
      case 'tool_use':
        if (typeof b.id !== 'string' || typeof b.name !== 'string') throw bad(where, `${where} must have an id and a name`);
        toolCalls.push({ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}), at: where });
        order.push('tool');
        cache = cacheOf(b) ?? cache; // a point after the tool calls: the message's own mark
        return;
      case 'thinking': {
        const block = thinkingBlock(b.thinking, b.signature);
        if (block) {
          reasoning.push(block);
          order.push('reasoning');
        }
        return;
      }
      case 'redacted_thinking':
        // Opaque: only Claude reads it back (Converse carries it as redactedContent).
        if (typeof b.data === 'string') {
          reasoning.push({ redacted: b.data });
          order.push('reasoning');
        }
        return;
      case 'compaction':
        // Claude's own body carries the block byte for byte; a translated body (a fallback, a converse alias) its
        // summary, read from where a mask can be written back (`content`). `content: null` is a failed compaction.
        if (b.content !== undefined && b.content !== null && typeof b.content !== 'string')
          throw bad(`${where}.content`, `${where}.content must be a string or null`);
        if (typeof b.content === 'string' && b.content !== '') {
          content.push({ type: 'text', text: b.content, at: `${where}.content` });
          order.push('text');
        }
        return;
      default:
        untranslatable.push(`${where} (a "${String(b.type)}" block)`);
    }
  });
  // An assistant turn with nothing the neutral form carries (only thinking, say) still takes its place.
  if (content.length === 0 && toolCalls.length === 0) content.push({ type: 'text', text: '' });
  return {
    role: 'assistant',
    content,
    toolCalls,
    ...(reasoning.length > 0 ? { reasoning } : {}),
    order,
    ...(cache ? { cache } : {}),
    at,
  };
}

function readTools(value: unknown, untranslatable: string[]): ToolDefinition[] {
  if (!Array.isArray(value)) throw bad('tools', '"tools" must be a list');
  return value.flatMap((tool, i) => {
    if (!isObject(tool) || typeof tool.name !== 'string') throw bad(`tools[${i}]`, `tools[${i}] must be a tool with a name`);
    if (tool.type !== undefined && tool.type !== 'custom') {
      untranslatable.push(`tools[${i}] (the Anthropic-defined tool ${JSON.stringify(tool.type)})`);
      return [];
    }
    const schema = tool.input_schema ?? { type: 'object', properties: {} };
    if (!isObject(schema)) throw bad(`tools[${i}].input_schema`, `tools[${i}].input_schema must be a JSON schema object`);
    if (tool.description !== undefined && typeof tool.description !== 'string') {
      throw bad(`tools[${i}].description`, `tools[${i}].description must be a string`);
    }
    const cache = cacheOf(tool);
    return [{ name: tool.name, description: tool.description, parameters: schema, ...(cache ? { cache } : {}) }];
  });
}

function readToolChoice(value: unknown, params: ChatParams): void {
  if (!isObject(value)) throw bad('tool_choice', '"tool_choice" must be an object');
  if (value.disable_parallel_tool_use === true) params.parallel_tool_calls = false;
  switch (value.type) {
    case 'auto':
      params.tool_choice = { type: 'auto' };
      return;
    case 'any':
      params.tool_choice = { type: 'required' };
      return;
    case 'none':
      params.tool_choice = { type: 'none' };
      return;
    case 'tool':
      if (typeof value.name !== 'string') throw bad('tool_choice.name', '"tool_choice.name" is required for type "tool"');
      params.tool_choice = { type: 'function', name: value.name };
      return;
    default:
      throw bad('tool_choice.type', '"tool_choice.type" must be auto, any, tool or none');
  }
}

/**
 * Content only Claude's own body can carry is a 400 naming it for a target that gets the translation (every
 * target but Claude on invoke): never dropped silently, since it is the client's content. What the
 * translation leaves out of a document (citations, context: how the answer cites, not what it reads) is
 * logged through `note` for such a target.
 */
export function checkTranslatable(read: SurfaceRequest, target: ModelTarget, note: (message: string) => void): void {
  const { untranslatable, translationDrops } = read as MessagesRead;
  const native = takesAnthropicMessages(target.route, target.family);
  if (native) return;
  if (read.request.anthropic?.body.context_management !== undefined)
    note(
      `"context_management" dropped: ${target.family ?? 'this model'} on the ${target.route} route gets the translated body (Bedrock takes context editing and compaction on Claude's InvokeModel only)`,
    );
  for (const field of translationDrops) {
    note(
      `${field} dropped: ${target.family ?? 'this model'} on the ${target.route} route gets the translated body, which carries no document ${field.slice(field.lastIndexOf('.') + 1)}`,
    );
  }
  if (untranslatable.length === 0) return;
  const first = untranslatable[0]!;
  throw new SidecarError(
    'invalid_request_error',
    `${first} cannot be sent to ${target.family ?? 'this model'} on the ${target.route} route: only Claude on invoke takes it`,
    { param: first.split(' ')[0]! },
  );
}
