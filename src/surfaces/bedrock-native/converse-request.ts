/**
 * The Converse request reader (docs/contract.md#bedrock-native): a Converse / ConverseStream body (the model id
 * comes from the path) → the neutral request. Every member Bedrock's Converse takes is either read, or
 * knowingly left aside (`guardrailConfig`: the sidecar's own guardrails apply, README "Decisions";
 * `requestMetadata`: invocation-log tags). A member Bedrock does not know, or one the sidecar cannot carry
 * to the model, is refused with Bedrock's own 400 `ValidationException` before any call.
 */
import { SidecarError } from '../../errors.ts';
import {
  takeSidecarParams, type ChatMessage, type ChatParams, type ChatRequest, type ContentPart, type TextPart,
  type ToolCall, type ToolChoice, type ToolDefinition,
} from '../../providers/request.ts';

type Json = Record<string, unknown>;

/** Converse members read here, and those accepted and left aside. */
const READ = new Set(['messages', 'system', 'inferenceConfig', 'toolConfig', 'additionalModelRequestFields']);
const LEFT_ASIDE = new Set(['guardrailConfig', 'requestMetadata', 'modelId']);
/** Converse members that exist but that the sidecar cannot carry to the model: refused by name. */
const NOT_CARRIED = new Set([
  'additionalModelResponseFieldPaths', 'performanceConfig', 'serviceTier', 'outputConfig', 'promptVariables',
]);
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

export function invalid(message: string, param?: string): SidecarError {
  return new SidecarError('invalid_request_error', message, param === undefined ? {} : { param });
}

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
    if (NOT_CARRIED.has(key)) throw invalid(`${key}: the sidecar does not carry this Converse member to the model`, key);
    throw invalid(`Malformed input request: extraneous key [${key}] is not permitted`, key);
  }
  const messages: ChatMessage[] = [];
  if (raw.system !== undefined) {
    if (!Array.isArray(raw.system)) throw invalid('system: must be a list of system content blocks', 'system');
    const content: TextPart[] = [];
    raw.system.forEach((block: unknown, i) => {
      if (!isObject(block)) throw invalid(`system.${i}: must be an object`, `system.${i}`);
      if (typeof block.text === 'string') content.push({ type: 'text', text: block.text });
      else if (!isObject(block.cachePoint)) throw invalid(`system.${i}: only text and cachePoint blocks are supported`, `system.${i}`);
    });
    if (content.length > 0) messages.push({ role: 'system', content });
  }
  if (!Array.isArray(raw.messages) || raw.messages.length === 0) throw invalid('messages: must be a non-empty list', 'messages');
  raw.messages.forEach((message: unknown, i) => messages.push(...readMessage(message, i)));

  const params: ChatParams = {};
  readInference(raw.inferenceConfig, params);
  readTools(raw.toolConfig, params);
  const unknown: string[] = [];
  if (raw.additionalModelRequestFields !== undefined) {
    if (!isObject(raw.additionalModelRequestFields)) throw invalid('additionalModelRequestFields: must be an object', 'additionalModelRequestFields');
    for (const [key, value] of Object.entries(raw.additionalModelRequestFields)) {
      if (key === 'top_k' && typeof value === 'number') params.top_k = value;
      else throw invalid(`additionalModelRequestFields.${key}: the sidecar does not pass this field to the model`, `additionalModelRequestFields.${key}`);
    }
  }
  return { request: { model, stream, messages, params, sidecar }, unknown };
}

function readMessage(value: unknown, i: number): ChatMessage[] {
  const at = `messages.${i}`;
  if (!isObject(value)) throw invalid(`${at}: must be an object`, at);
  if (value.role !== 'user' && value.role !== 'assistant') throw invalid(`${at}.role: must be user or assistant`, `${at}.role`);
  if (!Array.isArray(value.content)) throw invalid(`${at}.content: must be a list of content blocks`, `${at}.content`);
  const content: ContentPart[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  let reasoning: string | undefined;
  value.content.forEach((block: unknown, j) => {
    const where = `${at}.content.${j}`;
    if (!isObject(block)) throw invalid(`${where}: must be an object`, where);
    if (typeof block.text === 'string') content.push({ type: 'text', text: block.text });
    else if (isObject(block.image)) content.push(readImage(block.image, where));
    else if (isObject(block.toolUse)) {
      const use = block.toolUse;
      if (typeof use.toolUseId !== 'string' || typeof use.name !== 'string') throw invalid(`${where}.toolUse: needs toolUseId and name`, where);
      calls.push({ id: use.toolUseId, name: use.name, arguments: JSON.stringify(use.input ?? {}) });
    } else if (isObject(block.toolResult)) {
      const result = block.toolResult;
      if (typeof result.toolUseId !== 'string') throw invalid(`${where}.toolResult.toolUseId: must be a string`, where);
      results.push({ role: 'tool', toolCallId: result.toolUseId, content: readToolResult(result.content, where) });
    } else if (isObject(block.reasoningContent)) {
      const text = isObject(block.reasoningContent.reasoningText) ? block.reasoningContent.reasoningText.text : undefined;
      if (typeof text === 'string') reasoning = (reasoning ?? '') + text;
    } else if (!isObject(block.cachePoint)) {
      const kind = Object.keys(block)[0] ?? 'empty';
      throw invalid(`${where}: a "${kind}" content block is not supported by the sidecar`, where);
    }
  });
  if (value.role === 'assistant') {
    const text = content.filter((part): part is TextPart => part.type === 'text');
    if (text.length !== content.length) throw invalid(`${at}: an assistant message cannot carry images`, at);
    const message: ChatMessage = { role: 'assistant', content: text, toolCalls: calls };
    if (reasoning !== undefined) message.reasoning = reasoning;
    return [message];
  }
  if (calls.length > 0) throw invalid(`${at}: a user message cannot carry toolUse`, at);
  // Tool results first: they answer the assistant's calls just before; any text is the user's next turn.
  return content.length > 0 ? [...results, { role: 'user', content }] : results;
}

function readImage(image: Json, where: string): ContentPart {
  const format = image.format;
  const bytes = isObject(image.source) ? image.source.bytes : undefined;
  if (typeof format !== 'string' || !IMAGE_FORMATS.has(format)) throw invalid(`${where}.image.format: must be png, jpeg, gif or webp`, where);
  if (typeof bytes !== 'string' || bytes === '') throw invalid(`${where}.image.source.bytes: must be base64 image bytes`, where);
  return { type: 'image', format: format as 'png' | 'jpeg' | 'gif' | 'webp', mediaType: `image/${format}`, data: bytes };
}

function readToolResult(value: unknown, where: string): TextPart[] {
  if (!Array.isArray(value)) throw invalid(`${where}.toolResult.content: must be a list`, where);
  return value.map((part: unknown, k): TextPart => {
    if (isObject(part) && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (isObject(part) && part.json !== undefined) return { type: 'text', text: JSON.stringify(part.json) };
    throw invalid(`${where}.toolResult.content.${k}: only text and json results are supported by the sidecar`, where);
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
    if (isObject(tool) && isObject(tool.cachePoint)) return;
    const spec = isObject(tool) ? tool.toolSpec : undefined;
    if (!isObject(spec) || typeof spec.name !== 'string') throw invalid(`${at}: only toolSpec tools (with a name) are supported by the sidecar`, at);
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
  else if (isObject(choice) && isObject(choice.tool) && typeof choice.tool.name === 'string') parsed = { type: 'function', name: choice.tool.name };
  else throw invalid('toolConfig.toolChoice: must be {auto:{}}, {any:{}} or {tool:{name}}', 'toolConfig.toolChoice');
  params.tool_choice = parsed;
}
