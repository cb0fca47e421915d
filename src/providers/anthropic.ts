/**
 * Anthropic Claude on the invoke route: the Messages API body (docs/bedrock-wire.md#anthropic-claude) and its stream
 * events (message_start … message_stop) mapped to internal events. The terminal event is `message_stop`; the finish
 * reason seen in `message_delta` is held until then, so a stream cut before `message_stop` never shows a finish.
 * A `compaction` block (start, its one `compaction_delta`, stop) is one `compaction` event at its stop, whole; what
 * context management did (`context_management` of `message_start` / `message_delta`) one event before the finish.
 */
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import { answerEnd, requireAnswer, wholeToolCall } from './answer.ts';
import { finishEvent, guardrailIntervenedIn, interventionEnd } from './finish.ts';
import {
  assistantBlocks,
  joinText,
  parseArguments,
  type CacheMark,
  type ChatMessage,
  type ChatParams,
  type ChatRequest,
  type ContentPart,
  type ParamName,
} from './request.ts';
import type { BuildContext, ChatFamilySpec, ConverseTraits, DocumentSupport, RouteAdapter, StreamMapper } from './types.ts';
import { BEDROCK_ANTHROPIC_BETAS, bedrockBetas } from './anthropic-betas.ts';
import {
  applyClaudeReasoning,
  claudeThinkingRoom,
  CLAUDE_MAX_TOKENS,
  applyClaudeSampling,
  applyClaudeToolChoice,
  claudeCaching,
  claudeEffortField,
  claudeRefusesStructured,
  THINKING_BUDGET,
} from './claude-rules.ts';
import { callAt } from './paths.ts';
import { closedSchema } from './json-schema.ts';
import { mergeExtraFields, rejectParam } from './policy.ts';
import { isRecord, readInvocationMetrics, usageOf } from './usage.ts';
import { stringOrEmpty } from './text-completion.ts';
import { claudeOutputSchema, nativeMessagesBody, ownMessagesBody } from './anthropic-native.ts';
import { CLAUDE_TOOL_IDS } from './tool-ids.ts';
import { toolInputSchema } from './tool-schema.ts';

const ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export { BEDROCK_ANTHROPIC_BETAS, THINKING_BUDGET };

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'user',
  'metadata',
  'anthropic_beta',
  'effort',
]);

const EXTRA_FIELDS: ReadonlySet<string> = new Set(['top_k', 'anthropic_beta', 'thinking', 'output_config', 'tool_choice']);

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  // A Messages client's own body, unless an input guardrail rewrote the messages (then the translation).
  const own = ownMessagesBody(request);
  if (own) return nativeMessagesBody(own, request, ctx);
  const body: Record<string, unknown> = { anthropic_version: ANTHROPIC_VERSION };
  const system = request.messages
    .filter((m) => m.role === 'system')
    .map((m) => joinText(m.content))
    .filter(Boolean);
  const params = applyClaudeToolChoice(request.params, ctx);
  const reasoning = applyClaudeReasoning(params, ctx, request.messages);
  const p = applyClaudeSampling(reasoning.params, ctx);
  const maxTokens = reasoning.maxTokens;
  Object.assign(body, reasoning.fields);
  // Effort without thinking (a Messages body translated: for a fallback, or a mask its own body could not place).
  if (p.effort !== undefined && reasoning.fields.output_config === undefined)
    Object.assign(body, claudeEffortField(ctx.target.modelId, p.effort, ctx, reasoning.fields.thinking));
  const format = outputFormat(p, ctx);
  if (format) body.output_config = { ...(body.output_config as Block | undefined), format };
  body.max_tokens = maxTokens;
  body.messages = anthropicMessages(request.messages);
  if (request.messages.some((m) => m.role === 'system' && m.cache)) body.system = anthropicSystem(request.messages);
  else if (system.length > 0) body.system = system.join('\n\n');
  if (p.temperature !== undefined) body.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.top_k !== undefined) body.top_k = p.top_k;
  if (p.stop !== undefined) body.stop_sequences = p.stop;
  if (p.tools !== undefined && p.tools.length > 0) {
    body.tools = p.tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      input_schema: toolInputSchema(t.parameters, true, t.name, (message) => ctx.note(message)),
      ...(t.cache ? { cache_control: cacheControl(t.cache) } : {}),
    }));
    const choice = p.tool_choice;
    const disableParallel = p.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
    if (choice?.type === 'function') body.tool_choice = { type: 'tool', name: choice.name, ...disableParallel };
    else if (choice?.type === 'required') body.tool_choice = { type: 'any', ...disableParallel };
    else if (choice?.type === 'none') body.tool_choice = { type: 'none' };
    else if (choice?.type === 'auto' || p.parallel_tool_calls === false) body.tool_choice = { type: 'auto', ...disableParallel };
  }
  if (p.anthropic_beta !== undefined) {
    // Filtered per model, as on Claude's own body (anthropic-betas.ts).
    const { kept, dropped } = bedrockBetas(ctx.target.modelId, p.anthropic_beta);
    for (const flag of dropped) ctx.note(`anthropic_beta flag "${flag}" dropped: Bedrock does not take it for ${ctx.target.modelId}`);
    if (kept.length > 0) body.anthropic_beta = kept;
  }
  // `user` and `metadata` have no place in Bedrock's Claude body (it rejects `metadata`): dropped.
  if (p.user !== undefined) ctx.note('user dropped: the Claude invoke body has no place for it on Bedrock');
  if (p.metadata !== undefined) ctx.note('metadata dropped: the Claude invoke body has no place for it on Bedrock');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Claude on invoke');
  return body;
}

type Block = Record<string, unknown>;

/**
 * `response_format` as Claude's `output_config.format`: a json_schema closed and in the keywords Claude takes
 * (json-schema.ts), as converse sends it; on a model that takes no structured outputs (the table's
 * `structuredOutputs`) the parameter policy's (400 naming it, or dropped with drop_params). json_object has no
 * schema: the prompt asks for JSON, as on converse.
 */
function outputFormat(p: ChatParams, ctx: BuildContext): Block | undefined {
  const format = p.response_format;
  if (format?.type === 'json_object')
    ctx.note("response_format json_object: no schema to constrain the answer with in Claude's body; the prompt asks for JSON");
  if (format?.type !== 'json_schema') return undefined;
  const modelId = ctx.target.modelId;
  const refused = claudeRefusesStructured(modelId);
  if (refused !== undefined) {
    rejectParam(ctx, 'response_format', `json_schema is not supported by ${modelId} (${refused})`);
    return undefined;
  }
  return { type: 'json_schema', schema: claudeOutputSchema(closedSchema(format.schema), ctx, 'response_format') };
}

/** Anthropic's `cache_control` for a cache mark (the rules: caching.ts). */
function cacheControl(mark: CacheMark): Block {
  return { type: 'ephemeral', ...(mark.ttl !== undefined ? { ttl: mark.ttl } : {}) };
}

/** System messages as text blocks (when one carries a cache point; else the body keeps a plain string). */
function anthropicSystem(messages: readonly ChatMessage[]): Block[] {
  const blocks: Block[] = [];
  for (const m of messages) {
    if (m.role !== 'system') continue;
    const text = joinText(m.content);
    if (text !== '') blocks.push({ type: 'text', text, ...(m.cache ? { cache_control: cacheControl(m.cache) } : {}) });
  }
  return blocks;
}

function userBlock(part: ContentPart): Block {
  const mark = part.cache ? { cache_control: cacheControl(part.cache) } : {};
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text, ...mark };
    case 'image':
      return { type: 'image', source: { type: 'base64', media_type: part.mediaType, data: part.data }, ...mark };
    case 'document':
      // PDF travels as base64; the text formats as plain text (the only two document sources Claude's body takes).
      return part.format === 'pdf'
        ? { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: part.data }, title: part.name, ...mark }
        : {
            type: 'document',
            source: { type: 'text', media_type: 'text/plain', data: Buffer.from(part.data, 'base64').toString('utf8') },
            title: part.name,
            ...mark,
          };
  }
}

/** OpenAI messages → Anthropic messages: tool results become user tool_result blocks; same roles merge. */
function anthropicMessages(messages: readonly ChatMessage[]): Array<{ role: 'user' | 'assistant'; content: Block[] }> {
  const out: Array<{ role: 'user' | 'assistant'; content: Block[] }> = [];
  const append = (role: 'user' | 'assistant', blocks: Block[], mark: CacheMark | undefined): void => {
    const lastBlock = blocks[blocks.length - 1];
    if (mark && lastBlock) lastBlock.cache_control = cacheControl(mark);
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
        return;
      case 'user':
        append('user', m.content.map(userBlock), m.cache);
        return;
      case 'assistant': {
        // Signed and redacted thinking go back byte for byte, each block with its own signature, where the
        // client had it (Claude requires them before its tool use); unsigned reasoning is not sent.
        const blocks: Block[] = [];
        for (const b of assistantBlocks(m)) {
          switch (b.kind) {
            case 'text':
              // Claude refuses a whitespace-only text block; a model's whitespace before its tool call comes back so.
              if (b.part.text.trim() !== '')
                blocks.push({ type: 'text', text: b.part.text, ...(b.part.cache ? { cache_control: cacheControl(b.part.cache) } : {}) });
              break;
            case 'reasoning':
              if ('redacted' in b.block) blocks.push({ type: 'redacted_thinking', data: b.block.redacted });
              else if (b.block.signature !== undefined)
                blocks.push({ type: 'thinking', thinking: b.block.text, signature: b.block.signature });
              break;
            case 'tool':
              blocks.push({
                type: 'tool_use',
                id: b.call.id,
                name: b.call.name,
                input: parseArguments(b.call, callAt(m, i, b.index)),
              });
              break;
          }
        }
        // A turn that is thinking alone says nothing the next turn needs (Claude 5 refuses it on converse).
        if (blocks.every((block) => block.type === 'thinking' || block.type === 'redacted_thinking')) return;
        append('assistant', blocks, m.cache);
        return;
      }
      case 'tool': {
        // A text result is a string; images and documents go as content blocks, a failure as is_error.
        const plain = m.error !== true && m.content.every((part) => part.type === 'text');
        const content = plain ? joinText(m.content) : m.content.map(userBlock);
        append(
          'user',
          [{ type: 'tool_result', tool_use_id: m.toolCallId, content, ...(m.error === true ? { is_error: true } : {}) }],
          m.cache,
        );
        return;
      }
    }
  });
  return out;
}

class AnthropicStreamMapper implements StreamMapper {
  terminated = false;
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  private stopReason: string | undefined;
  /** Bedrock's `amazon-bedrock-guardrailAction: INTERVENED` (a guardrail applied inside the call), seen on any event. */
  private guardrailIntervened = false;
  /** Anthropic content-block index → dense OpenAI tool-call index */
  private readonly toolIndex = new Map<number, number>();
  /** Open compaction blocks by content-block index: their summary and `encrypted_content` so far. */
  private readonly compactions = new Map<number, { content: string | null; encryptedContent?: string | null }>();
  /** Claude's latest `context_management` (applied edits). */
  private contextManagement: Record<string, unknown> | undefined;

  push(event: Record<string, unknown>): StreamEvent[] {
    if (guardrailIntervenedIn(event)) this.guardrailIntervened = true;
    switch (event.type) {
      case 'message_start': {
        const message = event.message as Record<string, unknown> | undefined;
        Object.assign(this.usage, usageOf(message?.usage));
        this.contextManagement = contextManagementOf(message?.context_management) ?? this.contextManagement;
        return [{ kind: 'prompt_usage', usage: { ...this.usage } }];
      }
      case 'content_block_start': {
        const block = event.content_block as Record<string, unknown> | undefined;
        if (block?.type === 'tool_use') {
          const index = this.toolIndex.size;
          this.toolIndex.set(event.index as number, index);
          return [{ kind: 'tool_start', index, id: stringOrEmpty(block.id), name: stringOrEmpty(block.name) }];
        }
        if (block?.type === 'text' && typeof block.text === 'string' && block.text !== '') {
          return [{ kind: 'text', text: block.text }];
        }
        if (block?.type === 'thinking' && typeof block.thinking === 'string' && block.thinking !== '') {
          return [{ kind: 'reasoning', text: block.thinking }];
        }
        if (block?.type === 'redacted_thinking' && typeof block.data === 'string') {
          return [{ kind: 'reasoning_redacted', data: block.data }];
        }
        if (block?.type === 'compaction') {
          // Anthropic's stream starts it empty and sends the whole summary in one delta; a start that already
          // carries it is taken too.
          this.compactions.set(event.index as number, {
            content: typeof block.content === 'string' ? block.content : null,
            ...('encrypted_content' in block ? { encryptedContent: stringOrNull(block.encrypted_content) } : {}),
          });
        }
        return [];
      }
      case 'content_block_delta': {
        const delta = event.delta as Record<string, unknown> | undefined;
        switch (delta?.type) {
          case 'text_delta':
            return typeof delta.text === 'string' && delta.text !== '' ? [{ kind: 'text', text: delta.text }] : [];
          case 'thinking_delta':
            return typeof delta.thinking === 'string' && delta.thinking !== '' ? [{ kind: 'reasoning', text: delta.thinking }] : [];
          case 'input_json_delta': {
            const index = this.toolIndex.get(event.index as number);
            const json = delta.partial_json;
            return index !== undefined && typeof json === 'string' && json !== '' ? [{ kind: 'tool_delta', index, arguments: json }] : [];
          }
          case 'signature_delta':
            return typeof delta.signature === 'string' && delta.signature !== ''
              ? [{ kind: 'reasoning_signature', signature: delta.signature }]
              : [];
          case 'compaction_delta': {
            const block = this.compactions.get(event.index as number);
            if (!block) return [];
            if (typeof delta.content === 'string') block.content = `${block.content ?? ''}${delta.content}`;
            if ('encrypted_content' in delta) block.encryptedContent = stringOrNull(delta.encrypted_content);
            return [];
          }
          default:
            return []; // future delta types carry nothing for the client
        }
      }
      case 'content_block_stop': {
        const block = this.compactions.get(event.index as number);
        if (!block) return [];
        this.compactions.delete(event.index as number);
        return [{ kind: 'compaction', ...block }];
      }
      case 'message_delta': {
        const delta = event.delta as Record<string, unknown> | undefined;
        if (typeof delta?.stop_reason === 'string') this.stopReason = delta.stop_reason;
        const { outputTokens, iterations } = usageOf(event.usage);
        if (outputTokens !== undefined) this.usage.outputTokens = outputTokens;
        if (iterations !== undefined) this.usage.iterations = iterations;
        this.contextManagement = contextManagementOf(event.context_management) ?? this.contextManagement;
        return [];
      }
      case 'message_stop': {
        this.terminated = true;
        const metrics = readInvocationMetrics(event);
        if (metrics) Object.assign(this.usage, metrics);
        return [
          ...(this.contextManagement ? [{ kind: 'context_management' as const, value: this.contextManagement }] : []),
          finishEvent(this.stopReason, this.guardrailIntervened),
          { kind: 'usage', usage: { ...this.usage } },
        ];
      }
      default:
        return []; // ping and unknown event types are ignored, as the Anthropic docs ask
    }
  }

  end(): StreamEvent[] | undefined {
    if (!this.guardrailIntervened) return undefined;
    this.terminated = true;
    return interventionEnd({ ...this.usage });
  }
}

function parseResponse(body: Record<string, unknown>): StreamEvent[] {
  requireAnswer(Array.isArray(body.content), '`content`', 'an Anthropic message');
  const events: StreamEvent[] = [];
  const content = Array.isArray(body.content) ? (body.content as Record<string, unknown>[]) : [];
  let tools = 0;
  for (const block of content) {
    if (block.type === 'text' && typeof block.text === 'string') events.push({ kind: 'text', text: block.text });
    else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      events.push({ kind: 'reasoning', text: block.thinking });
      if (typeof block.signature === 'string' && block.signature !== '')
        events.push({ kind: 'reasoning_signature', signature: block.signature });
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string')
      events.push({ kind: 'reasoning_redacted', data: block.data });
    else if (block.type === 'compaction')
      events.push({
        kind: 'compaction',
        content: typeof block.content === 'string' ? block.content : null,
        ...('encrypted_content' in block ? { encryptedContent: stringOrNull(block.encrypted_content) } : {}),
      });
    else if (block.type === 'tool_use') {
      events.push(...wholeToolCall(tools++, stringOrEmpty(block.id), stringOrEmpty(block.name), block.input));
    }
  }
  const edits = contextManagementOf(body.context_management);
  if (edits) events.push({ kind: 'context_management', value: edits });
  return [...events, ...answerEnd(body.stop_reason, body, body.usage)];
}

/** Claude's `context_management` member (`{applied_edits: […]}`), when it is an object. */
function contextManagementOf(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** What Claude's invoke body takes: PDF as base64, text formats as plain text. */
const INVOKE_DOCUMENTS: DocumentSupport = {
  formats: new Set(['pdf', 'txt', 'md', 'csv', 'html']),
  hint: 'Claude on invoke reads PDF and text documents; use the converse route for Office files',
};

export const anthropicInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new AnthropicStreamMapper(),
  parseResponse,
  documents: INVOKE_DOCUMENTS,
  anthropicMessages: true,
  richToolResults: true,
  // "messages.N.content.M.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'" (tool-ids.ts); Claude's own
  // Messages body has its ids replaced by its builder (anthropic-native.ts).
  toolIds: CLAUDE_TOOL_IDS,
};

const CONVERSE: ConverseTraits = {
  tools: true,
  readsReasoning: true,
  images: true,
  documents: true,
  structured: true,
  structuredSchema: (schema, ctx) => claudeOutputSchema(schema, ctx, 'response_format'),
  extra: ['top_k', 'reasoning_effort', 'anthropic_beta', 'effort'],
  extraFields: ['top_k', 'thinking', 'output_config', 'anthropic_beta'],
  toolResults: true,
  foldsToolSchemas: true,
  modelParams: (params, ctx) => applyClaudeToolChoice(applyClaudeSampling(params, ctx), ctx),
  refusesStructured: claudeRefusesStructured,
  defaultMaxTokens: claudeThinkingRoom,
  // Claude's thinking rules (claude-rules.ts) may refuse or drop sampling parameters and raise max_tokens.
  reasoning: (request, ctx) => {
    // Converse sends no maxTokens unless the client or Claude's thinking needs one (Bedrock's default is CLAUDE_MAX_TOKENS).
    const max = request.params.max_tokens ?? CLAUDE_MAX_TOKENS;
    const reasoning = applyClaudeReasoning(request.params, ctx, request.messages);
    const params = { ...reasoning.params, ...(reasoning.maxTokens !== max ? { max_tokens: reasoning.maxTokens } : {}) };
    return { request: { ...request, params }, fields: reasoning.fields };
  },
};

export const anthropic: ChatFamilySpec<'anthropic'> = {
  family: 'anthropic',
  kind: 'chat',
  modelIds: /^anthropic\.claude/,
  providers: ['anthropic'],
  aliases: ['claude'],
  invoke: anthropicInvoke,
  converse: CONVERSE,
  caching: claudeCaching,
};
