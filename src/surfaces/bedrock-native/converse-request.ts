/**
 * The Converse request reader (docs/contract.md#bedrock-native): a Converse / ConverseStream body (the model id
 * comes from the path) → the neutral request. Every member Bedrock's Converse takes
 * (docs/bedrock-wire.md#converse-request) is read and goes on under the sidecar's rules — `serviceTier`,
 * `performanceConfig`, `outputConfig.textFormat`, `requestMetadata`, `projectIdentifier`, cache points, signed and redacted
 * reasoning, and `additionalModelRequestFields` (checked against the family's allow-list, `checkConverseTarget`)
 * — or is knowingly left aside (`guardrailConfig`: the sidecar's own guardrails apply, README "Decisions").
 * `additionalModelResponseFieldPaths` (the answer would have to carry the model's raw fields back) and
 * `promptVariables` (prompt-management ARNs only) are a 400 naming them; a member Bedrock does not know is
 * refused with Bedrock's own 400 `ValidationException`, before any call.
 */
import { SidecarError } from '../../errors.ts';
import { SERVICE_TIERS } from '../../config/schema.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import { documentFromBlock } from '../../providers/documents.ts';
import { MAX_JSON_DEPTH, parseJsonText } from '../../providers/json-text.ts';
import { adapterFor } from '../../providers/index.ts';
import { disallowedExtraField } from '../../providers/policy.ts';
import {
  takeSidecarParams,
  thinkingBlock,
  type AssistantBlockKind,
  type CacheMark,
  type ChatMessage,
  type ChatParams,
  type ChatRequest,
  type ContentPart,
  type ReasoningBlock,
  type TextPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from '../../providers/request.ts';
import type { SurfaceRequest } from '../../server/surface.ts';
import { own } from '../../own.ts';

type Json = Record<string, unknown>;

/** Converse members read here, and those accepted and left aside. */
const READ = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'additionalModelRequestFields',
  'serviceTier',
  'performanceConfig',
  'outputConfig',
  'requestMetadata',
  'projectIdentifier',
]);
const LEFT_ASIDE = new Set(['guardrailConfig', 'modelId']);
/** Converse members that exist but that the sidecar cannot carry: refused by name, saying why. */
const NOT_CARRIED: Readonly<Record<string, string>> = {
  additionalModelResponseFieldPaths: "the sidecar does not return the model's raw response fields",
  promptVariables: 'it applies to Bedrock prompt-management ARNs, which the sidecar does not serve',
};
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

export function invalid(message: string, param?: string): SidecarError {
  return new SidecarError('invalid_request_error', message, param === undefined ? {} : { param });
}

/** What a project id or ARN is made of (projectIdentifier). */
const PROJECT = /^[\x20-\x7e]*$/;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Converse body as the neutral request for `model` (the path's model, as the registry names it). */
export function readConverseRequest(body: unknown, model: string, stream: boolean): { request: ChatRequest; unknown: string[] } {
  if (!isObject(body)) throw invalid('Malformed input request: the body must be a JSON object');
  const raw: Json = { ...body };
  const sidecar = takeSidecarParams(raw);
  for (const key of Object.keys(raw)) {
    if (READ.has(key) || LEFT_ASIDE.has(key)) continue;
    const why = own(NOT_CARRIED, key);
    if (why !== undefined) throw invalid(`${key}: not supported by the sidecar (${why})`, key);
    throw invalid(`Malformed input request: extraneous key [${key}] is not permitted`, key);
  }
  const messages: ChatMessage[] = [];
  if (raw.system !== undefined) {
    if (!Array.isArray(raw.system)) throw invalid('system: must be a list of system content blocks', 'system');
    // One system message per text block, so a cache point after any of them stays where the client put it.
    raw.system.forEach((block: unknown, i) => {
      if (!isObject(block)) throw invalid(`system.${i}: must be an object`, `system.${i}`);
      const last = messages[messages.length - 1];
      const text = typeof block.text === 'string' ? block.text : guardedText(block, `system.${i}`);
      const at = typeof block.text === 'string' ? `system.${i}` : `system.${i}.guardContent.text`;
      if (text !== undefined) messages.push({ role: 'system', content: [{ type: 'text', text, at }], at: `system.${i}` });
      else if (isObject(block.cachePoint)) {
        if (last) last.cache = cacheMark(block.cachePoint, `system.${i}`);
      } else throw invalid(`system.${i}: only text, guardContent text and cachePoint blocks are supported by the sidecar`, `system.${i}`);
    });
  }
  if (!Array.isArray(raw.messages) || raw.messages.length === 0) throw invalid('messages: must be a non-empty list', 'messages');
  raw.messages.forEach((message: unknown, i) => messages.push(...readMessage(message, i)));

  const params: ChatParams = {};
  readInference(raw.inferenceConfig, params);
  readTools(raw.toolConfig, params);
  const request: ChatRequest = { model, stream, messages, params, sidecar };
  if (raw.additionalModelRequestFields !== undefined) {
    if (!isObject(raw.additionalModelRequestFields))
      throw invalid('additionalModelRequestFields: must be an object', 'additionalModelRequestFields');
    // top_k and Claude's betas become parameters, so the sidecar's rules apply to them (betas filtered).
    const { top_k: topK, anthropic_beta: betas, ...fields } = raw.additionalModelRequestFields;
    if (typeof topK === 'number') params.top_k = topK;
    else if (topK !== undefined) fields.top_k = topK;
    if (Array.isArray(betas) && betas.every((b) => typeof b === 'string')) params.anthropic_beta = betas;
    else if (betas !== undefined) fields.anthropic_beta = betas;
    if (Object.keys(fields).length > 0) request.additionalFields = fields;
  }
  if (raw.serviceTier !== undefined) {
    const type = isObject(raw.serviceTier) ? raw.serviceTier.type : undefined;
    if (!(SERVICE_TIERS as readonly unknown[]).includes(type))
      throw invalid(`serviceTier.type: must be one of ${SERVICE_TIERS.join(', ')}`, 'serviceTier.type');
    params.service_tier = type as (typeof SERVICE_TIERS)[number];
  }
  if (raw.performanceConfig !== undefined) {
    const latency = isObject(raw.performanceConfig) ? raw.performanceConfig.latency : undefined;
    if (latency !== 'standard' && latency !== 'optimized')
      throw invalid('performanceConfig.latency: must be standard or optimized', 'performanceConfig.latency');
    request.performance = latency;
  }
  if (raw.outputConfig !== undefined) readOutputConfig(raw.outputConfig, params);
  if (raw.requestMetadata !== undefined) {
    const metadata = raw.requestMetadata;
    if (!isObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
      throw invalid('requestMetadata: must be an object of string values', 'requestMetadata');
    }
    params.metadata = metadata as Record<string, string>;
  }
  if (raw.projectIdentifier !== undefined) {
    // The SDK's model: a string, no length or pattern; which projects exist is Bedrock's to say. But it travels as
    // the X-Amzn-Bedrock-ProjectIdentifier header to an invoke target, and a character no header may carry (a
    // newline, 日本) failed the call there as Bedrock's failure: a 502, counted by the alias's circuit breaker, so
    // five such requests opened it for every client. A project id or ARN is printable ASCII.
    if (typeof raw.projectIdentifier !== 'string') throw invalid('projectIdentifier: must be a string', 'projectIdentifier');
    if (!PROJECT.test(raw.projectIdentifier))
      throw invalid('projectIdentifier: must be a project id or ARN, in printable ASCII', 'projectIdentifier');
    request.project = raw.projectIdentifier;
  }
  return { request, unknown: [] };
}

/**
 * A last check against each resolved target: `additionalModelRequestFields` go only to a converse target, and
 * only the keys the family takes there (the allow-list an alias's fields are held to).
 */
export function checkConverseTarget(read: SurfaceRequest, target: ModelTarget): void {
  const fields = read.request.additionalFields;
  if (fields === undefined) return;
  if (target.route !== 'converse') {
    throw invalid(
      `additionalModelRequestFields: "${target.name}" is served on the ${target.route} route, which takes no Converse fields`,
      'additionalModelRequestFields',
    );
  }
  const allowed = adapterFor(target.route, target.family)?.extraFields ?? new Set<string>();
  const key = disallowedExtraField(fields, allowed);
  if (key !== undefined) {
    throw invalid(
      `additionalModelRequestFields.${key}: not a field the sidecar passes to ${target.family ?? 'this model'} on converse` +
        ` (it takes: ${[...allowed].join(', ') || 'none'})`,
      `additionalModelRequestFields.${key}`,
    );
  }
}

/** `outputConfig.textFormat` (a JSON schema, as a string) as the neutral structured-output request. */
function readOutputConfig(value: unknown, params: ChatParams): void {
  if (!isObject(value)) throw invalid('outputConfig: must be an object', 'outputConfig');
  for (const key of Object.keys(value)) {
    if (key !== 'textFormat')
      throw invalid(`outputConfig.${key}: not supported by the sidecar (it carries outputConfig.textFormat)`, `outputConfig.${key}`);
  }
  const format = value.textFormat;
  const jsonSchema = isObject(format) && isObject(format.structure) ? format.structure.jsonSchema : undefined;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(jsonSchema) || typeof jsonSchema.schema !== 'string') {
    throw invalid(
      'outputConfig.textFormat: must be {type: json_schema, structure: {jsonSchema: {schema: "<JSON schema>", name?, description?}}}',
      'outputConfig.textFormat',
    );
  }
  const parsed = parseJsonText(jsonSchema.schema);
  if (!parsed.ok && parsed.tooDeep)
    throw invalid(
      `outputConfig.textFormat.structure.jsonSchema.schema: nests deeper than ${MAX_JSON_DEPTH} levels`,
      'outputConfig.textFormat',
    );
  const schema = parsed.ok ? parsed.value : undefined;
  if (!isObject(schema))
    throw invalid(
      'outputConfig.textFormat.structure.jsonSchema.schema: must be a JSON schema object, as a string',
      'outputConfig.textFormat',
    );
  params.response_format = {
    type: 'json_schema',
    name: typeof jsonSchema.name === 'string' ? jsonSchema.name : 'response',
    schema,
    ...(typeof jsonSchema.description === 'string' ? { description: jsonSchema.description } : {}),
  };
}

function cacheMark(point: Json, at: string): CacheMark {
  if (point.type !== 'default') throw invalid(`${at}.cachePoint.type: must be default`, at);
  if (point.ttl === undefined) return {};
  if (point.ttl !== '5m' && point.ttl !== '1h') throw invalid(`${at}.cachePoint.ttl: must be 5m or 1h`, at);
  return { ttl: point.ttl };
}

function readMessage(value: unknown, i: number): ChatMessage[] {
  const at = `messages.${i}`;
  if (!isObject(value)) throw invalid(`${at}: must be an object`, at);
  if (value.role !== 'user' && value.role !== 'assistant') throw invalid(`${at}.role: must be user or assistant`, `${at}.role`);
  if (!Array.isArray(value.content)) throw invalid(`${at}.content: must be a list of content blocks`, `${at}.content`);
  const content: ContentPart[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  // Each reasoning block keeps its own signature and its place among the text and tool use.
  const reasoning: ReasoningBlock[] = [];
  const order: AssistantBlockKind[] = [];
  /** What a cache point marks: the block just before it (a part, a tool result), else the whole message. */
  let previous: { cache?: CacheMark } | undefined;
  let messageCache: CacheMark | undefined;
  value.content.forEach((block: unknown, j) => {
    const where = `${at}.content.${j}`;
    if (!isObject(block)) throw invalid(`${where}: must be an object`, where);
    const guarded = guardedText(block, where);
    if (typeof block.text === 'string' || guarded !== undefined || isObject(block.image) || isObject(block.document)) {
      const part: ContentPart =
        typeof block.text === 'string' || guarded !== undefined
          ? { type: 'text', text: guarded ?? (block.text as string), at: guarded !== undefined ? `${where}.guardContent.text` : where }
          : isObject(block.image)
            ? readImage(block.image, where)
            : { ...readDocument(block.document as Json, `${where}.document`), at: where };
      content.push(part);
      order.push('text');
      previous = part;
    } else if (isObject(block.toolUse)) {
      const use = block.toolUse;
      if (typeof use.toolUseId !== 'string' || typeof use.name !== 'string')
        throw invalid(`${where}.toolUse: needs toolUseId and name`, where);
      calls.push({ id: use.toolUseId, name: use.name, arguments: JSON.stringify(use.input ?? {}), at: where });
      order.push('tool');
      previous = undefined;
    } else if (isObject(block.toolResult)) {
      const result = block.toolResult;
      if (typeof result.toolUseId !== 'string') throw invalid(`${where}.toolResult.toolUseId: must be a string`, where);
      if (result.status !== undefined && result.status !== 'success' && result.status !== 'error')
        throw invalid(`${where}.toolResult.status: must be success or error`, `${where}.toolResult.status`);
      const message: ChatMessage = {
        role: 'tool',
        toolCallId: result.toolUseId,
        content: readToolResult(result.content, where),
        at: where,
      };
      if (result.status === 'error') message.error = true;
      results.push(message);
      previous = message;
    } else if (isObject(block.reasoningContent)) {
      const { reasoningText, redactedContent } = block.reasoningContent;
      const thought = isObject(reasoningText) ? thinkingBlock(reasoningText.text, reasoningText.signature) : undefined;
      // A blob: the bytes of Claude's redacted data, base64 in JSON.
      const kept =
        thought ??
        (typeof redactedContent === 'string' ? { redacted: Buffer.from(redactedContent, 'base64').toString('utf8') } : undefined);
      if (kept) {
        reasoning.push(kept);
        order.push('reasoning');
      }
      previous = undefined;
    } else if (isObject(block.cachePoint)) {
      const mark = cacheMark(block.cachePoint, where);
      if (previous) previous.cache = mark;
      else messageCache = mark;
    } else {
      const kind = Object.keys(block)[0] ?? 'empty';
      throw invalid(`${where}: a "${kind}" content block is not supported by the sidecar`, where);
    }
  });
  if (value.role === 'assistant') {
    const text = content.filter((part): part is TextPart => part.type === 'text');
    if (text.length !== content.length) throw invalid(`${at}: an assistant message cannot carry images or documents`, at);
    const message: ChatMessage = { role: 'assistant', content: text, toolCalls: calls, order, at };
    if (reasoning.length > 0) message.reasoning = reasoning;
    if (messageCache) message.cache = messageCache;
    return [message];
  }
  if (calls.length > 0) throw invalid(`${at}: a user message cannot carry toolUse`, at);
  // Tool results first: they answer the assistant's calls just before; any text is the user's next turn.
  if (content.length === 0) return results;
  const user: ChatMessage = { role: 'user', content, at };
  if (messageCache) user.cache = messageCache;
  return [...results, user];
}

/**
 * The text of a `guardContent` block (`{guardContent: {text: {text, qualifiers}}}`), which marks what the app's
 * own guardrail should assess. The app's `guardrailConfig` is not forwarded — the alias's guardrails read all
 * of the input — so the block is what it is to the model: its text. Undefined when the block is not one; a
 * guarded image is a 400 naming it.
 */
function guardedText(block: Json, where: string): string | undefined {
  if (!isObject(block.guardContent)) return undefined;
  const guarded = block.guardContent;
  if (isObject(guarded.text) && typeof guarded.text.text === 'string') return guarded.text.text;
  throw invalid(`${where}.guardContent: only guarded text is supported by the sidecar`, `${where}.guardContent`);
}

function readImage(image: Json, where: string): ContentPart {
  const format = image.format;
  const bytes = isObject(image.source) ? image.source.bytes : undefined;
  if (typeof format !== 'string' || !IMAGE_FORMATS.has(format))
    throw invalid(`${where}.image.format: must be png, jpeg, gif or webp`, where);
  if (typeof bytes !== 'string' || bytes === '') throw invalid(`${where}.image.source.bytes: must be base64 image bytes`, where);
  return { type: 'image', format: format as 'png' | 'jpeg' | 'gif' | 'webp', mediaType: `image/${format}`, data: bytes, at: where };
}

/** A DocumentBlock with its bytes inline (the SDK's `source.bytes`); other sources are Bedrock's S3 or citations features. */
function readDocument(document: Json, where: string): ContentPart {
  const source = isObject(document.source) ? document.source : undefined;
  for (const key of Object.keys(document)) {
    if (key !== 'format' && key !== 'name' && key !== 'source')
      throw invalid(`${where}.${key}: not supported by the sidecar (it carries format, name and source.bytes)`, `${where}.${key}`);
  }
  if (source === undefined || Object.keys(source).some((key) => key !== 'bytes'))
    throw invalid(`${where}.source: only inline bytes are supported by the sidecar`, `${where}.source`);
  return documentFromBlock(document.format, document.name, source.bytes, where);
}

/**
 * A toolResult's content: text, json (as its JSON text), images and inline documents, in the client's order.
 * Which targets take images, documents or `status` in a tool result is checked per target (`checkToolResults`).
 */
function readToolResult(value: unknown, where: string): ContentPart[] {
  if (!Array.isArray(value)) throw invalid(`${where}.toolResult.content: must be a list`, where);
  return value.map((part: unknown, k): ContentPart => {
    const at = `${where}.toolResult.content.${k}`;
    if (isObject(part) && typeof part.text === 'string') return { type: 'text', text: part.text, at };
    if (isObject(part) && part.json !== undefined) return { type: 'text', text: JSON.stringify(part.json), at: `${at}.json` };
    if (isObject(part) && isObject(part.image)) return readImage(part.image, at);
    if (isObject(part) && isObject(part.document)) return { ...readDocument(part.document, `${at}.document`), at };
    throw invalid(`${at}: only text, json, image and document results are supported by the sidecar`, at);
  });
}

function readInference(value: unknown, params: ChatParams): void {
  if (value === undefined) return;
  if (!isObject(value)) throw invalid('inferenceConfig: must be an object', 'inferenceConfig');
  for (const [key, v] of Object.entries(value)) {
    const at = `inferenceConfig.${key}`;
    switch (key) {
      case 'maxTokens':
        if (!Number.isInteger(v) || (v as number) < 1) throw invalid(`${at}: must be a positive integer`, at);
        params.max_tokens = v as number;
        break;
      case 'temperature':
      case 'topP':
        if (typeof v !== 'number') throw invalid(`${at}: must be a number`, at);
        if (key === 'temperature') params.temperature = v;
        else params.top_p = v;
        break;
      case 'stopSequences':
        if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalid(`${at}: must be a list of strings`, at);
        params.stop = v as string[];
        break;
      default:
        throw invalid(`Malformed input request: extraneous key [${at}] is not permitted`, at);
    }
  }
}

function readTools(value: unknown, params: ChatParams): void {
  if (value === undefined) return;
  if (!isObject(value) || !Array.isArray(value.tools)) throw invalid('toolConfig.tools: must be a list', 'toolConfig.tools');
  const tools: ToolDefinition[] = [];
  value.tools.forEach((tool: unknown, i) => {
    const at = `toolConfig.tools.${i}`;
    if (isObject(tool) && isObject(tool.cachePoint)) {
      const last = tools[tools.length - 1];
      if (last) last.cache = cacheMark(tool.cachePoint, at);
      return;
    }
    const spec = isObject(tool) ? tool.toolSpec : undefined;
    if (!isObject(spec) || typeof spec.name !== 'string')
      throw invalid(`${at}: only toolSpec tools (with a name) are supported by the sidecar`, at);
    const schema = isObject(spec.inputSchema) ? spec.inputSchema.json : undefined;
    if (!isObject(schema)) throw invalid(`${at}.toolSpec.inputSchema.json: must be a JSON schema object`, at);
    tools.push({ name: spec.name, description: typeof spec.description === 'string' ? spec.description : undefined, parameters: schema });
  });
  if (tools.length > 0) params.tools = tools;
  const choice = value.toolChoice;
  if (choice === undefined) return;
  let parsed: ToolChoice;
  if (isObject(choice) && isObject(choice.auto)) parsed = { type: 'auto' };
  else if (isObject(choice) && isObject(choice.any)) parsed = { type: 'required' };
  else if (isObject(choice) && isObject(choice.tool) && typeof choice.tool.name === 'string')
    parsed = { type: 'function', name: choice.tool.name };
  else throw invalid('toolConfig.toolChoice: must be {auto:{}}, {any:{}} or {tool:{name}}', 'toolConfig.toolChoice');
  params.tool_choice = parsed;
}
