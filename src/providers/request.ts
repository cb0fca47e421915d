/**
 * The neutral request: what every surface's request reader (src/surfaces/<name>/) produces and every
 * provider family builds its body from, never by copying a client's body across. Messages in one
 * normalised form, every parameter the sidecar understands as a typed field (named as OpenAI names them:
 * the first surface), and the sidecar's own parameters, taken out first so they never reach a body builder.
 */
import { SidecarError } from '../errors.ts';
import { MAX_STREAM_CHUNK_SIZE, MIN_STREAM_CHUNK_SIZE, SERVICE_TIERS } from '../config/schema.ts';
import { maskedOwnBody } from './paths.ts';
import { MAX_JSON_DEPTH, parseJsonText } from './json-text.ts';

/** Parameters the sidecar itself consumes (docs/contract.md#parameters). */
export const SIDECAR_PARAMS = ['stream_chunk_size', 'guardrails', 'stream_options'] as const;

export interface SidecarParams {
  streamChunkSize: number | undefined;
  guardrails: string[];
  includeUsage: boolean;
}

/**
 * A prompt-cache point the client asked for (`cache_control: {type: "ephemeral", ttl?}`): everything up to
 * and including what carries it is a cacheable prefix (docs/contract.md#request-rules; caching.ts).
 */
export interface CacheMark {
  ttl?: '5m' | '1h';
  /**
   * The mark is an OpenAI `prompt_cache_breakpoint` (hints.ts) asking this minimum lifetime (its own `ttl`, else
   * the request's `prompt_cache_options.ttl`; none: the 5-minute default): caching.ts maps it to one of
   * Bedrock's TTLs for the model.
   */
  breakpoint?: { lifetime?: '30m' | '12h' };
}

/** A request's OpenAI `prompt_cache_options`, as caching.ts applies them. */
export interface PromptCacheOptions {
  /** `mode: "explicit"`: only the client's own cache points; an alias's `prompt_caching: auto` adds none. */
  explicit: boolean;
  /** `ttl`: the lifetime of the breakpoints that name none. */
  lifetime?: '30m' | '12h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cache?: CacheMark;
  /** Where in the client's body it came from (paths.ts). */
  at?: string;
}
export interface ImagePart {
  type: 'image';
  mediaType: string;
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  data: string;
  cache?: CacheMark;
  /** Where in the client's body it came from (paths.ts). */
  at?: string;
}
/** The document formats Bedrock takes (Converse DocumentBlock.format). */
export type DocumentFormat = 'pdf' | 'csv' | 'doc' | 'docx' | 'xls' | 'xlsx' | 'html' | 'txt' | 'md';
/** A file sent inline (base64 `data`), named for the model with Bedrock's name alphabet (documents.ts). */
export interface DocumentPart {
  type: 'document';
  format: DocumentFormat;
  mediaType: string;
  name: string;
  data: string;
  cache?: CacheMark;
  /** Where in the client's body it came from (paths.ts). */
  at?: string;
}
export type ContentPart = TextPart | ImagePart | DocumentPart;

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
  /** Where in the client's body it came from (paths.ts). */
  at?: string;
}

/**
 * `cache` on a message: a cache point after the whole message. `at` on a message, a part, a tool call: where in
 * the body the client sent it came from, which the request rules name (paths.ts).
 */
export type ChatMessage =
  | { role: 'system'; content: TextPart[]; cache?: CacheMark; at?: string }
  | { role: 'user'; content: ContentPart[]; cache?: CacheMark; at?: string }
  /**
   * `reasoning`: the turn's reasoning blocks, each with its own signature (`ReasoningBlock`), in the
   * client's order. `order`: the kinds of the turn's blocks as the client sent them, each naming the next of
   * `content`, `toolCalls` or `reasoning` (`assistantBlocks` walks them); absent, reasoning comes first,
   * then text, then tool calls.
   */
  | {
      role: 'assistant';
      content: TextPart[];
      toolCalls: ToolCall[];
      reasoning?: ReasoningBlock[];
      order?: AssistantBlockKind[];
      cache?: CacheMark;
      at?: string;
    }
  /**
   * A tool's result. Its content is text, and may also hold images (Bedrock's Converse `toolResult`, a
   * Messages or InvokeModel `tool_result`) and documents (Converse); `error`: the tool failed (Converse's
   * `status: "error"`, Claude's `is_error`). Which targets take those is checked before any body is built
   * (`checkToolResults`, which drops them for the Messages surface).
   */
  | { role: 'tool'; toolCallId: string; content: ContentPart[]; error?: boolean; cache?: CacheMark; at?: string };

export type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

/**
 * One reasoning block of an assistant turn handed back: a model's thinking with the signature it was given
 * (Claude requires its signed thinking back before a tool result when thinking is on; unsigned reasoning is
 * the client's record only and is not sent upstream), or an encrypted block (Claude's `redacted_thinking`
 * data), handed back as it came.
 */
export type ReasoningBlock = { text: string; signature?: string } | { redacted: string };

/** The kinds of an assistant turn's blocks, for their order. */
export type AssistantBlockKind = 'text' | 'tool' | 'reasoning';

/** A thinking block's text and signature as a client sent them, or undefined when it carries neither. */
export function thinkingBlock(text: unknown, signature: unknown): ReasoningBlock | undefined {
  const said = typeof text === 'string' ? text : '';
  if (typeof signature === 'string' && signature !== '') return { text: said, signature };
  return said === '' ? undefined : { text: said };
}

/** One block of an assistant turn, as `assistantBlocks` gives them. */
export type AssistantBlock =
  { kind: 'text'; part: TextPart } | { kind: 'tool'; call: ToolCall; index: number } | { kind: 'reasoning'; block: ReasoningBlock };

/**
 * An assistant turn's blocks in the order the client sent them (`order`), each signed reasoning block
 * where it stood between text and tool use. What the order does not place (a reader that keeps none)
 * follows as reasoning, text, tool calls: Claude wants its thinking before its tool use.
 */
export function assistantBlocks(m: AssistantMessage): AssistantBlock[] {
  const reasoning = m.reasoning ?? [];
  const next = { text: 0, tool: 0, reasoning: 0 };
  const out: AssistantBlock[] = [];
  const take = (kind: AssistantBlockKind): void => {
    switch (kind) {
      case 'text': {
        const part = m.content[next.text++];
        if (part) out.push({ kind, part });
        return;
      }
      case 'tool': {
        const index = next.tool++;
        const call = m.toolCalls[index];
        if (call) out.push({ kind, call, index });
        return;
      }
      case 'reasoning': {
        const block = reasoning[next.reasoning++];
        if (block) out.push({ kind, block });
        return;
      }
    }
  };
  for (const kind of m.order ?? []) take(kind);
  while (next.reasoning < reasoning.length) take('reasoning');
  while (next.text < m.content.length) take('text');
  while (next.tool < m.toolCalls.length) take('tool');
  return out;
}

export interface ToolDefinition {
  name: string;
  description: string | undefined;
  parameters: Record<string, unknown>;
  /** A cache point after this tool's definition. */
  cache?: CacheMark;
}

/** Bedrock's service tiers (a client's `auto` is "no tier": nothing is sent). */
export type ServiceTier = (typeof SERVICE_TIERS)[number];

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'function'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean };

/** OpenAI's reasoning_effort values; what each becomes per model: claude-rules.ts, policy.ts threeLevelEffort. */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';
export const REASONING_EFFORTS: readonly ReasoningEffort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];

/** Every OpenAI parameter the sidecar understands, typed. A provider declares which it supports. */
export interface ChatParams {
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  reasoning_effort?: ReasoningEffort;
  user?: string;
  metadata?: Record<string, string>;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  top_k?: number;
  n?: number;
  anthropic_beta?: string[];
  /**
   * Claude's `output_config.effort` asked without thinking (a Messages body): how much the model spends on
   * its answer. Sent where the model takes it (claude-rules.ts `claudeEffortField`), else dropped and logged.
   */
  effort?: string;
  /** The tier asked for; `auto`: none, not even the alias's (the sidecar's resend without a refused tier). */
  service_tier?: ServiceTier | 'auto';
}
export type ParamName = keyof ChatParams;

export interface ChatRequest {
  model: string;
  stream: boolean;
  messages: ChatMessage[];
  params: ChatParams;
  sidecar: SidecarParams;
  /** Client hints and no-op values the reader dropped, one note each, logged at debug (hints.ts). */
  hints?: string[];
  /**
   * The client's own Anthropic Messages body (the Messages surface): Claude keeps it, filtered to what
   * Bedrock's Claude body takes (anthropic-native.ts); every other family builds from the fields above.
   */
  anthropic?: AnthropicNative;
  /**
   * The client's own InvokeModel body for a family whose invoke body the native surface takes as it is (Nova's
   * messages-v1): that family's invoke adapter sends it with only the sidecar's rules applied, while `messages`
   * still say what it says; every other target (a converse alias, a fallback of another family) builds from
   * the fields above. One field for every such family rather than one per family, as `anthropic` is.
   */
  invokeBody?: NativeInvokeBody;
  /**
   * Converse `additionalModelRequestFields` a native Converse client sent (the native surface checks them
   * against the family's allow-list first): merged into the converse body like an alias's, the alias's last.
   */
  additionalFields?: Record<string, unknown>;
  /** Latency-optimized inference a native Converse client asked for (`performanceConfig.latency`); else the alias's. */
  performance?: 'standard' | 'optimized';
  /** What OpenAI's `prompt_cache_options` asked (hints.ts), for caching.ts. */
  promptCache?: PromptCacheOptions;
  /**
   * The Bedrock project a native client named (Converse `projectIdentifier`, InvokeModel's
   * `X-Amzn-Bedrock-ProjectIdentifier`): sent on as it came, in the form the target's route takes (serving.ts).
   */
  project?: string;
}

export interface NativeInvokeBody {
  /** Its format, as the family's invoke adapter names what it takes (`RouteAdapter.ownBodyFormat`). */
  format: string;
  /** The client body, the sidecar's parameters already taken out. */
  body: Record<string, unknown>;
  /** The neutral `messages` read from it (an input guardrail's mask rewrites `ChatRequest.messages`, and is written back into the body: `ownInvokeBody`). */
  messages: ChatMessage[];
}

export interface AnthropicNative {
  /** The client body, `model`, `stream` and the sidecar's parameters already taken out. */
  body: Record<string, unknown>;
  /** The `anthropic-beta` header's flags (and the body's `anthropic_beta`), unfiltered. */
  betas: string[];
  /**
   * The neutral `messages` read from this body: an input guardrail's mask rewrites `ChatRequest.messages`, and
   * is written back into the body where the masked text was read (anthropic-native.ts `ownMessagesBody`).
   */
  messages: ChatMessage[];
}

/** OpenAI parameters that exist but no Bedrock family can honour; named so the 400 is precise. */
const KNOWN_UNSUPPORTED = new Set([
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'functions',
  'function_call',
]);

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

/** Removes the sidecar's own parameters from the body (one mechanism for every route and family). */
export function takeSidecarParams(raw: Record<string, unknown>): SidecarParams {
  const chunk = raw.stream_chunk_size;
  const guardrails = raw.guardrails;
  const options = raw.stream_options;
  for (const key of SIDECAR_PARAMS) delete raw[key];

  let streamChunkSize: number | undefined;
  // Unlike OpenAI's own parameters, an explicit null is not "unset" here: docs/contract.md#rechunking allows integers
  // only.
  if (chunk !== undefined) {
    if (typeof chunk !== 'number' || !Number.isInteger(chunk) || chunk < MIN_STREAM_CHUNK_SIZE || chunk > MAX_STREAM_CHUNK_SIZE) {
      throw bad(
        'stream_chunk_size',
        `"stream_chunk_size" must be an integer from ${MIN_STREAM_CHUNK_SIZE} to ${MAX_STREAM_CHUNK_SIZE}, got ${JSON.stringify(chunk)}`,
      );
    }
    streamChunkSize = chunk;
  }
  let names: string[] = [];
  if (guardrails !== undefined && guardrails !== null) {
    if (!Array.isArray(guardrails) || guardrails.some((g) => typeof g !== 'string' || g === '')) {
      throw bad('guardrails', '"guardrails" must be a list of guardrail names');
    }
    names = guardrails as string[];
  }
  let includeUsage = false;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) throw bad('stream_options', '"stream_options" must be an object');
    const value = (options as Record<string, unknown>).include_usage;
    if (value !== undefined && value !== null && typeof value !== 'boolean') {
      throw bad('stream_options.include_usage', '"stream_options.include_usage" must be a boolean');
    }
    includeUsage = value === true;
  }
  return { streamChunkSize, guardrails: names, includeUsage };
}

export function isKnownUnsupported(key: string): boolean {
  return KNOWN_UNSUPPORTED.has(key);
}

/**
 * A native InvokeModel client's own body of `format` (the family's `RouteAdapter.ownBodyFormat`), a copy to send
 * as it is: every member the client wrote, an input guardrail's masks written where the masked text was read
 * (paths.ts `maskedOwnBody`). Undefined when the request carries no such body, or a masked text cannot be
 * placed in it (the family then builds its body from the masked neutral reading).
 */
export function ownInvokeBody(request: ChatRequest, format: string): Record<string, unknown> | undefined {
  const native = request.invokeBody;
  if (native?.format !== format) return undefined;
  const body = maskedOwnBody(native.body, native.messages, request.messages);
  return body && { ...body };
}

/** Whether the request's own InvokeModel body of `format` is what goes (`ownInvokeBody`). */
export function sendsOwnBody(request: ChatRequest, format: string): boolean {
  return ownInvokeBody(request, format) !== undefined;
}

/** Whether two readings of a conversation still say the same text (a guardrail's mask changes it). */
export function sameText(a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean {
  return a.length === b.length && a.every((m, i) => joinText(m.content) === joinText(b[i]!.content));
}

/** Text of a list of text parts. */
export function joinText(parts: readonly ContentPart[]): string {
  let out = '';
  for (const part of parts) if (part.type === 'text') out += part.text;
  return out;
}

/** Parses tool-call arguments for a family that wants an object; a bad string is the client's error. */
export function parseArguments(call: ToolCall, at: string): unknown {
  if (call.arguments.trim() === '') return {};
  const parsed = parseJsonText(call.arguments);
  if (parsed.ok) return parsed.value;
  if (parsed.tooDeep) throw bad(at, `${at}: tool call "${call.name}" has arguments nested deeper than ${MAX_JSON_DEPTH} levels`);
  throw bad(at, `${at}: tool call "${call.name}" has arguments that are not valid JSON`);
}
