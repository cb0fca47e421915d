/**
 * The OpenAI Responses request reader (docs/contract.md#openai-responses): a `POST /v1/responses` body →
 * the neutral request, plus what only this surface needs (the store flag, what to echo in the response
 * object, which tools are custom or namespaced so their calls render back as the client declared them).
 *
 * `input` is a string or a list of items: messages (`developer` / `system` become system text, `user`
 * parts `input_text` / `input_image` / `input_file`, `assistant` `output_text`), `function_call` and
 * `function_call_output` (a string, or text, image and file parts: Codex's `view_image`), `custom_tool_call` and
 * its output, `reasoning` (its text and, inside our own
 * `encrypted_content`, Claude's signature, so thinking continues across turns), Codex's
 * `additional_tools` item, `item_reference` to an output item this sidecar stored (the AI SDK's way to
 * send its earlier answers back when it stores), and Codex's remote compaction: a last `compaction_trigger`
 * item asks for a summary, a `compaction` item this sidecar answered stands for what it summarised
 * (compaction.ts). Tools: `function`, `custom` (free text: one string argument `input`),
 * `namespace` (nested tools, named `<namespace>__<tool>` upstream). A built-in tool Bedrock cannot run
 * (`web_search`, `file_search`, …) is a 400 naming it, or dropped with drop_params.
 *
 * `cache_control: {type: "ephemeral", ttl?}` on a part, an item or a tool is a prompt-cache mark, as on Chat
 * Completions, and so is OpenAI's `prompt_cache_breakpoint` on a part; `prompt_cache_options` and
 * `prompt_cache_retention` are read as there (src/providers/hints.ts; the rules: src/providers/caching.ts).
 *
 * Hints with no Bedrock meaning are accepted and dropped: `text.verbosity`, `prompt_cache_key`,
 * `safety_identifier`, `client_metadata`, `truncation: "disabled"`, `reasoning.summary`, `include`.
 */
import { SidecarError } from '../../errors.ts';
import {
  REASONING_EFFORTS,
  SIDECAR_PARAMS,
  takeSidecarParams,
  thinkingBlock,
  type CacheMark,
  type ChatMessage,
  type ChatParams,
  type ChatRequest,
  type ContentPart,
  type ReasoningEffort,
  type ResponseFormat,
  type TextPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from '../../providers/request.ts';
import { documentFromDataUrl } from '../../providers/documents.ts';
import { readCacheControl, readPartCache, readPromptCacheOptions, readServiceTier } from '../../providers/hints.ts';
import { compactionMessage, compactionRequestMessage, readContextManagement } from './compaction.ts';
import { openReasoning, storedItem, type StoredResponse } from './store.ts';

/** How a tool the client declared travels: plain function, free-text custom tool, or a namespaced function. */
export interface ToolShape {
  kind: 'function' | 'custom';
  /** The client's name, and its namespace for a namespaced tool. */
  name: string;
  namespace?: string;
}

export interface ResponsesExtras {
  store: boolean;
  previousResponseId: string | undefined;
  instructions: string | null;
  /** Echoed in the response object. */
  echo: Record<string, unknown>;
  /** Bedrock tool name → how the client declared it. */
  tools: Map<string, ToolShape>;
  /** `include: ["reasoning.encrypted_content"]`: reasoning items carry our encrypted_content. */
  includeEncrypted: boolean;
  /** The conversation this request sends, for the store (previous turns included). */
  messages: ChatMessage[];
  /** The input ended with a `compaction_trigger`: the answer is one `compaction` item (compaction.ts). */
  compaction: boolean;
}

const ENVELOPE = new Set([
  'model',
  'input',
  'stream',
  'instructions',
  'previous_response_id',
  'store',
  'include',
  'background',
  'prompt_cache_options',
  'prompt_cache_retention',
  'context_management',
]);
const DROPPED_HINTS = new Set(['prompt_cache_key', 'safety_identifier', 'client_metadata', 'stream_options']);
const BUILT_IN_TOOLS = new Set([
  'web_search',
  'web_search_preview',
  'web_search_2025_08_26',
  'file_search',
  'computer',
  'computer_use_preview',
  'code_interpreter',
  'image_generation',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'tool_search',
]);
const IMAGE_DATA_URL = /^data:image\/(png|jpeg|jpg|gif|webp);base64,([A-Za-z0-9+/=\s]+)$/;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

export interface ReadOptions {
  /** A stored response by id (previous_response_id, and reasoning items sent by id only). */
  lookup(id: string): StoredResponse | undefined;
  /** drop_params in force for this request's alias: built-in tools are dropped (logged) instead of refused. */
  dropBuiltIns: boolean;
  note(message: string): void;
}

export function readResponsesRequest(
  body: unknown,
  options: ReadOptions,
): { request: ChatRequest; unknown: string[]; extras: ResponsesExtras } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('', 'the request body must be a JSON object');
  const raw = body as Record<string, unknown>;
  const sidecar = takeSidecarParams(raw);
  if (typeof raw.model !== 'string' || raw.model === '') throw bad('model', '"model" is required and must be a string');
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== 'boolean') throw bad('stream', '"stream" must be a boolean');
  if (raw.background === true) {
    throw bad('background', '"background": true is not supported: the sidecar answers synchronously (stream, or wait for the answer)');
  }
  if (raw.store !== undefined && raw.store !== null && typeof raw.store !== 'boolean') throw bad('store', '"store" must be a boolean');
  if (raw.instructions !== undefined && raw.instructions !== null && typeof raw.instructions !== 'string') {
    throw bad('instructions', '"instructions" must be a string');
  }
  const include = raw.include ?? [];
  if (!Array.isArray(include) || include.some((v) => typeof v !== 'string')) throw bad('include', '"include" must be a list of strings');
  const cache = readPromptCacheOptions(raw.prompt_cache_options, raw.prompt_cache_retention);
  for (const hint of cache.hints) options.note(hint);
  const dropped = readContextManagement(raw.context_management);
  if (dropped !== undefined) options.note(dropped);

  const tools = new Map<string, ToolShape>();
  const params: ChatParams = {};
  const unknown: string[] = [];
  const echo: Record<string, unknown> = {};

  // Previous turns first: the stored conversation of previous_response_id, then this request's input.
  let previousResponseId: string | undefined;
  const messages: ChatMessage[] = [];
  // System text, each item its own message: the instructions, then the developer and system items of the
  // earlier turns and of this input (Bedrock takes one system prompt: they go first, in that order).
  const system: ChatMessage[] = [];
  if (raw.previous_response_id !== undefined && raw.previous_response_id !== null) {
    if (typeof raw.previous_response_id !== 'string') throw bad('previous_response_id', '"previous_response_id" must be a string');
    previousResponseId = raw.previous_response_id;
    const previous = options.lookup(previousResponseId);
    if (!previous) {
      throw new SidecarError(
        'not_found',
        `previous_response_id "${previousResponseId}" is not in this sidecar's response store (never stored, expired or evicted, or kept by another pod)`,
        { param: 'previous_response_id' },
      );
    }
    // The stored turns without their cache marks: each request marks its own points (at most four). As at
    // OpenAI, the earlier input items go on (developer and system messages too), the earlier request's
    // top-level instructions (its first message, when it had some) do not.
    const earlier = previous.messages.map(unmarked);
    const hadInstructions = typeof previous.response.instructions === 'string' && previous.response.instructions !== '';
    for (const m of hadInstructions && earlier[0]?.role === 'system' ? earlier.slice(1) : earlier)
      (m.role === 'system' ? system : messages).push(m);
  }
  const instructions = typeof raw.instructions === 'string' ? raw.instructions : null;
  if (instructions)
    system.unshift({ role: 'system', content: [{ type: 'text', text: instructions, at: 'instructions' }], at: 'instructions' });

  const declared: unknown[] = [];
  if (raw.tools !== undefined && raw.tools !== null) {
    if (!Array.isArray(raw.tools)) throw bad('tools', '"tools" must be a list');
    declared.push(...(raw.tools as unknown[]).map((t, i) => ({ tool: t, at: `tools[${i}]` })));
  }
  const read = { compaction: false };
  const input = readInput(raw.input, options, system, declared, read);
  messages.push(...input);
  messages.unshift(...system);
  if (!messages.some((m) => m.role === 'user' || m.role === 'tool')) {
    throw bad('input', '"input" must hold at least one user message or tool output');
  }
  const definitions = readTools(declared as Array<{ tool: unknown; at: string }>, tools, options);
  if (definitions.length > 0) params.tools = definitions;

  for (const [key, value] of Object.entries(raw)) {
    if (ENVELOPE.has(key) || key === 'tools' || (SIDECAR_PARAMS as readonly string[]).includes(key)) continue;
    if (value === null || value === undefined) continue;
    if (DROPPED_HINTS.has(key)) {
      options.note(`dropped the hint "${key}" (no Bedrock meaning)`);
      continue;
    }
    if (!readParam(params, key, value, tools, echo, options)) unknown.push(key);
  }
  const named = params.tool_choice?.type === 'function' ? params.tool_choice.name : undefined;
  if (named !== undefined && !tools.has(named))
    throw bad('tool_choice', `"tool_choice" names the tool "${named}", which is not in "tools"`);
  // A summary, not a step of the task: the tools stay declared (the history's calls name them), none is called.
  if (read.compaction) params.tool_choice = { type: 'none' };

  const stream = raw.stream === true;
  const request: ChatRequest = {
    model: raw.model,
    stream,
    messages,
    params,
    sidecar,
    ...(cache.asked ? { promptCache: cache.asked } : {}),
  };
  return {
    request,
    unknown,
    extras: {
      store: raw.store !== false,
      previousResponseId,
      instructions,
      echo,
      tools,
      includeEncrypted: include.includes('reasoning.encrypted_content'),
      messages,
      compaction: read.compaction,
    },
  };
}

function readParam(
  params: ChatParams,
  key: string,
  value: unknown,
  tools: Map<string, ToolShape>,
  echo: Record<string, unknown>,
  options: ReadOptions,
): boolean {
  switch (key) {
    case 'max_output_tokens':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
        throw bad(key, '"max_output_tokens" must be a positive integer');
      params.max_tokens = value;
      echo.max_output_tokens = value;
      return true;
    case 'temperature':
      params.temperature = numberIn(key, value, 0, 2);
      echo.temperature = value;
      return true;
    case 'top_p':
      params.top_p = numberIn(key, value, 0, 1);
      echo.top_p = value;
      return true;
    case 'parallel_tool_calls':
      if (typeof value !== 'boolean') throw bad(key, '"parallel_tool_calls" must be a boolean');
      params.parallel_tool_calls = value;
      echo.parallel_tool_calls = value;
      return true;
    case 'tool_choice':
      params.tool_choice = readToolChoice(value, tools);
      echo.tool_choice = value;
      return true;
    case 'user':
      if (typeof value !== 'string') throw bad(key, '"user" must be a string');
      params.user = value;
      echo.user = value;
      return true;
    case 'metadata':
      if (typeof value !== 'object' || Array.isArray(value) || Object.values(value as object).some((v) => typeof v !== 'string')) {
        throw bad(key, '"metadata" must be an object of string values');
      }
      params.metadata = value as Record<string, string>;
      echo.metadata = value;
      return true;
    case 'reasoning': {
      if (typeof value !== 'object' || Array.isArray(value)) throw bad(key, '"reasoning" must be an object');
      const r = value as Record<string, unknown>;
      if (r.effort !== undefined && r.effort !== null) {
        if (!REASONING_EFFORTS.includes(r.effort as ReasoningEffort))
          throw bad('reasoning.effort', `"reasoning.effort" must be one of ${REASONING_EFFORTS.join(', ')}`);
        params.reasoning_effort = r.effort as ReasoningEffort;
      }
      // summary / context / generate_summary: how OpenAI's own models present reasoning; nothing to ask Bedrock.
      echo.reasoning = { effort: r.effort ?? null, summary: r.summary ?? null };
      return true;
    }
    case 'text': {
      if (typeof value !== 'object' || Array.isArray(value)) throw bad(key, '"text" must be an object');
      const t = value as Record<string, unknown>;
      if (t.format !== undefined && t.format !== null) {
        const format = readFormat(t.format);
        if (format.type !== 'text') params.response_format = format;
      }
      if (t.verbosity !== undefined) options.note('dropped the hint "text.verbosity" (no Bedrock meaning)');
      echo.text = { format: t.format ?? { type: 'text' } };
      return true;
    }
    case 'truncation':
      if (value === 'disabled') return true; // what Bedrock does anyway: a prompt too long is an error, never cut
      throw bad(key, `"truncation": ${JSON.stringify(value)} is not supported: Bedrock never truncates a conversation (use "disabled")`);
    case 'service_tier': {
      // `auto` asks for nothing; the others become Bedrock's tier (docs/contract.md#request-rules).
      if (value === 'auto') return true;
      params.service_tier = readServiceTier(value);
      return true;
    }
    default:
      return false;
  }
}

function numberIn(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw bad(key, `"${key}" must be a number from ${min} to ${max}`);
  return value;
}

function readFormat(value: unknown): ResponseFormat {
  const f = value as Record<string, unknown> | null;
  if (f?.type === 'text' || f?.type === 'json_object') return { type: f.type };
  if (f?.type === 'json_schema') {
    if (typeof f.name !== 'string' || typeof f.schema !== 'object' || f.schema === null) {
      throw bad('text.format', '"text.format" of type json_schema needs "name" and a "schema" object');
    }
    return {
      type: 'json_schema',
      name: f.name,
      schema: f.schema as Record<string, unknown>,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      ...(typeof f.strict === 'boolean' ? { strict: f.strict } : {}),
    };
  }
  throw bad('text.format', '"text.format.type" must be text, json_object or json_schema');
}

function readToolChoice(value: unknown, tools: Map<string, ToolShape>): ToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  const v = value as Record<string, unknown> | null;
  if (v && (v.type === 'function' || v.type === 'custom') && typeof v.name === 'string') {
    const upstream = [...tools.entries()].find(([, shape]) => shape.name === v.name && shape.namespace === undefined)?.[0] ?? v.name;
    return { type: 'function', name: upstream };
  }
  if (v?.type === 'allowed_tools' && (v.mode === 'auto' || v.mode === 'required')) return { type: v.mode };
  throw bad('tool_choice', '"tool_choice" must be "auto", "none", "required" or {"type":"function","name":…}');
}

/** Free-text input of a custom tool travels as one string argument. */
const CUSTOM_PARAMETERS = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The tool input, as free text in the format the tool description asks for.' } },
  required: ['input'],
};

function readTools(declared: Array<{ tool: unknown; at: string }>, shapes: Map<string, ToolShape>, options: ReadOptions): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  const add = (t: Record<string, unknown>, at: string, namespace: string | undefined): void => {
    const type = t.type;
    if (type === 'function' || type === 'custom') {
      if (typeof t.name !== 'string' || t.name === '') throw bad(`${at}.name`, `${at}.name is required`);
      const upstream = namespace ? `${namespace}__${t.name}` : t.name;
      if (!TOOL_NAME.test(upstream)) throw bad(`${at}.name`, `${at}.name "${upstream}" must match [a-zA-Z0-9_-]{1,64} for Bedrock`);
      if (t.description !== undefined && t.description !== null && typeof t.description !== 'string')
        throw bad(`${at}.description`, `${at}.description must be a string`);
      let description = typeof t.description === 'string' ? t.description : undefined;
      let parameters: Record<string, unknown>;
      if (type === 'custom') {
        const format = t.format as Record<string, unknown> | undefined;
        // The grammar cannot be enforced by Bedrock: it goes to the model as part of the description.
        if (format?.type === 'grammar' && typeof format.definition === 'string') {
          description =
            `${description ?? ''}\n\nThe input must follow this ${typeof format.syntax === 'string' ? format.syntax : ''} grammar:\n${format.definition}`.trim();
        }
        parameters = CUSTOM_PARAMETERS;
      } else {
        const p = t.parameters ?? { type: 'object', properties: {} };
        if (typeof p !== 'object' || p === null || Array.isArray(p))
          throw bad(`${at}.parameters`, `${at}.parameters must be a JSON schema object`);
        parameters = p as Record<string, unknown>;
      }
      shapes.set(upstream, { kind: type, name: t.name, ...(namespace ? { namespace } : {}) });
      const cache = readCacheControl(t.cache_control, `${at}.cache_control`);
      out.push({ name: upstream, description, parameters, ...(cache ? { cache } : {}) });
      return;
    }
    if (type === 'namespace') {
      if (typeof t.name !== 'string' || !Array.isArray(t.tools)) throw bad(at, `${at}: a namespace tool needs "name" and "tools"`);
      t.tools.forEach((inner, j) => add(inner as Record<string, unknown>, `${at}.tools[${j}]`, t.name as string));
      return;
    }
    if (typeof type === 'string' && BUILT_IN_TOOLS.has(type)) {
      if (options.dropBuiltIns) {
        options.note(`dropped the built-in tool "${type}" (Bedrock cannot run it; drop_params)`);
        return;
      }
      throw new SidecarError(
        'unsupported_parameter',
        `${at}: the built-in tool "${type}" cannot run on Bedrock; remove it (or set drop_params to drop it)`,
        { param: at },
      );
    }
    throw bad(at, `${at}: tool type ${JSON.stringify(type)} is not supported (function, custom, namespace)`);
  };
  for (const { tool, at } of declared) {
    if (typeof tool !== 'object' || tool === null || Array.isArray(tool)) throw bad(at, `${at} must be an object`);
    add(tool as Record<string, unknown>, at, undefined);
  }
  return out;
}

function readInput(
  value: unknown,
  options: ReadOptions,
  system: ChatMessage[],
  declared: unknown[],
  read: { compaction: boolean },
): ChatMessage[] {
  if (typeof value === 'string') {
    if (value === '') throw bad('input', '"input" must not be empty');
    return [{ role: 'user', content: [{ type: 'text', text: value, at: 'input' }], at: 'input' }];
  }
  if (!Array.isArray(value)) throw bad('input', '"input" is required: a string or a list of items');
  const out: ChatMessage[] = [];
  // The assistant turn being assembled: its text, tool calls and reasoning, from consecutive items.
  let assistant: Extract<ChatMessage, { role: 'assistant' }> | undefined;
  const flush = (): void => {
    if (assistant) out.push(assistant);
    assistant = undefined;
  };
  // Named by the item that opened it.
  const turn = (at: string): Extract<ChatMessage, { role: 'assistant' }> =>
    (assistant ??= { role: 'assistant', content: [], toolCalls: [], at });
  const readItem = (item: unknown, at: string): void => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(at, `${at} must be an object`);
    const it = item as Record<string, unknown>;
    const type = it.type ?? (it.role !== undefined ? 'message' : undefined);
    // An item's own mark: a cache point after the whole item.
    const cache = readCacheControl(it.cache_control, `${at}.cache_control`);
    switch (type) {
      case 'message': {
        const role = it.role;
        if (role === 'developer' || role === 'system') {
          // Instructions, wherever they stand: Bedrock takes one system prompt.
          system.push({ role: 'system', content: markLast(textOf(it.content, at), cache), at });
          return;
        }
        if (role === 'user') {
          flush();
          out.push({ role: 'user', content: userParts(it.content, at), ...(cache ? { cache } : {}), at });
          return;
        }
        if (role === 'assistant') {
          const text = markLast(textOf(it.content, at), cache);
          if (turn(at).toolCalls.length > 0) flush();
          const current = turn(at);
          current.content.push(...text);
          (current.order ??= []).push(...text.map(() => 'text' as const));
          return;
        }
        throw bad(`${at}.role`, `${at}.role must be user, assistant, system or developer`);
      }
      case 'function_call':
      case 'custom_tool_call': {
        const callId = it.call_id;
        if (typeof callId !== 'string' || typeof it.name !== 'string')
          throw bad(at, `${at}: a ${type === 'function_call' ? 'function_call' : 'custom_tool_call'} needs "call_id" and "name"`);
        const name = typeof it.namespace === 'string' ? `${it.namespace}__${it.name}` : it.name;
        let args: string;
        if (type === 'function_call') {
          if (typeof it.arguments !== 'string') throw bad(`${at}.arguments`, `${at}.arguments must be a string`);
          args = it.arguments;
        } else {
          if (typeof it.input !== 'string') throw bad(`${at}.input`, `${at}.input must be a string`);
          args = JSON.stringify({ input: it.input });
        }
        const call: ToolCall = { id: callId, name, arguments: args, at };
        const current = turn(at);
        current.toolCalls.push(call);
        (current.order ??= []).push('tool');
        if (cache) current.cache = cache; // a point after the turn's tool calls
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        if (typeof it.call_id !== 'string') throw bad(`${at}.call_id`, `${at}.call_id must be a string`);
        flush();
        out.push({ role: 'tool', toolCallId: it.call_id, content: toolOutput(it.output, at), ...(cache ? { cache } : {}), at });
        return;
      }
      case 'reasoning': {
        // Claude's thinking comes back: our encrypted_content (the text and its signature), else the stored
        // item by id (the Agents SDK re-sends reasoning by id only), else its summary text, unsigned.
        const opened = typeof it.encrypted_content === 'string' ? openReasoning(it.encrypted_content) : undefined;
        const stored = opened ?? (typeof it.id === 'string' ? options.lookup(it.id)?.reasoning.get(it.id) : undefined);
        const summary = Array.isArray(it.summary)
          ? it.summary
              .map((s) => (s as { text?: unknown }).text)
              .filter((t): t is string => typeof t === 'string')
              .join('\n\n')
          : '';
        // Each item one block, with its own signature, where it stands in the turn.
        const block =
          stored?.redacted !== undefined ? { redacted: stored.redacted } : thinkingBlock(stored?.text ?? summary, stored?.signature);
        if (block) {
          const current = turn(at);
          (current.reasoning ??= []).push(block);
          (current.order ??= []).push('reasoning');
        }
        return;
      }
      case 'additional_tools': {
        // Codex puts its tools in the input (its code-mode models): the same tool list, read the same way.
        if (!Array.isArray(it.tools)) throw bad(`${at}.tools`, `${at}.tools must be a list`);
        (it.tools as unknown[]).forEach((t, j) => declared.push({ tool: t, at: `${at}.tools[${j}]` }));
        return;
      }
      case 'compaction': {
        // A summary this sidecar wrote, in place of the history it replaced: the model reads it as context.
        flush();
        out.push(compactionMessage(it, at));
        return;
      }
      case 'compaction_trigger': {
        // Codex's remote compaction: summarise the conversation so far (it sends the trigger last).
        if (at !== `input[${(value as unknown[]).length - 1}]`) throw bad(at, `${at}: a compaction_trigger must be the last input item`);
        flush();
        out.push(compactionRequestMessage(at));
        read.compaction = true;
        return;
      }
      case 'item_reference': {
        // An output item of a stored response, read as if the client had sent it (the AI SDK refers so to
        // its earlier answers' text, reasoning and tool calls when it stores, its default).
        if (typeof it.id !== 'string') throw bad(`${at}.id`, `${at}.id must be a string`);
        const referenced = storedItem(options.lookup(it.id), it.id);
        if (!referenced) {
          throw new SidecarError(
            'not_found',
            `${at}: item_reference "${it.id}" is not an output item in this sidecar's response store (never stored, expired or evicted, or kept by another pod)`,
            { param: `${at}.id` },
          );
        }
        readItem(referenced, at);
        return;
      }
      default:
        throw bad(`${at}.type`, `${at}: input item type ${JSON.stringify(type)} is not supported`);
    }
  };
  value.forEach((item, i) => readItem(item, `input[${i}]`));
  flush();
  return out;
}

/**
 * A stored message without the cache marks its own request carried, named by what brought it into this
 * request (`previous_response_id`): the paths it was read from were another request's.
 */
function unmarked(m: ChatMessage): ChatMessage {
  const { cache: _cache, ...rest } = m;
  const at = 'previous_response_id';
  const content = m.content.map(({ cache: _c, ...part }) => ({ ...part, at }));
  if (rest.role !== 'assistant') return { ...rest, content, at } as ChatMessage;
  return { ...rest, content: content as TextPart[], toolCalls: rest.toolCalls.map((call) => ({ ...call, at })), at };
}

/** The parts with the item's own mark on the last one (a point after the whole item). */
function markLast(parts: TextPart[], cache: CacheMark | undefined): TextPart[] {
  const last = parts[parts.length - 1];
  return cache && last ? [...parts.slice(0, -1), { ...last, cache }] : parts;
}

/** A part's `cache_control` or `prompt_cache_breakpoint` as a mark to spread into the neutral part. */
function partMark(p: Record<string, unknown>, where: string): { cache?: CacheMark } {
  const cache = readPartCache(p, where);
  return cache ? { cache } : {};
}

/** The text parts of an item's `content` (or of what `path` names: a tool output's list). */
function textOf(content: unknown, at: string): TextPart[] {
  const path = `${at}.content`;
  if (typeof content === 'string') return [{ type: 'text', text: content, at: path }];
  if (!Array.isArray(content)) throw bad(path, `${path} must be a string or a list of parts`);
  return content.flatMap((part, j) => {
    const p = part as Record<string, unknown> | null;
    const where = `${path}[${j}]`;
    if (p && (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') && typeof p.text === 'string')
      return [{ type: 'text' as const, text: p.text, ...partMark(p, where), at: where }];
    if (p && p.type === 'refusal' && typeof p.refusal === 'string') return [{ type: 'text' as const, text: p.refusal, at: where }];
    throw bad(where, `${where} must be a text part here`);
  });
}

function userParts(content: unknown, at: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content, at: `${at}.content` }];
  if (!Array.isArray(content)) throw bad(`${at}.content`, `${at}.content must be a string or a list of parts`);
  const documents = { count: 0 };
  return content.map((part, j): ContentPart => {
    const where = `${at}.content[${j}]`;
    const p = part as Record<string, unknown> | null;
    if (p && (p.type === 'input_text' || p.type === 'text') && typeof p.text === 'string')
      return { type: 'text', text: p.text, ...partMark(p, where), at: where };
    const media = p ? mediaPart(p, where, documents) : undefined;
    if (media) return media;
    throw bad(where, `${where}: part type ${JSON.stringify(p?.type)} is not supported (input_text, input_image, input_file)`);
  });
}

/**
 * An `input_image` (a data URL) or `input_file` (inline `file_data`) part, in a message or a tool's output;
 * undefined for any other part. `documents` counts the files read so far (each gets its own name).
 */
function mediaPart(p: Record<string, unknown>, where: string, documents: { count: number }): ContentPart | undefined {
  if (p.type === 'input_image') {
    if (typeof p.image_url !== 'string')
      throw bad(where, `${where}: only image_url data URLs are supported (file_id needs OpenAI's file store)`);
    const match = IMAGE_DATA_URL.exec(p.image_url);
    if (!match) throw bad(where, `${where}: Bedrock cannot fetch image URLs; send a data:image/(png|jpeg|gif|webp);base64 URL`);
    const format = (match[1] === 'jpg' ? 'jpeg' : match[1]) as 'png' | 'jpeg' | 'gif' | 'webp';
    return { type: 'image', mediaType: `image/${format}`, format, data: match[2]!.replace(/\s+/g, ''), ...partMark(p, where), at: where };
  }
  if (p.type === 'input_file') {
    if (p.file_id !== undefined && p.file_id !== null) {
      throw new SidecarError(
        'unsupported_parameter',
        `${where}.file_id: Bedrock has no file store; send the file inline as file_data (a data: URL)`,
        { param: `${where}.file_id` },
      );
    }
    if (typeof p.file_url === 'string') {
      throw new SidecarError(
        'unsupported_parameter',
        `${where}.file_url: Bedrock cannot fetch files; send the file inline as file_data (a data: URL)`,
        { param: `${where}.file_url` },
      );
    }
    if (typeof p.file_data !== 'string') throw bad(`${where}.file_data`, `${where}.file_data must be a data: URL`);
    return {
      ...documentFromDataUrl(p.file_data, typeof p.filename === 'string' ? p.filename : undefined, where, documents.count++),
      ...partMark(p, where),
      at: where,
    };
  }
  return undefined;
}

/**
 * A tool's output (`function_call_output`, `custom_tool_call_output`): a string, or a list of text, image and file
 * parts (Codex's `view_image` answers with an `input_image`, the Agents SDK's image and file tool outputs too).
 * Which targets take images or files in a tool result is checked per target (`checkToolResults`).
 */
function toolOutput(output: unknown, at: string): ContentPart[] {
  const path = `${at}.output`;
  if (typeof output === 'string') return [{ type: 'text', text: output, at: path }];
  if (!Array.isArray(output)) throw bad(path, `${path} must be a string or a list of parts`);
  const documents = { count: 0 };
  return output.map((part, j): ContentPart => {
    const where = `${path}[${j}]`;
    const p = part as Record<string, unknown> | null;
    if (p && (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') && typeof p.text === 'string')
      return { type: 'text', text: p.text, ...partMark(p, where), at: where };
    const media = p ? mediaPart(p, where, documents) : undefined;
    if (media) return media;
    throw bad(
      where,
      `${where}: part type ${JSON.stringify(p?.type)} is not supported in a tool output (input_text, input_image, input_file)`,
    );
  });
}
