/**
 * The converse route (Converse / ConverseStream, docs/bedrock-wire.md#converse): one body format and one stream shape
 * for every family; what differs per family is which OpenAI parameters it can honour there (tools,
 * images, reasoning, structured output) and which native keys `additionalModelRequestFields` may carry.
 *
 * Stream: the terminal event is `messageStop` (finish); `metadata` (usage, incl. cache tokens) may follow
 * it. The same event mapper serves Nova's invoke stream, whose chunks are these events as JSON objects
 * (`{"contentBlockDelta":{…}}`); there `metadata` carries Bedrock's invocation metrics and is the last
 * chunk, so the finish is held until it, or until the stream ends after `messageStop` (see `ConverseEventMapper`).
 */
import type { FinishReason, StreamEvent, Usage } from '../pipeline/events.ts';
import { bedrockBetas } from './anthropic-betas.ts';
import { claudeEffortField } from './claude-rules.ts';
import { answerEnd, isRecord, requireAnswer, wholeToolCall } from './answer.ts';
import { EVERY_DOCUMENT } from './documents.ts';
import { closedSchema } from './json-schema.ts';
import { finishEvent, guardrailIntervenedIn, interventionEnd, mapFinishReason } from './finish.ts';
import { callAt, partAt } from './paths.ts';
import { imageRefused, mergeExtraFields, rejectParam, threeLevelEffort } from './policy.ts';
import {
  assistantBlocks,
  joinText,
  parseArguments,
  type CacheMark,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type ParamName,
  type ReasoningBlock,
  type ReasoningEffort,
} from './request.ts';
import { withoutRefusedInference } from './inference-fields.ts';
import { servingFields } from './serving.ts';
import { BEDROCK_TOOL_IDS } from './tool-ids.ts';
import { BEDROCK_TOOL_NAMES } from './tool-names.ts';
import { toolInputSchema } from './tool-schema.ts';
import type { BuildContext, ConverseTraits, ModelFlag, RouteAdapter, StreamMapper } from './types.ts';
import { completeUsage, readInvocationMetrics, usageOf } from './usage.ts';
import { stringOrEmpty } from './text-completion.ts';

const BASE_PARAMS: readonly ParamName[] = ['max_tokens', 'temperature', 'top_p', 'stop', 'user', 'metadata'];
const TOOL_PARAMS: readonly ParamName[] = ['tools', 'tool_choice', 'parallel_tool_calls'];

/** A model whose family the sidecar does not know (a direct converse route): the base parameters, any extra field. */
export const UNKNOWN_FAMILY_TRAITS: ConverseTraits = {
  tools: false,
  images: false,
  documents: false,
  structured: false,
  extra: [],
  extraFields: ['*'],
};

/** A per-model flag for one model. */
export function flagFor(flag: ModelFlag | undefined, modelId: string): boolean {
  return typeof flag === 'function' ? flag(modelId) : flag === true;
}

type Block = Record<string, unknown>;

/**
 * OpenAI messages → converse (and Nova invoke) messages: tool results become user `toolResult` blocks,
 * adjacent same-role messages merge (converse wants strict alternation). Images go as base64 bytes;
 * reasoning handed back goes only where `reasoning` says the model reads it (`ConverseTraits.readsReasoning`);
 * `toolResultsAlone` (`ConverseTraits.toolResultsAlone`): no user turn holds tool results beside other blocks
 * (`apartFromToolResults`). `note` is told what was added, moved or left out.
 */
export function converseMessages(
  messages: readonly ChatMessage[],
  images: boolean,
  reasoning: boolean,
  note: (message: string) => void = () => {},
  toolResultsAlone = false,
): Array<{ role: string; content: Block[] }> {
  const out: Array<{ role: string; content: Block[] }> = [];
  let leftOut = 0;
  const append = (role: 'user' | 'assistant', blocks: Block[], mark: CacheMark | undefined): void => {
    if (mark) blocks.push(cachePointBlock(mark));
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
        return;
      case 'user':
        append(
          'user',
          m.content.flatMap((part, j) => {
            const block = userBlock(part, images, m, i, j);
            return part.cache ? [block, cachePointBlock(part.cache)] : [block];
          }),
          m.cache,
        );
        return;
      case 'assistant': {
        // In the client's order: each reasoning block its own reasoningContent, between text and tool use.
        const blocks: Block[] = [];
        for (const b of assistantBlocks(m)) {
          switch (b.kind) {
            case 'text':
              // Bedrock refuses a blank text block; a model's whitespace before its tool call comes back so.
              if (b.part.text.trim() === '') break;
              blocks.push({ text: b.part.text });
              if (b.part.cache) blocks.push(cachePointBlock(b.part.cache));
              break;
            case 'reasoning': {
              const block = reasoningContent(b.block);
              if (block && reasoning) blocks.push(block);
              else if (block) leftOut++;
              break;
            }
            case 'tool':
              blocks.push({
                toolUse: {
                  toolUseId: b.call.id,
                  name: b.call.name,
                  input: parseArguments(b.call, callAt(m, i, b.index)),
                },
              });
              break;
          }
        }
        // A turn that is reasoning alone (a model that stopped while thinking) says nothing the next turn needs,
        // and Claude 5 refuses it wherever it stands ("This model does not support assistant message prefill").
        if (blocks.every((block) => 'reasoningContent' in block)) return;
        append('assistant', blocks, m.cache);
        return;
      }
      case 'tool': {
        // A text result is one text block; images, documents and a failure go as the client sent them. A
        // failure that says nothing (Anthropic's `is_error` with no content) says `error`: Bedrock refuses a
        // `status: "error"` result whose content is empty.
        const plain = m.error !== true && m.content.every((part) => part.type === 'text');
        const silent = m.error === true && m.content.every((part) => part.type === 'text' && part.text.trim() === '');
        const content = plain
          ? [{ text: joinText(m.content) }]
          : silent
            ? [{ text: 'error' }]
            : m.content.map((part, j) => userBlock(part, images, m, i, j));
        append('user', [{ toolResult: { toolUseId: m.toolCallId, content, ...(m.error === true ? { status: 'error' } : {}) } }], m.cache);
        return;
      }
    }
  });
  if (leftOut > 0)
    note(`reasoning handed back left out (${leftOut} block${leftOut === 1 ? '' : 's'}): the model reads no reasoning in its history`);
  // Tool results set apart first: a document moved to a turn of its own then gets the text it needs there.
  const turns = toolResultsAlone ? out.flatMap((turn, i) => apartFromToolResults(turn, i, note)) : out;
  for (const [i, turn] of turns.entries())
    if (turn.role === 'user' && textForDocuments(turn.content)) note(`a document without text in turn ${i}: "." added`);
  return turns;
}

/**
 * What stands in for the model between a user turn's tool results and the images or documents the user
 * sent with them, on a model that takes neither beside tool results (`apartFromToolResults`): LiteLLM's
 * answer to the same refusal (BerriAI/litellm #6053) is such a turn.
 */
const TOOL_RESULTS_RECEIVED = 'Tool results received.';

/**
 * One turn as a model that refuses tool results beside other blocks in a user turn takes it ("Conversation
 * blocks and tool result blocks cannot be provided in the same turn.": Llama and Mistral, harness-sdk #1223,
 * browser-use #710). The turn is the sidecar's own doing as often as the client's: a Chat `tool` message and
 * the `user` message after it merge into one turn, as do a Responses `function_call_output` and the input
 * after it, and a Messages turn holds `tool_result` and text itself (the Claude Agent SDK's "Tool loaded."
 * after its tool search, in the agent captures). Text beside the results is what the user or the agent says
 * with them: it goes into the last result's content, text blocks after its own. Images and documents cannot
 * (these models take text results only): the user's blocks then follow in a user turn of their own, after an
 * assistant turn saying `TOOL_RESULTS_RECEIVED`. Any other turn is as it was.
 */
function apartFromToolResults(
  turn: { role: string; content: Block[] },
  i: number,
  note: (message: string) => void,
): Array<{ role: string; content: Block[] }> {
  if (turn.role !== 'user') return [turn];
  const results = turn.content.filter((block) => 'toolResult' in block);
  const others = turn.content.filter((block) => !('toolResult' in block) && !('cachePoint' in block));
  if (results.length === 0 || others.length === 0) return [turn];
  if (others.every((block) => typeof block.text === 'string')) {
    const content = turn.content.filter((block) => !others.includes(block));
    const last = results[results.length - 1]!.toolResult as { toolUseId: unknown; content: Block[]; status?: string };
    const folded = { toolResult: { ...last, content: [...last.content, ...others.map((block) => ({ text: block.text }))] } };
    note(`user turn ${i}: its text went into its last tool result (the model takes no text beside tool results)`);
    return [{ role: 'user', content: content.map((block) => (block === results[results.length - 1] ? folded : block)) }];
  }
  note(`user turn ${i}: its images or documents follow its tool results in a turn of their own (the model takes none beside them)`);
  return [
    { role: 'user', content: turn.content.filter((block) => !others.includes(block)) },
    { role: 'assistant', content: [{ text: TOOL_RESULTS_RECEIVED }] },
    { role: 'user', content: others },
  ];
}

/**
 * Converse refuses a turn with a document and no text ("A text block must be included when using documents.":
 * maximhq/bifrost #5817, archestra #4220, litellm #36499, 2026), which a file sent without a prompt is. A text of
 * one "." goes after the last document (and after a cache point marking it, so the cached prefix is the
 * client's); returns whether one was added.
 */
function textForDocuments(content: Block[]): boolean {
  const last = content.findLastIndex((block) => 'document' in block);
  if (last === -1 || content.some((block) => typeof block.text === 'string' && block.text.trim() !== '')) return false;
  const at = 'cachePoint' in (content[last + 1] ?? {}) ? last + 2 : last + 1;
  content.splice(at, 0, { text: '.' });
  return true;
}

/**
 * One reasoning block as Converse's `reasoningContent`: signed text with its own signature, or Claude's
 * redacted thinking as `redactedContent`, a blob (the bytes of its data, base64 in JSON). Unsigned reasoning
 * is the client's record only: nothing.
 */
function reasoningContent(block: ReasoningBlock): Block | undefined {
  if ('redacted' in block) return { reasoningContent: { redactedContent: Buffer.from(block.redacted, 'utf8').toString('base64') } };
  if (block.signature === undefined) return undefined;
  return { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } };
}

/** A converse `cachePoint` block (docs/contract.md#request-rules; the rules: caching.ts). */
export function cachePointBlock(mark: CacheMark): Block {
  return { cachePoint: { type: 'default', ...(mark.ttl !== undefined ? { ttl: mark.ttl } : {}) } };
}

function userBlock(part: ContentPart, images: boolean, m: ChatMessage, i: number, j: number): Block {
  switch (part.type) {
    case 'text':
      return { text: part.text };
    case 'image':
      if (!images) throw imageRefused(partAt(m, i, j));
      return { image: { format: part.format, source: { bytes: part.data } } };
    case 'document':
      return { document: { format: part.format, name: part.name, source: { bytes: part.data } } };
  }
}

/** The converse `system` blocks: one text block per system message, each followed by its cache point. */
export function converseSystem(messages: readonly ChatMessage[]): Block[] {
  const blocks: Block[] = [];
  for (const m of messages) {
    if (m.role !== 'system') continue;
    const text = joinText(m.content);
    if (text !== '') blocks.push({ text });
    if (m.cache && text !== '') blocks.push(cachePointBlock(m.cache));
  }
  return blocks;
}

/** Whether converse history holds tool blocks (then Bedrock wants a toolConfig even if no tool may run). */
export function hasToolBlocks(messages: readonly ChatMessage[]): boolean {
  return messages.some((m) => m.role === 'tool' || (m.role === 'assistant' && m.toolCalls.length > 0));
}

/** `toolConfig` for converse and Nova invoke, or undefined when no tools go (`foldsToolSchemas`: ConverseTraits'). */
export function converseToolConfig(request: ChatRequest, ctx: BuildContext, foldsToolSchemas = false): Record<string, unknown> | undefined {
  const p = request.params;
  if (p.tools === undefined || p.tools.length === 0) return undefined;
  const choice = p.tool_choice;
  // Converse has no "none": leave the tools out, unless the history needs them to be declared.
  if (choice?.type === 'none' && !hasToolBlocks(request.messages)) {
    ctx.note('tool_choice "none": tools not sent');
    return undefined;
  }
  const toolConfig: Record<string, unknown> = {
    tools: p.tools.flatMap((t) => {
      const spec = {
        toolSpec: {
          name: t.name,
          // Converse refuses an empty description (at least 1 character); Cline, MCP servers and OpenAI tools send "".
          ...(t.description !== undefined && t.description.trim() !== '' ? { description: t.description } : {}),
          inputSchema: { json: toolInputSchema(t.parameters, foldsToolSchemas, t.name, (message) => ctx.note(message)) },
        },
      };
      return t.cache ? [spec, cachePointBlock(t.cache)] : [spec];
    }),
  };
  if (choice?.type === 'function') toolConfig.toolChoice = { tool: { name: choice.name } };
  else if (choice?.type === 'required') toolConfig.toolChoice = { any: {} };
  else if (choice?.type === 'auto') toolConfig.toolChoice = { auto: {} };
  else if (choice?.type === 'none') ctx.note('tool_choice "none": tools sent without a choice (the history uses them)');
  if (p.parallel_tool_calls !== undefined) ctx.note('parallel_tool_calls: no converse setting for it; dropped');
  return toolConfig;
}

/**
 * A `toolConfig` declaring the tools the history's calls name, for a request that declares none but continues
 * a tool-use conversation (a last turn without tools; a Responses turn continued by `previous_response_id`,
 * whose tools are per request): Bedrock's Converse refuses tool blocks without a toolConfig ("The toolConfig
 * field must be defined when using toolUse and toolResult content blocks."), where OpenAI and Anthropic take
 * them. Each tool is declared with an open object schema; undefined when the history names no tool.
 */
export function historyToolConfig(request: ChatRequest, ctx: BuildContext): Record<string, unknown> | undefined {
  const names = new Set<string>();
  for (const m of request.messages) if (m.role === 'assistant') for (const call of m.toolCalls) names.add(call.name);
  if (names.size === 0) return undefined;
  ctx.note(`no tools declared, but the history calls ${[...names].join(', ')}: declared for Converse, which requires it`);
  return { tools: [...names].map((name) => ({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } })) };
}

/**
 * The converse adapter for a family, from its traits (`family` names it in messages; undefined: a model
 * whose family the sidecar does not know).
 */
export function converseAdapter(traits: ConverseTraits, family?: string): RouteAdapter {
  const { refusesTopK } = traits;
  const params = new Set<ParamName>([
    ...BASE_PARAMS,
    ...(traits.tools ? TOOL_PARAMS : []),
    ...(traits.structured ? ['response_format' as const] : []),
    ...traits.extra,
  ]);
  const extraFields: ReadonlySet<string> = new Set(traits.extraFields);
  const what = family ? `the ${family} family on converse` : 'this model on converse';

  function buildBody(original: ChatRequest, ctx: BuildContext): Record<string, unknown> {
    let request = original;
    let reasoningFields: Record<string, unknown> = {};
    if (original.params.reasoning_effort !== undefined) {
      // First: a family's reasoning rules (Claude's thinking) may refuse or drop sampling parameters.
      const reasoning = (traits.reasoning ?? threeLevelReasoning)(original, ctx, original.params.reasoning_effort);
      request = reasoning.request;
      reasoningFields = reasoning.fields;
    }
    if (traits.modelParams) request = { ...request, params: traits.modelParams(request.params, ctx) };
    // Fields some models refuse on converse whatever their value (inference-fields.ts).
    const accepted = withoutRefusedInference(request.params, ctx);
    if (accepted !== request.params) request = { ...request, params: accepted };
    const p = request.params;
    const modelId = ctx.target.modelId;
    const messages = converseMessages(
      request.messages,
      flagFor(traits.images, modelId),
      traits.readsReasoning === true,
      (message) => ctx.note(message),
      traits.toolResultsAlone === true,
    );
    const body: Record<string, unknown> = { messages };
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => joinText(m.content))
      .filter(Boolean);
    if (system.length > 0) {
      const first = messages.find((m) => m.role === 'user');
      if (flagFor(traits.foldsSystem, modelId) && first) first.content.unshift({ text: system.join('\n\n') });
      else body.system = converseSystem(request.messages);
    }
    const inference: Record<string, unknown> = {};
    const maxTokens = p.max_tokens ?? traits.defaultMaxTokens?.(ctx, reasoningFields);
    if (maxTokens !== undefined) inference.maxTokens = maxTokens;
    if (p.temperature !== undefined) inference.temperature = Math.min(p.temperature, 1);
    if (p.top_p !== undefined) inference.topP = p.top_p;
    if (p.stop !== undefined) inference.stopSequences = p.stop;

    const noTools = p.tools !== undefined && p.tools.length > 0 ? traits.refusesTools?.(modelId) : undefined;
    if (noTools !== undefined) {
      rejectParam(ctx, 'tools', `is not supported by ${modelId} (${noTools})`);
    } else {
      const declared = p.tools !== undefined && p.tools.length > 0;
      const toolConfig =
        converseToolConfig(request, ctx, traits.foldsToolSchemas === true) ??
        (traits.tools && !declared && hasToolBlocks(request.messages) ? historyToolConfig(request, ctx) : undefined);
      if (toolConfig) body.toolConfig = toolConfig;
    }

    const extra: Record<string, unknown> = {};
    const noTopK = p.top_k !== undefined ? traits.refusesTopK?.(modelId) : undefined;
    if (noTopK !== undefined) rejectParam(ctx, 'top_k', `is not supported by ${modelId} (${noTopK})`);
    else if (p.top_k !== undefined) Object.assign(extra, traits.topK ? traits.topK(p.top_k) : { top_k: p.top_k });
    for (const key of ['seed', 'presence_penalty', 'frequency_penalty'] as const) {
      if (p[key] !== undefined) extra[key] = p[key];
    }
    Object.assign(extra, reasoningFields);
    // Claude's effort without thinking rides in additionalModelRequestFields as on its own body.
    if (p.effort !== undefined && reasoningFields.output_config === undefined)
      Object.assign(extra, claudeEffortField(ctx.target.modelId, p.effort, ctx, reasoningFields.thinking));
    if (p.anthropic_beta !== undefined) {
      const { kept, dropped } = bedrockBetas(ctx.target.modelId, p.anthropic_beta, 'converse');
      for (const flag of dropped) ctx.note(`anthropic_beta flag "${flag}" dropped: Bedrock does not take it for ${ctx.target.modelId}`);
      if (kept.length > 0) extra.anthropic_beta = kept;
    }
    if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
    Object.assign(extra, original.additionalFields);
    mergeExtraFields(extra, ctx, extraFields, what);
    if (Object.keys(extra).length > 0) body.additionalModelRequestFields = extra;

    // json_object has no schema, and Bedrock's structured outputs take an object schema only closed
    // (json-schema.ts): `{type: "object"}` is refused, closed it allows `{}` alone. OpenAI's json_object asks
    // the prompt to say JSON, so the prompt is what asks for it here.
    const format = p.response_format;
    const noStructured = format?.type === 'json_schema' ? traits.refusesStructured?.(modelId) : undefined;
    if (format?.type === 'json_object')
      ctx.note('response_format json_object: no schema to constrain the answer with on converse; the prompt asks for JSON');
    else if (noStructured !== undefined)
      rejectParam(ctx, 'response_format', `json_schema is not supported by ${modelId} (${noStructured})`);
    else if (format?.type === 'json_schema') {
      const closed = closedSchema(format.schema);
      const schema = traits.structuredSchema ? traits.structuredSchema(closed, ctx) : closed;
      const jsonSchema: Record<string, unknown> = { schema: JSON.stringify(schema), name: format.name };
      if (format.description !== undefined && format.description.trim() !== '') jsonSchema.description = format.description;
      body.outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
    }
    Object.assign(body, servingFields(request, ctx.target));
    if (p.user !== undefined || p.metadata !== undefined) {
      // requestMetadata tags invocation logs; its values have a restricted alphabet, so only safe ones go.
      const metadata: Record<string, string> = { ...(p.metadata ?? {}), ...(p.user !== undefined ? { user: p.user } : {}) };
      const safe = Object.entries(metadata)
        .filter(([k, v]) => /^[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}$/.test(v) && k.length <= 256)
        .slice(0, 16);
      if (safe.length < Object.keys(metadata).length) ctx.note('metadata entries Bedrock cannot take in requestMetadata dropped');
      if (safe.length > 0) body.requestMetadata = Object.fromEntries(safe);
    }
    return body;
  }

  return {
    params,
    extraFields,
    buildBody,
    createStreamMapper: () => new ConverseEventMapper('converse'),
    parseResponse: parseConverseResponse,
    toolNames: traits.toolNames ?? BEDROCK_TOOL_NAMES,
    toolIds: traits.toolIds ?? BEDROCK_TOOL_IDS,
    ...(traits.documents ? { documents: EVERY_DOCUMENT } : {}),
    ...(traits.toolResults !== undefined ? { richToolResults: traits.toolResults } : {}),
    userImages: traits.images,
    // top_k set by an alias for a model that takes none: a config error (checkAlias), not a 400 per request.
    ...(refusesTopK ? { refusesExtraField: (key: string, modelId: string) => (key === 'top_k' ? refusesTopK(modelId) : undefined) } : {}),
    ...(traits.toolsOnlyWhole
      ? {
          asksWhole: (request: ChatRequest, modelId: string) =>
            request.stream && (request.params.tools?.length ?? 0) > 0 && traits.toolsOnlyWhole!(modelId),
          streamOf: converseStreamOf,
        }
      : {}),
  };
}

/**
 * The ConverseStream events Bedrock would have sent for a whole Converse answer, in its order: the role, each
 * content block (text, reasoning, a tool call's name then its input), the stop reason, the metadata.
 */
export function converseStreamOf(answer: Record<string, unknown>): Array<{ eventType: string; payload: unknown }> {
  const message = isRecord(answer.output) && isRecord(answer.output.message) ? answer.output.message : undefined;
  requireAnswer(Array.isArray(message?.content), '`output.message.content`', 'a Converse answer');
  const out: Array<{ eventType: string; payload: unknown }> = [{ eventType: 'messageStart', payload: { role: 'assistant' } }];
  (message!.content as unknown[]).forEach((block, contentBlockIndex) => {
    if (!isRecord(block)) return;
    const delta = (d: Record<string, unknown>): void => {
      out.push({ eventType: 'contentBlockDelta', payload: { contentBlockIndex, delta: d } });
    };
    if (typeof block.text === 'string') delta({ text: block.text });
    else if (isRecord(block.reasoningContent)) {
      const reasoning = block.reasoningContent;
      if (isRecord(reasoning.reasoningText)) {
        const { text, signature } = reasoning.reasoningText;
        if (typeof text === 'string') delta({ reasoningContent: { text } });
        if (typeof signature === 'string') delta({ reasoningContent: { signature } });
      } else if (typeof reasoning.redactedContent === 'string') delta({ reasoningContent: { redactedContent: reasoning.redactedContent } });
    } else if (isRecord(block.toolUse)) {
      const { toolUseId, name, input } = block.toolUse;
      out.push({ eventType: 'contentBlockStart', payload: { contentBlockIndex, start: { toolUse: { toolUseId, name } } } });
      delta({ toolUse: { input: JSON.stringify(input ?? {}) } });
    } else return;
    out.push({ eventType: 'contentBlockStop', payload: { contentBlockIndex } });
  });
  out.push({ eventType: 'messageStop', payload: { stopReason: answer.stopReason } });
  const metadata: Record<string, unknown> = {};
  for (const key of ['usage', 'metrics', 'trace', 'performanceConfig', 'serviceTier'])
    if (answer[key] !== undefined) metadata[key] = answer[key];
  out.push({ eventType: 'metadata', payload: metadata });
  return out;
}

/** `reasoning_effort` as three levels in `reasoning_effort` (gpt-oss): what a family without its own rule gets. */
export function threeLevelReasoning(
  request: ChatRequest,
  ctx: BuildContext,
  effort: ReasoningEffort,
): { request: ChatRequest; fields: Record<string, unknown> } {
  const level = threeLevelEffort(ctx, effort, false);
  return { request, fields: level === undefined ? {} : { reasoning_effort: level } };
}

/** A `toolUse` Bedrock ran itself (Nova 2's built-in tools say `type: "server_tool_use"`; client tools `tool_use` or nothing). */
function isServerToolUse(toolUse: Record<string, unknown>): boolean {
  return toolUse.type === 'server_tool_use';
}

const EVENT_NAMES = new Set(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);

/**
 * Converse stream events → internal events. `converse`: terminal at `messageStop`, usage from a later
 * `metadata`. `invoke` (Nova's native stream): `metadata` is the last chunk and carries the usage and
 * invocation metrics, so `messageStop`'s finish is held until it, as Anthropic's stop reason is held until
 * `message_stop`; a `messageStop` that itself carries invocation metrics ends the stream at once, and a stream
 * that ends after `messageStop` with no `metadata` ends with the held finish (`end`).
 */
export class ConverseEventMapper implements StreamMapper {
  terminated = false;
  private readonly toolIndex = new Map<number, number>();
  private stopReason: string | undefined;
  private usage: Partial<Usage> = {};
  private intervened = false;

  constructor(private readonly mode: 'converse' | 'invoke') {}

  push(event: Record<string, unknown>): StreamEvent[] {
    if (guardrailIntervenedIn(event)) this.intervened = true;
    // The normaliser hands converse events as { [eventType]: payload }; Nova's chunks have that shape too.
    const name = Object.keys(event).find((key) => EVENT_NAMES.has(key));
    const p = ((name ? event[name] : undefined) ?? {}) as Record<string, unknown>;
    switch (name) {
      case 'contentBlockStart': {
        const toolUse = (p.start as Record<string, unknown> | undefined)?.toolUse as Record<string, unknown> | undefined;
        // A built-in server tool (Nova 2's `server_tool_use`) ran inside Bedrock: its call, its input deltas
        // and its `toolResult` block are not the client's to run, so they never become tool_calls.
        if (!toolUse || isServerToolUse(toolUse)) return [];
        const index = this.toolIndex.size;
        this.toolIndex.set(p.contentBlockIndex as number, index);
        return [{ kind: 'tool_start', index, id: stringOrEmpty(toolUse.toolUseId), name: stringOrEmpty(toolUse.name) }];
      }
      case 'contentBlockDelta': {
        const delta = (p.delta ?? {}) as Record<string, unknown>;
        if (typeof delta.text === 'string') return delta.text === '' ? [] : [{ kind: 'text', text: delta.text }];
        const toolUse = delta.toolUse as Record<string, unknown> | undefined;
        if (toolUse && typeof toolUse.input === 'string') {
          const index = this.toolIndex.get(p.contentBlockIndex as number);
          return index === undefined || toolUse.input === '' ? [] : [{ kind: 'tool_delta', index, arguments: toolUse.input }];
        }
        const reasoning = delta.reasoningContent as Record<string, unknown> | undefined;
        if (reasoning && typeof reasoning.text === 'string' && reasoning.text !== '') return [{ kind: 'reasoning', text: reasoning.text }];
        if (reasoning && typeof reasoning.signature === 'string' && reasoning.signature !== '')
          return [{ kind: 'reasoning_signature', signature: reasoning.signature }];
        if (reasoning && typeof reasoning.redactedContent === 'string')
          return [{ kind: 'reasoning_redacted', data: redactedData(reasoning.redactedContent) }];
        return [];
      }
      case 'messageStop': {
        this.stopReason = typeof p.stopReason === 'string' ? p.stopReason : 'end_turn';
        if (this.mode === 'converse') {
          this.terminated = true;
          return [finishEvent(this.stopReason, this.intervened, finishFor(this.stopReason, this.toolIndex.size > 0))];
        }
        const metrics = readInvocationMetrics(event);
        return metrics ? this.finish(metrics) : [];
      }
      case 'metadata': {
        Object.assign(this.usage, usageOf(p.usage));
        if (this.mode === 'converse') {
          const usage = completeUsage(this.usage);
          const tier = isRecord(p.serviceTier) && typeof p.serviceTier.type === 'string' ? p.serviceTier.type : undefined;
          return usage ? [{ kind: 'usage', usage, ...(tier !== undefined ? { servedTier: tier } : {}) }] : [];
        }
        return this.stopReason === undefined ? [] : this.finish(readInvocationMetrics(event));
      }
      default:
        return []; // messageStart, contentBlockStop, unknown events
    }
  }

  /**
   * Nova's invoke stream after `messageStop` — the chunk that carries the stop reason, so the family's terminal
   * event (docs/contract.md#streaming-and-errors) — but before its `metadata`: the answer is whole, and its held
   * finish goes out with the usage seen, if any (see `StreamMapper.whole`).
   */
  whole(): StreamEvent[] | undefined {
    return this.mode === 'invoke' && !this.terminated && this.stopReason !== undefined ? this.finish(undefined) : undefined;
  }

  /**
   * The end of Nova's invoke stream before its `metadata` (see `StreamMapper.end`): after `messageStop`, the whole
   * answer's finish; before it, only a stream cut after a guardrail intervened has ended (converse says so in
   * `messageStop`).
   */
  end(): StreamEvent[] | undefined {
    if (this.mode !== 'invoke') return undefined;
    const whole = this.whole();
    if (whole) return whole;
    if (!this.intervened) return undefined;
    this.terminated = true;
    return interventionEnd(completeUsage(this.usage));
  }

  private finish(metrics: Partial<Usage> | undefined): StreamEvent[] {
    this.terminated = true;
    const usage = completeUsage(this.usage, metrics);
    const finish = finishEvent(this.stopReason, this.intervened, finishFor(this.stopReason, this.toolIndex.size > 0));
    return usage ? [finish, { kind: 'usage', usage }] : [finish];
  }
}

/**
 * The finish of a Converse answer, by what it holds as much as by `stopReason`, which does not always agree: OpenAI's
 * models on Converse say `end_turn` after tool calls, and a `tool_use` stop has come with no tool call at all
 * (strands-agents/harness-sdk #644 with raw responses, and its fix #767; strands-rl/strands-env #252, 2026-09-01).
 * A client acts on `tool_calls`, so the answer's own content decides between the two; Bedrock's word stays as the
 * upstream reason (the native surface gives it back as it was).
 */
function finishFor(stopReason: string | undefined, calledTools: boolean): FinishReason {
  const reason = mapFinishReason(stopReason);
  if (reason === 'stop' && calledTools) return 'tool_calls';
  if (reason === 'tool_calls' && !calledTools) return 'stop';
  return reason;
}

/** Converse's `redactedContent` (a blob: base64 in JSON) as the redacted thinking's data Claude's own body carries. */
function redactedData(blob: string): string {
  return Buffer.from(blob, 'base64').toString('utf8');
}

/** A whole Converse answer (also Nova's InvokeModel answer: the same `output.message` shape). */
export function parseConverseResponse(body: Record<string, unknown>): StreamEvent[] {
  const message = isRecord(body.output) && isRecord(body.output.message) ? body.output.message : undefined;
  requireAnswer(Array.isArray(message?.content), '`output.message.content`', 'a Converse (or Nova) answer');
  requireAnswer(typeof body.stopReason === 'string', '`stopReason`', 'a Converse (or Nova) answer');
  const content = message!.content as Record<string, unknown>[];
  const events: StreamEvent[] = [];
  let tools = 0;
  for (const block of content) {
    if (typeof block.text === 'string') events.push({ kind: 'text', text: block.text });
    const reasoningContent = block.reasoningContent as Record<string, unknown> | undefined;
    const reasoning = reasoningContent?.reasoningText as Record<string, unknown> | undefined;
    if (typeof reasoning?.text === 'string') events.push({ kind: 'reasoning', text: reasoning.text });
    if (typeof reasoning?.signature === 'string' && reasoning.signature !== '')
      events.push({ kind: 'reasoning_signature', signature: reasoning.signature });
    if (typeof reasoningContent?.redactedContent === 'string')
      events.push({ kind: 'reasoning_redacted', data: redactedData(reasoningContent.redactedContent) });
    const toolUse = block.toolUse as Record<string, unknown> | undefined;
    if (toolUse && !isServerToolUse(toolUse)) {
      events.push(...wholeToolCall(tools++, stringOrEmpty(toolUse.toolUseId), stringOrEmpty(toolUse.name), toolUse.input));
    }
  }
  return [
    ...events,
    ...answerEnd(
      body.stopReason,
      body,
      body.usage,
      finishFor(typeof body.stopReason === 'string' ? body.stopReason : undefined, tools > 0),
    ),
  ];
}
