/**
 * The Chat Completions request reader (shared by the Chat surface and the native InvokeModel of the families
 * whose invoke body is OpenAI's, `readChatFields`): an OpenAI chat-completions body, read once and checked once into
 * the neutral request (src/providers/request.ts). Sidecar parameters are taken out first, messages are
 * validated into the normalised form, and every other parameter is parsed into a typed field; unknown
 * keys are returned for the parameter policy to reject or drop (docs/contract.md#parameters).
 */
import { SidecarError } from '../errors.ts';
import { documentFromDataUrl } from '../providers/documents.ts';
import { readCacheControl, readHint, readPartCache, readPromptCacheOptions, readServiceTier } from '../providers/hints.ts';
import {
  REASONING_EFFORTS,
  takeSidecarParams,
  SIDECAR_PARAMS,
  type ReasoningEffort,
  type ChatMessage,
  type ChatParams,
  type ChatRequest,
  type ContentPart,
  type ImagePart,
  type ResponseFormat,
  type TextPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from '../providers/request.ts';

const ENVELOPE = new Set(['model', 'messages', 'stream']);

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

/**
 * Reads a parsed JSON body. Throws `invalid_request_error` naming the first thing that is wrong.
 * Unknown parameters are kept in `unknown` for the provider policy to reject or drop.
 */
export function readChatRequest(body: unknown): { request: ChatRequest; unknown: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('', 'the request body must be a JSON object');
  }
  const raw = body as Record<string, unknown>;
  const sidecar = takeSidecarParams(raw);
  if (typeof raw.model !== 'string' || raw.model === '') throw bad('model', '"model" is required and must be a string');
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== 'boolean') {
    throw bad('stream', '"stream" must be a boolean');
  }
  // OpenAI's prompt-cache controls are this surface's, not the native invoke bodies' that readChatFields reads too.
  const { prompt_cache_options: options, prompt_cache_retention: retention, ...fields } = raw;
  const cache = readPromptCacheOptions(options, retention);
  const { messages, params, unknown, hints } = readChatFields(fields);
  hints.push(...cache.hints);
  return {
    request: {
      model: raw.model,
      stream: raw.stream === true,
      messages,
      params,
      sidecar,
      ...(hints.length > 0 ? { hints } : {}),
      ...(cache.asked ? { promptCache: cache.asked } : {}),
    },
    unknown,
  };
}

/**
 * A chat-completions body's messages and parameters (`model`, `stream` and the sidecar's parameters are the
 * caller's): the Chat surface's, and the native InvokeModel of the families whose invoke body is this one.
 */
export function readChatFields(raw: Record<string, unknown>): {
  messages: ChatMessage[];
  params: ChatParams;
  unknown: string[];
  hints: string[];
} {
  const messages = readMessages(raw.messages);
  const params: ChatParams = {};
  const unknown: string[] = [];
  const hints: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (ENVELOPE.has(key) || (SIDECAR_PARAMS as readonly string[]).includes(key)) continue;
    if (value === null || value === undefined) continue; // OpenAI clients send explicit nulls for "unset"
    const hint = readHint(key, value);
    if (hint !== undefined) hints.push(hint);
    else if (!readParam(params, key, value)) unknown.push(key);
  }
  // A named function must be one of the tools (OpenAI's own rule); Bedrock would refuse it less clearly.
  const named = params.tool_choice?.type === 'function' ? params.tool_choice.name : undefined;
  if (named !== undefined && params.tools !== undefined && !params.tools.some((t) => t.name === named)) {
    throw bad('tool_choice', `"tool_choice" names the function "${named}", which is not in "tools"`);
  }
  return { messages, params, unknown, hints };
}

function readParam(params: ChatParams, key: string, value: unknown): boolean {
  switch (key) {
    case 'max_tokens':
    case 'max_completion_tokens':
      params.max_tokens = positiveInt(key, value);
      return true;
    case 'temperature':
      params.temperature = numberIn(key, value, 0, 2);
      return true;
    case 'top_p':
      params.top_p = numberIn(key, value, 0, 1);
      return true;
    case 'top_k':
      params.top_k = positiveInt(key, value);
      return true;
    case 'presence_penalty':
    case 'frequency_penalty':
      params[key] = numberIn(key, value, -2, 2);
      return true;
    case 'seed':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(key, `"${key}" must be an integer`);
      params.seed = value;
      return true;
    case 'n':
      params.n = positiveInt(key, value);
      return true;
    case 'stop':
      params.stop = readStop(value);
      return true;
    case 'tools':
      params.tools = readTools(value);
      return true;
    case 'tool_choice':
      params.tool_choice = readToolChoice(value);
      return true;
    case 'parallel_tool_calls':
      if (typeof value !== 'boolean') throw bad(key, '"parallel_tool_calls" must be a boolean');
      params.parallel_tool_calls = value;
      return true;
    case 'response_format': {
      // {"type":"text"} is the default every family gives: it asks for nothing, so it configures nothing.
      const format = readResponseFormat(value);
      if (format.type !== 'text') params.response_format = format;
      return true;
    }
    case 'reasoning_effort':
      if (!REASONING_EFFORTS.includes(value as ReasoningEffort)) {
        throw bad(key, `"reasoning_effort" must be one of ${REASONING_EFFORTS.join(', ')}`);
      }
      params.reasoning_effort = value as ReasoningEffort;
      return true;
    case 'user':
      if (typeof value !== 'string') throw bad(key, '"user" must be a string');
      params.user = value;
      return true;
    case 'metadata':
      if (typeof value !== 'object' || Array.isArray(value) || Object.values(value as object).some((v) => typeof v !== 'string')) {
        throw bad(key, '"metadata" must be an object of string values');
      }
      params.metadata = value as Record<string, string>;
      return true;
    case 'anthropic_beta':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad(key, '"anthropic_beta" must be a list of strings');
      params.anthropic_beta = value as string[];
      return true;
    case 'service_tier':
      params.service_tier = readServiceTier(value);
      return true;
    default:
      return false;
  }
}

function positiveInt(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw bad(key, `"${key}" must be a positive integer`);
  return value;
}

function numberIn(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw bad(key, `"${key}" must be a number from ${min} to ${max}`);
  }
  return value;
}

function readStop(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw bad('stop', '"stop" must be a string or a list of non-empty strings');
  }
  return list as string[];
}

function readTools(value: unknown): ToolDefinition[] {
  if (!Array.isArray(value)) throw bad('tools', '"tools" must be a list');
  return value.map((tool, i) => {
    const t = tool as Record<string, unknown> | null;
    const fn = t?.function as Record<string, unknown> | undefined;
    if (!t || t.type !== 'function' || typeof fn !== 'object' || fn === null) {
      throw bad(`tools[${i}]`, `tools[${i}] must be {"type":"function","function":{…}}`);
    }
    if (typeof fn.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(fn.name)) {
      throw bad(`tools[${i}].function.name`, `tools[${i}].function.name must match [a-zA-Z0-9_-]{1,64}`);
    }
    if (fn.description !== undefined && typeof fn.description !== 'string') {
      throw bad(`tools[${i}].function.description`, `tools[${i}].function.description must be a string`);
    }
    const parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
      throw bad(`tools[${i}].function.parameters`, `tools[${i}].function.parameters must be a JSON schema object`);
    }
    const cache = readCacheControl(t.cache_control ?? fn.cache_control, `tools[${i}].cache_control`);
    return { name: fn.name, description: fn.description, parameters: parameters as Record<string, unknown>, ...(cache ? { cache } : {}) };
  });
}

function readToolChoice(value: unknown): ToolChoice {
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value };
  const v = value as Record<string, unknown> | null;
  const fn = v?.function as Record<string, unknown> | undefined;
  if (v && v.type === 'function' && fn && typeof fn.name === 'string') return { type: 'function', name: fn.name };
  throw bad('tool_choice', '"tool_choice" must be "auto", "none", "required" or {"type":"function","function":{"name":…}}');
}

function readResponseFormat(value: unknown): ResponseFormat {
  const v = value as Record<string, unknown> | null;
  // instructor's JSON-schema mode: {"type": "json_object", "schema": {…}} asks for that schema.
  if (v?.type === 'json_object' && typeof v.schema === 'object' && v.schema !== null && !Array.isArray(v.schema)) {
    const schema = v.schema as Record<string, unknown>;
    const title = typeof schema.title === 'string' ? schema.title.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) : '';
    return { type: 'json_schema', name: title || 'response', schema };
  }
  if (v?.type === 'text' || v?.type === 'json_object') return { type: v.type };
  if (v?.type === 'json_schema') {
    const js = v.json_schema as Record<string, unknown> | undefined;
    if (!js || typeof js.name !== 'string' || typeof js.schema !== 'object' || js.schema === null) {
      throw bad('response_format', '"response_format.json_schema" needs a name and a schema object');
    }
    return {
      type: 'json_schema',
      name: js.name,
      schema: js.schema as Record<string, unknown>,
      ...(typeof js.description === 'string' ? { description: js.description } : {}),
      ...(typeof js.strict === 'boolean' ? { strict: js.strict } : {}),
    };
  }
  throw bad('response_format', '"response_format.type" must be text, json_object or json_schema');
}

const IMAGE_DATA_URL = /^data:image\/(png|jpeg|jpg|gif|webp);base64,([A-Za-z0-9+/=\s]+)$/;

function readMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value)) throw bad('messages', '"messages" is required and must be a list');
  if (value.length === 0) throw bad('messages', '"messages" must contain at least one message');
  return value.map((m, i) => readMessage(m, i));
}

function readMessage(value: unknown, i: number): ChatMessage {
  const at = `messages[${i}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(at, `${at} must be an object`);
  const m = value as Record<string, unknown>;
  const cache = readCacheControl(m.cache_control, `${at}.cache_control`);
  const mark = cache ? { cache, at } : { at };
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textParts(m.content, at, false), ...mark };
    case 'user':
      return { role: 'user', content: contentParts(m.content, at), ...mark };
    case 'assistant': {
      const toolCalls = readToolCalls(m.tool_calls, at);
      const content = m.content === null || m.content === undefined ? [] : textParts(m.content, at, true);
      if (content.length === 0 && toolCalls.length === 0) throw bad(`${at}.content`, `${at} has neither content nor tool_calls`);
      // The client's record of the model's reasoning: unsigned, so never sent upstream.
      const reasoning = typeof m.reasoning_content === 'string' ? m.reasoning_content : undefined;
      return { role: 'assistant', content, toolCalls, ...(reasoning ? { reasoning: [{ text: reasoning }] } : {}), ...mark };
    }
    case 'tool':
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') {
        throw bad(`${at}.tool_call_id`, `${at}.tool_call_id is required for a tool message`);
      }
      return { role: 'tool', toolCallId: m.tool_call_id, content: textParts(m.content, at, true), ...mark };
    default:
      throw bad(`${at}.role`, `${at}.role must be system, developer, user, assistant or tool, got ${JSON.stringify(m.role)}`);
  }
}

function textParts(content: unknown, at: string, allowEmpty: boolean): TextPart[] {
  const parts = contentParts(content, at, allowEmpty);
  for (const part of parts) {
    if (part.type !== 'text') throw bad(`${at}.content`, `${at}: only user messages may carry images and files`);
  }
  return parts as TextPart[];
}

function contentParts(content: unknown, at: string, allowEmpty = false): ContentPart[] {
  if (typeof content === 'string') {
    if (content === '' && !allowEmpty) throw bad(`${at}.content`, `${at}.content must not be empty`);
    return content === '' ? [] : [{ type: 'text', text: content, at: `${at}.content` }];
  }
  if (!Array.isArray(content)) throw bad(`${at}.content`, `${at}.content must be a string or a list of parts`);
  if (content.length === 0 && !allowEmpty) throw bad(`${at}.content`, `${at}.content must not be empty`);
  let documents = 0;
  return content.map((part, j): ContentPart => {
    const p = part as Record<string, unknown> | null;
    const where = `${at}.content[${j}]`;
    const cache = readPartCache(p, where);
    const mark = cache ? { cache, at: where } : { at: where };
    if (p?.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text, ...mark };
    if (p?.type === 'image_url') {
      const url = typeof p.image_url === 'string' ? p.image_url : (p.image_url as Record<string, unknown> | undefined)?.url;
      if (typeof url !== 'string') throw bad(where, `${where}.image_url.url must be a string`);
      const match = IMAGE_DATA_URL.exec(url);
      if (!match) {
        throw new SidecarError(
          'unsupported_parameter',
          `${where}: Bedrock cannot fetch image URLs; send the image as a data:image/(png|jpeg|gif|webp);base64 URL`,
          { param: where },
        );
      }
      const format = match[1] === 'jpg' ? 'jpeg' : (match[1] as ImagePart['format']);
      return { type: 'image', mediaType: `image/${format}`, format, data: match[2]!.replace(/\s+/g, ''), ...mark };
    }
    if (p?.type === 'file') {
      const file = p.file as Record<string, unknown> | undefined;
      if (typeof file !== 'object' || file === null) throw bad(`${where}.file`, `${where}.file must be an object with file_data`);
      if (file.file_id !== undefined && file.file_id !== null) {
        throw new SidecarError(
          'unsupported_parameter',
          `${where}.file.file_id: Bedrock has no file store; send the file inline as file_data (a data: URL)`,
          { param: `${where}.file.file_id` },
        );
      }
      if (typeof file.file_data !== 'string') throw bad(`${where}.file.file_data`, `${where}.file.file_data must be a data: URL`);
      const filename = typeof file.filename === 'string' ? file.filename : undefined;
      return { ...documentFromDataUrl(file.file_data, filename, where, documents++), ...mark };
    }
    throw bad(where, `${where} must be a text, image_url or file part`);
  });
}

function readToolCalls(value: unknown, at: string): ToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`${at}.tool_calls`, `${at}.tool_calls must be a list`);
  return value.map((call, j) => {
    const c = call as Record<string, unknown> | null;
    const fn = c?.function as Record<string, unknown> | undefined;
    const where = `${at}.tool_calls[${j}]`;
    if (!c || typeof c.id !== 'string' || !fn || typeof fn.name !== 'string') {
      throw bad(where, `${where} must have an id and function.name`);
    }
    const args = fn.arguments === undefined ? '{}' : fn.arguments;
    if (typeof args !== 'string') throw bad(`${where}.function.arguments`, `${where}.function.arguments must be a JSON string`);
    return { id: c.id, name: fn.name, arguments: args, at: where };
  });
}
