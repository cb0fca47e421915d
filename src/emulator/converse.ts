// Converse / ConverseStream (docs/bedrock-wire.md#converse): one request/response format for every family.
// Input: a routed, authenticated call. Output: the Converse JSON, or an event stream of
// messageStart, contentBlock{Start,Delta,Stop}…, messageStop, metadata (usage after messageStop).
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
//         https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html
import { CONVERSE_UNSUPPORTED, embeddingModelOf } from './embeddings.ts';
import { INVALID_MODEL_ID, MALFORMED_INPUT, novaToolNameFault, rawBody, settleReply, type CallContext } from './call.ts';
import { converseSchema } from './converse-schema.ts';
import {
  betaProblem,
  converseCompactProblem,
  forcedToolProblem,
  manyImageProblem,
  maxTokensProblem,
  mediaProblem,
  PREFILL_REFUSED,
  refusesReasoningOnlyTurn,
  refusesStructuredOutput,
  samplingProblem,
  STRUCTURED_OUTPUT_REFUSED,
  thinkingContinuationProblem,
  thinkingProblem,
  topLevelCompositionProblem,
} from './families/anthropic.ts';
import { INVOKE_FAMILIES } from './families/index.ts';
import { isJson, type Json } from './families/types.ts';
import { eventFrame, padding } from './frames.ts';
import { nativeGuardrail, type NativeGuard } from './native-guardrail.ts';
import { familyOf } from './model-id.ts';
import { planFromReply, type LazyText, type OutputPlan } from './output.ts';
import { applyCacheUse, cachePointProblem, conversePoints } from './prompt-cache.ts';
import { check, smithyReport } from './schema.ts';
import { writeStream } from './stream-writer.ts';
import { claudeConstraintProblem, hasOpenObject, OPEN_OBJECT_SCHEMA } from './structured-output.ts';
import { imageLabelProblem } from './image-bytes.ts';
import { imagePlacementProblem } from './image-support.ts';
import { reasoningHistoryProblem } from './reasoning-history.ts';
import { converseToolUseIdProblems, mistralConverseIdProblem } from './tool-use-ids.ts';
import { gptFieldsProblem, inferenceFieldProblem, isGptFrontier } from './inference-fields.ts';

export const MUST_START_WITH_USER =
  'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
export const MUST_ALTERNATE =
  'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
export const RESERVATION_NOT_FOUND = 'Reservation not found.';
/**
 * Families whose Converse takes two messages of one role in a row: Titan Text answered two user messages with
 * 200 (test/fixtures/real-traffic/cv-titan-express-guardrail, cs-titan-express-guardrail). The refusal is
 * reported against Claude models in many public issues; for the rest no answer was recorded, so it stays.
 */
const TAKES_SAME_ROLE_IN_A_ROW: ReadonlySet<string> = new Set(['titan']);
// DocumentBlock.name (API_runtime_DocumentBlock): alphanumerics, single whitespace, hyphens, parentheses, square brackets.
const DOCUMENT_NAME = /^(?!.*\s\s)[A-Za-z0-9\s\-()[\]]{1,200}$/;
export const DOCUMENT_NAME_MESSAGE =
  "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character.";
const MAX_DOCUMENTS = 5;
/**
 * A message with a document and no text: maximhq/bifrost #5817 (2026-08), archestra-ai/archestra #4220 (2026-04,
 * production 400s), BerriAI/litellm #36499 (2026-08), ag-ui-protocol/ag-ui #1978 (2026-06).
 */
export const DOCUMENT_NEEDS_TEXT = 'A text block must be included when using documents.';
/**
 * Llama 4 (Maverick, Scout) takes tools on Converse but not on ConverseStream, as users report from Bedrock:
 * earendil-works/pi #3739 (2026-04, both models), obot-platform/obot #6740 (2026-05), brave/brave-browser #52955.
 */
const NO_STREAMED_TOOLS = "This model doesn't support tool use in streaming mode.";
function refusesStreamedTools(modelId: string): boolean {
  return /llama4-(maverick|scout)/.test(modelId.toLowerCase());
}

/**
 * Titan Text, Mistral 7B and Mixtral take no system prompt on Converse: Mintplex-Labs/anything-llm #2486 (2024-10,
 * Titan Express), danny-avila/LibreChat #6456 (2025-03, Titan Premier), 567-labs/instructor #1753 (2025-07,
 * mistral-7b-instruct and mixtral-8x7b-instruct).
 */
export const NO_SYSTEM_MESSAGES =
  "This model doesn't support system messages. Try again without a system message or use a model that supports system messages.";
function refusesSystem(modelId: string): boolean {
  return familyOf(modelId) === 'titan' || /mistral-7b|mixtral/.test(modelId.toLowerCase());
}

export const TOOL_CONFIG_REQUIRED = 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';

/**
 * Llama and Mistral refuse a user turn holding tool results beside any other block (a cache point aside), as
 * reported from Bedrock's Converse: strands-agents/harness-sdk #1223 (2025-11-21, Llama 4 Maverick),
 * browser-use/browser-use #710 (2025-02-13, Llama 3.3 70B and Mistral Large), langchain-ai/langchain-aws #141
 * (2024-08). Claude and Nova take such a turn (Claude Code sends one on most tool turns).
 */
function mixedToolResultTurn(index: number): string {
  return `messages.${index}.content: Conversation blocks and tool result blocks cannot be provided in the same turn.`;
}
function refusesMixedToolResults(modelId: string): boolean {
  const family = familyOf(modelId);
  return family === 'llama' || family === 'mistral-chat' || family === 'mistral-text';
}

const TOOL_NAME = /^[a-zA-Z0-9_-]+$/;
const TOOL_NAME_MAX = 64;

/**
 * Tool names (`toolSpec.name`, `toolChoice.tool.name`, every `toolUse.name`): at most 64 characters of
 * `[a-zA-Z0-9_-]`, in Bedrock's constraint words with its `member` path segments (as reported from Bedrock by
 * openclaw and aws-samples users hitting it with MCP tool names).
 */
function toolNameProblems(body: Json): string[] {
  const named: Array<[string, unknown]> = [];
  const config = isJson(body.toolConfig) ? body.toolConfig : undefined;
  const tools = Array.isArray(config?.tools) ? (config.tools as unknown[]) : [];
  tools.forEach((tool, i) => {
    if (isJson(tool) && isJson(tool.toolSpec)) named.push([`toolConfig.tools.${i}.member.toolSpec.name`, tool.toolSpec.name]);
  });
  if (isJson(config?.toolChoice) && isJson(config.toolChoice.tool))
    named.push(['toolConfig.toolChoice.tool.name', config.toolChoice.tool.name]);
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  messages.forEach((message, i) => {
    const content = isJson(message) && Array.isArray(message.content) ? (message.content as unknown[]) : [];
    content.forEach((block, j) => {
      if (isJson(block) && isJson(block.toolUse)) named.push([`messages.${i}.member.content.${j}.member.toolUse.name`, block.toolUse.name]);
    });
  });
  const out: string[] = [];
  for (const [at, name] of named) {
    if (typeof name !== 'string') continue;
    if (name.length > TOOL_NAME_MAX)
      out.push(`Value at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${TOOL_NAME_MAX}`);
    if (!TOOL_NAME.test(name))
      out.push(`Value '${name}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`);
  }
  return out;
}

/**
 * Tool input schemas. Converse takes `inputSchema.json` only with `type: "object"` at the top, for every model
 * (senpi #1947, 2026-09, reported from Bedrock with a TypeBox union as the schema). Claude then refuses
 * `anyOf` / `oneOf` / `allOf` at the top, in its own words (the same report), counting its tools as Claude's
 * `tools` list does (the tool specs alone).
 */
function toolSchemaProblem(modelId: string, body: Json): string | undefined {
  const config = isJson(body.toolConfig) ? body.toolConfig : undefined;
  const tools = Array.isArray(config?.tools) ? (config.tools as unknown[]) : [];
  const schemas: unknown[] = [];
  for (let i = 0; i < tools.length; i++) {
    const spec = tools[i];
    if (!isJson(spec) || !isJson(spec.toolSpec)) continue;
    const schema = isJson(spec.toolSpec.inputSchema) ? spec.toolSpec.inputSchema.json : undefined;
    if (isJson(schema) && schema.type !== 'object')
      return `The value at toolConfig.tools.${i}.toolSpec.inputSchema.json.type must be one of the following: object.`;
    schemas.push(schema);
  }
  const claude = familyOf(modelId) === 'anthropic' ? topLevelCompositionProblem(schemas) : undefined;
  return claude === undefined ? undefined : `The model returned the following errors: ${claude}`;
}

/**
 * Structured outputs (`outputConfig.textFormat`): an object schema only closed (structured-output.ts), and for
 * Claude none of the constraint keywords its grammar refuses, inside the model's errors. A schema that is not
 * JSON is refused too.
 */
function outputSchemaProblem(modelId: string, body: Json): string | undefined {
  const format = isJson(body.outputConfig) ? body.outputConfig.textFormat : undefined;
  const structure = isJson(format) && isJson(format.structure) ? format.structure.jsonSchema : undefined;
  if (!isJson(structure) || typeof structure.schema !== 'string') return undefined;
  let schema: unknown;
  try {
    schema = JSON.parse(structure.schema);
  } catch {
    return 'The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON.';
  }
  if (familyOf(modelId) === 'anthropic' && refusesStructuredOutput(modelId))
    return `The model returned the following errors: ${STRUCTURED_OUTPUT_REFUSED}`;
  if (hasOpenObject(schema)) return OPEN_OBJECT_SCHEMA;
  const claude = familyOf(modelId) === 'anthropic' ? claudeConstraintProblem(schema) : undefined;
  return claude === undefined ? undefined : `The model returned the following errors: ${claude}`;
}

/**
 * A Converse image block as Claude reads it (an image/<format> media type) checked against its bytes
 * (image-bytes.ts: Claude's refusal of a mislabelled image, inside the model's errors on Converse).
 */
function claudeImageLabel(part: unknown, at: string): string | undefined {
  const image = isJson(part) && isJson(part.image) ? part.image : undefined;
  const bytes = image && isJson(image.source) ? image.source.bytes : undefined;
  if (typeof image?.format !== 'string' || typeof bytes !== 'string') return undefined;
  return imageLabelProblem(`${at}.image.source.base64`, `image/${image.format}`, bytes);
}

/** Checks beyond the shape: tool names, conversation order, blank text, tool blocks without toolConfig, model extras. */
function semanticProblem(modelId: string, body: Json): string | undefined {
  const names = [...toolNameProblems(body), ...converseToolUseIdProblems(body)];
  if (names.length > 0) return `${names.length} validation error${names.length === 1 ? '' : 's'} detected: ${names.join('; ')}`;
  const schemas = toolSchemaProblem(modelId, body);
  if (schemas) return schemas;
  const output = outputSchemaProblem(modelId, body);
  if (output) return output;
  const refusedField = inferenceFieldProblem(modelId, body.inferenceConfig);
  if (refusedField) return refusedField;
  const image = imagePlacementProblem(modelId, Array.isArray(body.messages) ? (body.messages as Json[]) : []);
  if (image) return image;
  const reasoning = reasoningHistoryProblem(modelId, body.messages);
  if (reasoning) return reasoning.claude ? `The model returned the following errors: ${reasoning.message}` : reasoning.message;
  if (familyOf(modelId) === 'anthropic' && refusesReasoningOnlyTurn(modelId)) {
    const turns = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
    const reasoningOnly = (m: unknown): boolean =>
      isJson(m) &&
      m.role === 'assistant' &&
      Array.isArray(m.content) &&
      m.content.length > 0 &&
      m.content.every((b: unknown) => isJson(b) && ('reasoningContent' in b || 'cachePoint' in b));
    if (turns.some(reasoningOnly)) return PREFILL_REFUSED;
  }
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  if (Array.isArray(body.system) && body.system.length > 0 && refusesSystem(modelId)) return NO_SYSTEM_MESSAGES;
  const isPrompt = /:prompt\//.test(modelId);
  if (!isPrompt && (messages.length === 0 || messages[0]!.role !== 'user')) return MUST_START_WITH_USER;
  let usesTools = false;
  let documents = 0;
  // Every image and document, tool results' too: Claude's own limit counts them together (mediaProblem).
  const media = { images: 0, documents: 0 };
  const images: Array<{ at: string; data: string }> = [];
  for (let i = 0; i < messages.length; i++) {
    if (i > 0 && messages[i]!.role === messages[i - 1]!.role && !TAKES_SAME_ROLE_IN_A_ROW.has(familyOf(modelId) ?? ''))
      return MUST_ALTERNATE;
    const content = messages[i]!.content as Json[];
    if (
      refusesMixedToolResults(modelId) &&
      content.some((b) => 'toolResult' in b) &&
      content.some((b) => !('toolResult' in b) && !('cachePoint' in b))
    )
      return mixedToolResultTurn(i);
    if (content.some((b) => 'document' in b) && !content.some((b) => typeof b.text === 'string' && b.text.trim() !== ''))
      return DOCUMENT_NEEDS_TEXT;
    for (let j = 0; j < content.length; j++) {
      const block = content[j]!;
      if (typeof block.text === 'string' && block.text.trim() === '') {
        return `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`;
      }
      if ('toolUse' in block || 'toolResult' in block) usesTools = true;
      const result = block.toolResult;
      if (isJson(result) && result.status === 'error' && Array.isArray(result.content) && result.content.length === 0) {
        return `The content field at messages.${i}.content.${j}.toolResult cannot be empty when status value is error.`;
      }
      const doc = block.document;
      if (isJson(doc) && typeof doc.name === 'string' && !DOCUMENT_NAME.test(doc.name)) return DOCUMENT_NAME_MESSAGE;
      if (isJson(doc) && ++documents > MAX_DOCUMENTS) return `A request can include at most ${MAX_DOCUMENTS} documents.`;
      // A tool result's document is a DocumentBlock too: the same name rule.
      const parts = isJson(result) && Array.isArray(result.content) ? (result.content as unknown[]) : [];
      for (const [k, part] of [block, ...parts].entries()) {
        // A tool result's `json` must be an object: "The format of the value at messages.28.content.0.toolResult
        // .content.0.json is invalid. …" (deepset-ai/haystack-core-integrations #3766, 2026-08, Sonnet 4.6;
        // sigoden/aichat #1550, 2026-09).
        if (k > 0 && isJson(part) && 'json' in part && !isJson(part.json))
          return `The format of the value at messages.${i}.content.${j}.toolResult.content.${k - 1}.json is invalid. Provide a json object for the field and try again.`;
        if (isJson(part) && isJson(part.image)) media.images++;
        const bytes = isJson(part) && isJson(part.image) && isJson(part.image.source) ? part.image.source.bytes : undefined;
        const at = k === 0 ? `messages.${i}.content.${j}` : `messages.${i}.content.${j}.toolResult.content.${k - 1}`;
        if (typeof bytes === 'string') images.push({ at: `${at}.image.source.bytes`, data: bytes });
        if (isJson(part) && isJson(part.document)) media.documents++;
      }
      if (familyOf(modelId) === 'anthropic') {
        const labels = [block, ...parts].map((part, k) =>
          claudeImageLabel(part, k === 0 ? `messages.${i}.content.${j}` : `messages.${i}.content.${j}.toolResult.content.${k - 1}`),
        );
        const label = labels.find((p) => p !== undefined);
        if (label) return `The model returned the following errors: ${label}`;
      }
      for (const part of parts) {
        const inner = isJson(part) ? part.document : undefined;
        if (isJson(inner) && typeof inner.name === 'string' && !DOCUMENT_NAME.test(inner.name)) return DOCUMENT_NAME_MESSAGE;
      }
    }
  }
  if (usesTools && body.toolConfig === undefined) return TOOL_CONFIG_REQUIRED;
  const mistralIds = familyOf(modelId)?.startsWith('mistral') ? mistralConverseIdProblem(body) : undefined;
  if (mistralIds !== undefined) return mistralIds;
  if (familyOf(modelId) === 'anthropic') {
    // Claude reads inferenceConfig's temperature and topP as its own `temperature` and `top_p`.
    const inference = isJson(body.inferenceConfig) ? body.inferenceConfig : {};
    const tooMany = maxTokensProblem(modelId, inference.maxTokens);
    if (tooMany !== undefined) return tooMany;
    const extras = isJson(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
    const sampling = samplingProblem(modelId, { temperature: inference.temperature, top_p: inference.topP, top_k: extras.top_k });
    if (sampling !== undefined) return `The model returned the following errors: ${sampling}`;
    const choice = isJson(body.toolConfig) ? body.toolConfig.toolChoice : undefined;
    const forced = isJson(choice) && ('any' in choice || 'tool' in choice);
    const problem = forcedToolProblem(modelId, isJson(extras.thinking) ? extras.thinking.type : undefined, forced);
    if (problem !== undefined) return `The model returned the following errors: ${problem}`;
  }
  const tooMuchMedia =
    familyOf(modelId) === 'anthropic'
      ? (mediaProblem(modelId, media.images, media.documents) ?? manyImageProblem(modelId, images))
      : undefined;
  if (tooMuchMedia !== undefined) return `The model returned the following errors: ${tooMuchMedia}`;
  // additionalModelRequestFields go to the model, whose own validator rejects keys it does not know.
  const family = familyOf(modelId);
  const extras = body.additionalModelRequestFields;
  const native = family && family !== 'any' ? INVOKE_FAMILIES[family] : undefined;
  if (isGptFrontier(modelId) && isJson(extras)) {
    const gpt = gptFieldsProblem(modelId, extras);
    if (gpt !== undefined) return gpt;
  } else if (native && isJson(extras)) {
    const unknown = Object.keys(extras).find((k) => !native.topLevelKeys.includes(k) && !native.converseExtraKeys?.includes(k));
    if (unknown !== undefined) return `The model returned the following errors: ${native.extraKeyMessage(unknown)}`;
    const compact = family === 'anthropic' ? converseCompactProblem(extras) : undefined;
    if (compact !== undefined) return compact; // Bedrock's own refusal, not the model's
    const thinking = family === 'anthropic' ? (betaProblem(modelId, extras) ?? thinkingProblem(modelId, extras)) : undefined;
    if (thinking !== undefined) return `The model returned the following errors: ${thinking}`;
    if (family === 'anthropic') {
      // Claude's own block types for Converse's: reasoningContent is its thinking (redacted or not).
      const typeOf = (b: Json): string =>
        'reasoningContent' in b
          ? isJson(b.reasoningContent) && 'redactedContent' in b.reasoningContent
            ? 'redacted_thinking'
            : 'thinking'
          : 'toolUse' in b
            ? 'tool_use'
            : 'toolResult' in b
              ? 'tool_result'
              : 'text';
      const turns = messages.map((m) => ({ role: m.role, types: (m.content as Json[]).filter((b) => !('cachePoint' in b)).map(typeOf) }));
      const mode = isJson(extras.thinking) ? extras.thinking.type : undefined;
      const continuation = thinkingContinuationProblem(mode === 'enabled', turns);
      if (continuation !== undefined) return `The model returned the following errors: ${continuation}`;
    }
  }
  return undefined;
}

/** `reserved` needs a capacity reservation the emulator never has (Bedrock: "Reservation not found."). */
function serviceTierProblem(body: Json): string | undefined {
  return isJson(body.serviceTier) && body.serviceTier.type === 'reserved' ? RESERVATION_NOT_FOUND : undefined;
}

/** What served the call, echoed as Bedrock reports it (response / metadata `serviceTier`, `performanceConfig`). */
function servedAs(body: Json): Json {
  const out: Json = {};
  if (isJson(body.serviceTier)) out.serviceTier = { type: body.serviceTier.type };
  if (isJson(body.performanceConfig)) out.performanceConfig = { latency: body.performanceConfig.latency ?? 'standard' };
  return out;
}

function lastUserText(body: Json): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role !== 'user') continue;
    return (messages[i]!.content as Json[])
      .filter((b) => typeof b.text === 'string')
      .map((b) => b.text as string)
      .join('\n');
  }
  return '';
}

/**
 * Converse `usage` as real answers carry it (test/fixtures/real-traffic/c[sv]-*): cache counts in both
 * spellings (`cacheReadInputTokens` and `cacheReadInputTokenCount`) when there are any, and the
 * `serverToolUsage` object current Bedrock adds (empty without built-in tools).
 */
function usage(plan: OutputPlan): Json {
  const u: Json = {
    inputTokens: plan.usage.inputTokens,
    outputTokens: plan.usage.outputTokens,
    totalTokens: plan.usage.inputTokens + plan.usage.outputTokens + (plan.usage.cacheReadTokens ?? 0) + (plan.usage.cacheWriteTokens ?? 0),
    serverToolUsage: {},
  };
  if (plan.usage.cacheReadTokens !== undefined || plan.usage.cacheWriteTokens !== undefined) {
    u.cacheReadInputTokens = u.cacheReadInputTokenCount = plan.usage.cacheReadTokens ?? 0;
    u.cacheWriteInputTokens = u.cacheWriteInputTokenCount = plan.usage.cacheWriteTokens ?? 0;
    // The writes by ttl (earendil-works/pi #9457, measured 2026-09-10: the same request with a 5m or a 1h point
    // reports the same cacheWriteInputTokens and differs only here; langchain-aws #1098, litellm #37104).
    const write = plan.usage.cacheWriteTokens ?? 0;
    const hour = Math.min(write, plan.usage.cacheWrite1hTokens ?? 0);
    const details = [
      ...(write - hour > 0 ? [{ ttl: '5m', inputTokens: write - hour }] : []),
      ...(hour > 0 ? [{ ttl: '1h', inputTokens: hour }] : []),
    ];
    if (details.length > 0) u.cacheDetails = details;
  }
  return u;
}

/** Claude signs its reasoning; gpt-oss, Qwen and DeepSeek reasoning on converse carries no signature. */
function signsReasoning(call: CallContext): boolean {
  return familyOf(call.modelId) === 'anthropic';
}

/** A text block goes out when there is text, or when nothing else would (no tool call, no reasoning). */
function hasTextBlock(plan: OutputPlan): boolean {
  return plan.text.bytes > 0 || (plan.toolCalls.length === 0 && plan.reasoning === undefined);
}

function toolUseId(call: CallContext, id: string | undefined): string {
  return id ?? call.render.newId('tooluse_');
}

/** One reasoning block of a Converse response, signed where the family signs. */
function reasoningBlock(call: CallContext, text: LazyText, signature: string): Json {
  const reasoningText: Json = { text: text.full() };
  if (signsReasoning(call)) reasoningText.signature = signature;
  return { reasoningContent: { reasoningText } };
}

/** One reasoning block of a ConverseStream: its text deltas, then (where the family signs) its own signature. */
function* reasoningEvents(call: CallContext, text: LazyText, signature: string, index: number): Generator<StreamEvent> {
  for (const piece of text.pieces())
    yield ['contentBlockDelta', { delta: { reasoningContent: { text: piece } }, contentBlockIndex: index }];
  if (signsReasoning(call)) yield ['contentBlockDelta', { delta: { reasoningContent: { signature } }, contentBlockIndex: index }];
  yield ['contentBlockStop', { contentBlockIndex: index }];
}

function converseResponse(call: CallContext, plan: OutputPlan, stopReason: string, trace: Json | undefined): Json {
  const content: Json[] = [];
  if (plan.reasoning) content.push(reasoningBlock(call, plan.reasoning, plan.reasoningSignature));
  if (hasTextBlock(plan)) content.push({ text: plan.text.full() });
  for (const c of plan.toolCalls) {
    if (c.reasoning) content.push(reasoningBlock(call, c.reasoning, c.reasoningSignature));
    content.push({ toolUse: { toolUseId: toolUseId(call, c.id), name: c.name, input: c.input } });
  }
  const out: Json = {
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: usage(plan),
    metrics: { latencyMs: Math.max(1, Date.now() - call.startMs) },
  };
  if (trace) out.trace = trace;
  return out;
}

type StreamEvent = [eventType: string, payload: Json];

/** ConverseStream events for a plan (text blocks have no start event, as observed on Bedrock). */
function* converseEvents(call: CallContext, plan: OutputPlan, guard: NativeGuard, served: Json): Generator<StreamEvent> {
  yield ['messageStart', { role: 'assistant' }];
  let index = 0;
  if (plan.reasoning) {
    // gpt-oss opens its answer with an empty text block before the reasoning (real streams show it).
    if (familyOf(call.modelId) === 'openai') {
      yield ['contentBlockDelta', { delta: { text: '' }, contentBlockIndex: index }];
      yield ['contentBlockStop', { contentBlockIndex: index }];
      index++;
    }
    yield* reasoningEvents(call, plan.reasoning, plan.reasoningSignature, index);
    index++;
  }
  if (hasTextBlock(plan)) {
    for (const piece of plan.text.pieces()) yield ['contentBlockDelta', { delta: { text: piece }, contentBlockIndex: index }];
    yield ['contentBlockStop', { contentBlockIndex: index }];
    index++;
  }
  // Read after the text: a native guardrail may have dropped the tool calls and changed the stop reason.
  for (const c of plan.toolCalls) {
    if (c.reasoning) {
      yield* reasoningEvents(call, c.reasoning, c.reasoningSignature, index);
      index++;
    }
    yield ['contentBlockStart', { start: { toolUse: { toolUseId: toolUseId(call, c.id), name: c.name } }, contentBlockIndex: index }];
    for (const piece of c.argumentDeltas) yield ['contentBlockDelta', { delta: { toolUse: { input: piece } }, contentBlockIndex: index }];
    yield ['contentBlockStop', { contentBlockIndex: index }];
    index++;
  }
  yield ['messageStop', { stopReason: plan.stopReason }];
  const metadata: Json = { usage: usage(plan), metrics: { latencyMs: Math.max(1, Date.now() - call.startMs) }, ...served };
  const trace = guard.converseTrace();
  if (trace) metadata.trace = trace;
  yield ['metadata', metadata];
}

function* frames(call: CallContext, events: Iterable<StreamEvent>): Generator<Buffer> {
  for (const [type, payload] of events) yield eventFrame(type, JSON.stringify({ ...payload, p: padding(call.rand) }));
}

function* rawFrames(events: unknown[]): Generator<Buffer> {
  for (const ev of events) {
    if (!isJson(ev)) continue;
    for (const [type, payload] of Object.entries(ev))
      yield eventFrame(type, typeof payload === 'string' ? payload : JSON.stringify(payload));
  }
}

export async function handleConverse(call: CallContext, stream: boolean): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(call.body.toString('utf8'));
  } catch {
    return call.validationError(MALFORMED_INPUT);
  }
  if (!isJson(body)) return call.validationError(MALFORMED_INPUT);
  if (embeddingModelOf(call.modelId)) return call.validationError(CONVERSE_UNSUPPORTED);
  if (familyOf(call.modelId) === undefined) return call.validationError(INVALID_MODEL_ID);
  const problems = check(converseSchema(stream), body);
  if (problems.length > 0) return call.validationError(smithyReport(problems));
  const semantic = semanticProblem(call.modelId, body);
  if (semantic) return call.validationError(semantic);
  if (stream && refusesStreamedTools(call.modelId) && isJson(body.toolConfig)) return call.validationError(NO_STREAMED_TOOLS);
  const cacheParts = conversePoints(body);
  const cacheProblem = cachePointProblem(call.modelId, cacheParts);
  if (cacheProblem) return call.validationError(cacheProblem);
  const tierProblem = serviceTierProblem(body);
  if (tierProblem) return call.validationError(tierProblem);

  const reply = await settleReply(call, call.nextReply(lastUserText(body)));
  if (!reply || novaToolNameFault(call, reply)) return;
  const frameDelayMs = reply.frameDelayMs ?? call.frameDelayMs;
  const guard = nativeGuardrail(call, isJson(body.guardrailConfig) ? body.guardrailConfig : undefined);
  const cacheUse = call.promptCache.use(call.modelId, cacheParts);
  const served = servedAs(body);

  if (stream) {
    call.record.status = 200;
    call.res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-RequestId': call.requestId });
    call.res.flushHeaders();
    let source: Iterable<Buffer>;
    if (reply.type === 'raw') source = rawFrames(reply.events ?? []);
    else {
      const plan = planFromReply(reply, call.body.length, call.seq);
      applyCacheUse(plan, cacheUse);
      guard.guardStream(plan);
      source = frames(call, converseEvents(call, plan, guard, served));
    }
    return writeStream(call.res, call.tracker, source, { frameDelayMs, fault: reply.fault, pause: reply.pause });
  }
  let out: Buffer;
  if (reply.type === 'raw') {
    out = rawBody(reply);
  } else {
    const plan = planFromReply(reply, call.body.length, call.seq);
    applyCacheUse(plan, cacheUse);
    guard.guardWhole(plan);
    out = Buffer.from(JSON.stringify({ ...converseResponse(call, plan, plan.stopReason, guard.converseTrace()), ...served }), 'utf8');
  }
  call.record.status = reply.type === 'raw' ? (reply.status ?? 200) : 200;
  call.res.writeHead(call.record.status, {
    'content-type': 'application/json',
    'content-length': out.length,
    'x-amzn-RequestId': call.requestId,
    ...(reply.type === 'raw' ? reply.headers : {}),
  });
  call.res.end(out);
}
