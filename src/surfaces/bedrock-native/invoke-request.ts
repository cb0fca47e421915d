/**
 * The InvokeModel reader for Claude (docs/contract.md#bedrock-native): Bedrock's Claude body — Anthropic's
 * Messages API with `anthropic_version` and `anthropic_beta` in the body, no `model`, no `stream`
 * (docs/bedrock-wire.md#anthropic-claude). Top-level keys Bedrock's Claude body does not take are refused with
 * Bedrock's own 400 before any call. The client's body rides along (`ChatRequest.anthropic`, as on the Messages
 * surface): Claude on invoke is sent that body — thinking blocks with their signatures and `redacted_thinking`
 * byte for byte — with only the sidecar's rules applied (src/providers/anthropic-native.ts: betas filtered per
 * model, caps, `metadata`, which Claude Code's Bedrock mode sends, left out). The neutral reading is what a
 * converse target (a converse alias of Claude) is sent; content only Claude's own body carries (documents,
 * Anthropic-defined tools …) is then a 400 naming it (`checkInvokeTranslatable`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SERVICE_TIERS } from '../../config/schema.ts';
import {
  takeSidecarParams,
  type CacheMark,
  thinkingBlock,
  type AssistantBlockKind,
  type ChatMessage,
  type ChatParams,
  type ChatRequest,
  type ContentPart,
  type ReasoningBlock,
  type ReasoningEffort,
  type TextPart,
  type ToolCall,
  type ToolDefinition,
} from '../../providers/request.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import { CLAUDE_BODY_KEYS } from '../../providers/anthropic-native.ts';
import { withEagerToolStreaming } from '../../providers/anthropic-betas.ts';
import { claudeOutputEffort } from '../../providers/claude-rules.ts';
import { takesAnthropicMessages } from '../../providers/index.ts';
import type { SurfaceRequest } from '../../server/surface.ts';
import { invalid, isObject } from './converse-request.ts';
import { own } from '../../own.ts';

/**
 * Bedrock's Claude body (plus `metadata`, taken and left aside). `context_management` with its beta is Bedrock's
 * too on InvokeModel (context editing and compaction: src/providers/context-management.ts filters its edits).
 */
const CLAUDE_KEYS: ReadonlySet<string> = new Set([
  'anthropic_version',
  'anthropic_beta',
  ...CLAUDE_BODY_KEYS,
  'context_management',
  'metadata',
]);
const IMAGE_TYPES: Readonly<Record<string, 'png' | 'jpeg' | 'gif' | 'webp'>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

type Json = Record<string, unknown>;

export interface ClaudeInvokeRead extends SurfaceRequest {
  /** Content the neutral form cannot carry: Claude on invoke takes it in its own body; a converse target cannot. */
  untranslatable: string[];
}

export function readClaudeInvoke(body: unknown, model: string, stream: boolean, headers: IncomingHttpHeaders = {}): ClaudeInvokeRead {
  if (!isObject(body)) throw invalid('Malformed input request: the body must be a JSON object');
  const raw: Json = { ...body };
  const sidecar = takeSidecarParams(raw);
  const extraneous = Object.keys(raw).filter((key) => !CLAUDE_KEYS.has(key));
  if (extraneous.length > 0) {
    throw invalid(
      `Malformed input request: ${extraneous.map((k) => `#: extraneous key [${k}] is not permitted`).join('')}, please reformat your input and try again.`,
      extraneous[0],
    );
  }
  if (typeof raw.anthropic_version !== 'string')
    throw invalid('Malformed input request: #: required key [anthropic_version] not found', 'anthropic_version');
  if (!Number.isInteger(raw.max_tokens) || (raw.max_tokens as number) < 1)
    throw invalid('max_tokens: must be a positive integer', 'max_tokens');
  const params: ChatParams = { max_tokens: raw.max_tokens as number };
  for (const [key, name] of [
    ['temperature', 'temperature'],
    ['top_p', 'top_p'],
    ['top_k', 'top_k'],
  ] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw invalid(`${key}: must be a number`, key);
    params[name] = value;
  }
  if (raw.stop_sequences !== undefined) {
    if (!Array.isArray(raw.stop_sequences) || raw.stop_sequences.some((s) => typeof s !== 'string'))
      throw invalid('stop_sequences: must be a list of strings', 'stop_sequences');
    if (raw.stop_sequences.length > 0) params.stop = raw.stop_sequences as string[];
  }
  if (raw.anthropic_beta !== undefined) {
    if (!Array.isArray(raw.anthropic_beta) || raw.anthropic_beta.some((s) => typeof s !== 'string'))
      throw invalid('anthropic_beta: must be a list of strings', 'anthropic_beta');
  }
  // A tool's `eager_input_streaming: true` on the stream asks for the fine-grained tool streaming flag, as on Messages.
  const betas = withEagerToolStreaming((raw.anthropic_beta as string[] | undefined) ?? [], raw.tools, stream);
  if (betas.length > 0) params.anthropic_beta = betas;
  const untranslatable: string[] = [];
  if (raw.tools !== undefined) {
    const tools = readTools(raw.tools, untranslatable);
    if (tools.length > 0) params.tools = tools;
  }
  if (raw.tool_choice !== undefined) readToolChoice(raw.tool_choice, params);
  const effort = reasoningEffort(raw.thinking, raw.output_config);
  if (effort !== undefined) params.reasoning_effort = effort;
  // Effort without thinking (no `thinking`, or `disabled`): the answer's own effort, which a converse alias of
  // Claude is sent in additionalModelRequestFields as Claude's body carries it.
  const alone = effort === undefined || effort === 'none' ? claudeOutputEffort(raw.output_config) : undefined;
  if (alone !== undefined) params.effort = alone;
  // Structured output: a converse alias of Claude, or another family, is asked for the schema too.
  const format = isObject(raw.output_config) ? raw.output_config.format : undefined;
  if (format !== undefined && format !== null) {
    if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema))
      throw invalid('output_config.format: must be {"type": "json_schema", "schema": {…}}', 'output_config.format');
    params.response_format = { type: 'json_schema', name: 'response', schema: format.schema };
  }

  const messages: ChatMessage[] = [...readSystem(raw.system)];
  if (!Array.isArray(raw.messages) || raw.messages.length === 0) throw invalid('messages: must be a non-empty list', 'messages');
  raw.messages.forEach((message: unknown, i) => messages.push(...readMessage(message, i, untranslatable)));
  const { anthropic_version: _version, anthropic_beta: _betas, ...native } = raw;
  const request: ChatRequest = {
    model,
    stream,
    messages,
    params,
    sidecar,
    anthropic: { body: native, betas: params.anthropic_beta ?? [], messages },
  };
  readServingHeaders(headers, request);
  return { request, unknown: [], untranslatable };
}

/**
 * InvokeModel's own request headers for the service tier, latency and project (what the AWS SDK sends for
 * `serviceTier` / `performanceConfigLatency` / `projectIdentifier`): read like a Converse body's `serviceTier` /
 * `performanceConfig` / `projectIdentifier`, so they go on under the sidecar's rules
 * (docs/contract.md#request-rules) — the header again on invoke, the body fields on a converse target.
 */
export function readServingHeaders(headers: IncomingHttpHeaders, request: ChatRequest): void {
  const tier = headers['x-amzn-bedrock-service-tier'];
  if (tier !== undefined) {
    if (!(SERVICE_TIERS as readonly unknown[]).includes(tier))
      throw invalid(`X-Amzn-Bedrock-Service-Tier: must be one of ${SERVICE_TIERS.join(', ')}`, 'X-Amzn-Bedrock-Service-Tier');
    request.params.service_tier = tier as (typeof SERVICE_TIERS)[number];
  }
  const latency = headers['x-amzn-bedrock-performanceconfig-latency'];
  if (latency !== undefined) {
    if (latency !== 'standard' && latency !== 'optimized')
      throw invalid('X-Amzn-Bedrock-PerformanceConfig-Latency: must be standard or optimized', 'X-Amzn-Bedrock-PerformanceConfig-Latency');
    request.performance = latency;
  }
  const project = projectHeaderOf(headers);
  if (project !== undefined) request.project = project;
}

/** `X-Amzn-Bedrock-ProjectIdentifier`, as it came (the SDK's model: a string, no length or pattern). */
export function projectHeaderOf(headers: IncomingHttpHeaders): string | undefined {
  const project = headers['x-amzn-bedrock-projectidentifier'];
  return typeof project === 'string' ? project : undefined;
}

/** A converse target gets the neutral reading: content only Claude's own body carries is a 400 naming it. */
export function checkInvokeTranslatable(read: SurfaceRequest, target: ModelTarget, note?: (message: string) => void): void {
  const untranslatable = (read as ClaudeInvokeRead).untranslatable;
  if (takesAnthropicMessages(target.route, target.family)) return;
  if (read.request.anthropic?.body.context_management !== undefined)
    note?.(
      `"context_management" dropped: ${target.name} on the ${target.route} route gets the translated body (Bedrock takes it on Claude's InvokeModel only)`,
    );
  if (untranslatable.length === 0) return;
  throw invalid(
    `${untranslatable[0]} cannot be sent to ${target.name} on the ${target.route} route: only Claude on invoke takes it`,
    untranslatable[0]!.split(' ')[0],
  );
}

/**
 * A block's `cache_control: {type: "ephemeral", ttl?}` as a neutral cache mark, so a converse alias of Claude
 * caches too (Converse `cachePoint`; docs/contract.md#request-rules). Another shape is left to Claude's own
 * body, which keeps the client's marks as they are.
 */
function cacheOf(block: Json): { cache?: CacheMark } {
  const control = block.cache_control;
  if (!isObject(control) || control.type !== 'ephemeral') return {};
  return { cache: control.ttl === '5m' || control.ttl === '1h' ? { ttl: control.ttl } : {} };
}

function readSystem(system: unknown): ChatMessage[] {
  if (system === undefined) return [];
  if (typeof system === 'string')
    return system === '' ? [] : [{ role: 'system', content: [{ type: 'text', text: system, at: 'system' }], at: 'system' }];
  if (!Array.isArray(system)) throw invalid('system: must be a string or a list of text blocks', 'system');
  const content = system.map((block: unknown, i): TextPart => {
    if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string')
      throw invalid(`system.${i}: must be a text block`, `system.${i}`);
    return { type: 'text', text: block.text, ...cacheOf(block), at: `system.${i}` };
  });
  return content.length > 0 ? [{ role: 'system', content, at: 'system' }] : [];
}

function readMessage(value: unknown, i: number, untranslatable: string[]): ChatMessage[] {
  const at = `messages.${i}`;
  if (!isObject(value)) throw invalid(`${at}: must be an object`, at);
  if (value.role !== 'user' && value.role !== 'assistant') throw invalid(`${at}.role: must be user or assistant`, `${at}.role`);
  const blocks: unknown[] =
    typeof value.content === 'string' ? [{ type: 'text', text: value.content }] : Array.isArray(value.content) ? value.content : [];
  if (typeof value.content !== 'string' && !Array.isArray(value.content))
    throw invalid(`${at}.content: must be a string or a list of blocks`, `${at}.content`);
  const content: ContentPart[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  // Each thinking block keeps its own signature and its place among the text and tool use.
  const reasoning: ReasoningBlock[] = [];
  const order: AssistantBlockKind[] = [];
  let mark: { cache?: CacheMark } = {};
  blocks.forEach((block, j) => {
    // A string content is the one text block.
    const where = typeof value.content === 'string' ? `${at}.content` : `${at}.content.${j}`;
    if (!isObject(block)) throw invalid(`${where}: must be an object`, where);
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') throw invalid(`${where}.text: must be a string`, where);
        content.push({ type: 'text', text: block.text, ...cacheOf(block), at: where });
        order.push('text');
        return;
      case 'image':
        content.push({ ...readImage(block, where), ...cacheOf(block) });
        return;
      case 'tool_use':
        if (typeof block.id !== 'string' || typeof block.name !== 'string') throw invalid(`${where}: a tool_use needs id and name`, where);
        calls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}), at: where });
        if (block.cache_control !== undefined) mark = cacheOf(block); // a point after the tool calls
        order.push('tool');
        return;
      case 'tool_result': {
        if (typeof block.tool_use_id !== 'string') throw invalid(`${where}.tool_use_id: must be a string`, where);
        // One block upstream: a mark on it or on one of its parts is a point after the whole result.
        const parts = Array.isArray(block.content) ? (block.content as unknown[]).filter(isObject) : [];
        const resultMark = [block, ...parts].map(cacheOf).find((m) => m.cache !== undefined) ?? {};
        // A converse alias of Claude takes its images and `is_error` too (Converse's toolResult `status`).
        results.push({
          role: 'tool',
          toolCallId: block.tool_use_id,
          content: resultParts(block.content, where, untranslatable),
          ...(block.is_error === true ? { error: true } : {}),
          ...resultMark,
          at: where,
        });
        return;
      }
      case 'thinking': {
        const thought = thinkingBlock(block.thinking, block.signature);
        if (thought) {
          reasoning.push(thought);
          order.push('reasoning');
        }
        return;
      }
      case 'redacted_thinking':
        if (typeof block.data === 'string') {
          reasoning.push({ redacted: block.data });
          order.push('reasoning');
        }
        return;
      case 'compaction':
        // Byte for byte in Claude's own body; its summary for a converse target (`content: null`: a failed compaction).
        if (block.content !== undefined && block.content !== null && typeof block.content !== 'string')
          throw invalid(`${where}.content: must be a string or null`, where);
        if (typeof block.content === 'string' && block.content !== '') {
          content.push({ type: 'text', text: block.content, at: `${where}.content` });
          order.push('text');
        }
        return;
      default:
        untranslatable.push(`${where} (a "${String(block.type)}" block)`);
    }
  });
  if (value.role === 'assistant') {
    const text = content.filter((part): part is TextPart => part.type === 'text');
    if (text.length !== content.length) throw invalid(`${at}: an assistant message cannot carry images`, at);
    const message: ChatMessage = { role: 'assistant', content: text, toolCalls: calls, order, ...mark, at };
    if (reasoning.length > 0) message.reasoning = reasoning;
    return [message];
  }
  if (calls.length > 0) throw invalid(`${at}: a user message cannot carry tool_use`, at);
  return content.length > 0 ? [...results, { role: 'user', content, at }] : results;
}

/** A base64 image block of Claude's body as an image part. */
function readImage(block: Json, where: string): ContentPart {
  const source = isObject(block.source) ? block.source : {};
  const mediaType = String(source.media_type);
  const format = own(IMAGE_TYPES, mediaType);
  if (source.type !== 'base64' || !format || typeof source.data !== 'string')
    throw invalid(`${where}.source: must be a base64 png, jpeg, gif or webp image`, where);
  return { type: 'image', format, mediaType: String(source.media_type), data: source.data, at: where };
}

function resultParts(content: unknown, where: string, untranslatable: string[]): ContentPart[] {
  if (content === undefined) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content, at: `${where}.content` }];
  if (!Array.isArray(content)) throw invalid(`${where}.content: must be a string or a list of blocks`, where);
  return content.flatMap((part: unknown, k): ContentPart[] => {
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string')
      return [{ type: 'text', text: part.text, at: `${where}.content.${k}` }];
    if (isObject(part) && part.type === 'image') return [readImage(part, `${where}.content.${k}`)];
    untranslatable.push(`${where}.content.${k} (a ${isObject(part) ? String(part.type) : 'non-block'} part in a tool result)`);
    return [];
  });
}

function readTools(value: unknown, untranslatable: string[]): ToolDefinition[] {
  if (!Array.isArray(value)) throw invalid('tools: must be a list', 'tools');
  return value.flatMap((tool: unknown, i): ToolDefinition[] => {
    const at = `tools.${i}`;
    if (!isObject(tool) || typeof tool.name !== 'string') throw invalid(`${at}: must be an object with a name`, at);
    if (tool.type !== undefined && tool.type !== 'custom') {
      untranslatable.push(`${at} (the Anthropic-defined tool ${JSON.stringify(tool.type)})`);
      return [];
    }
    if (!isObject(tool.input_schema)) throw invalid(`${at}.input_schema: must be a JSON schema object`, at);
    return [
      {
        name: tool.name,
        description: typeof tool.description === 'string' ? tool.description : undefined,
        parameters: tool.input_schema,
        ...cacheOf(tool),
      },
    ];
  });
}

function readToolChoice(value: unknown, params: ChatParams): void {
  const type = isObject(value) ? value.type : undefined;
  if (type === 'auto') params.tool_choice = { type: 'auto' };
  else if (type === 'any') params.tool_choice = { type: 'required' };
  else if (type === 'none') params.tool_choice = { type: 'none' };
  else if (type === 'tool' && isObject(value) && typeof value.name === 'string')
    params.tool_choice = { type: 'function', name: value.name };
  else throw invalid('tool_choice: must be {type: auto|any|none} or {type: tool, name}', 'tool_choice');
}

/** Claude's `thinking` as the neutral effort (the family's rules turn it back into the model's own shape). */
function reasoningEffort(thinking: unknown, outputConfig: unknown): ReasoningEffort | undefined {
  if (thinking === undefined) return undefined;
  if (!isObject(thinking)) throw invalid('thinking: must be an object', 'thinking');
  if (thinking.type === 'disabled' || thinking.type === 'between_tools') return 'none';
  if (thinking.type === 'adaptive') {
    // Adaptive thinking's effort is output_config's (the neutral levels are Claude's, with `max`).
    const effort = claudeOutputEffort(outputConfig);
    return effort ?? 'medium';
  }
  if (thinking.type !== 'enabled') throw invalid('thinking.type: must be enabled, adaptive, disabled or between_tools', 'thinking.type');
  const budget = typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0;
  return budget >= 16_000 ? 'high' : budget >= 4_000 ? 'medium' : 'low';
}
