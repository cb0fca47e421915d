/**
 * `POST /v1/responses/compact` (docs/contract.md#openai-responses): OpenAI's explicit compaction, what the
 * `openai` SDK's `client.responses.compact()` and the OpenAI Agents SDK's `OpenAIResponsesCompactionSession`
 * call. The body names the conversation by `input`, by `previous_response_id` (the store), or both;
 * the answer is `{id, object: "response.compaction", created_at, output, usage}`, its `output` every user
 * message of the conversation, in order, then exactly one `compaction` item; the client sends that
 * output back as the input of its next request, in place of the history.
 *
 * It is the same summary request as Codex's trigger (compaction.ts): the body is read as a Responses
 * request whose input ends with a `compaction_trigger`, so the summary goes through the shared model
 * call and the Responses renderer; only the answer's envelope differs. Never streamed, never stored.
 * Body keys the endpoint does not take (`tools`, `temperature`, `stream`, …) are unknown parameters: a 400
 * naming them, or dropped with drop_params. The tools the history calls are declared for the summary call,
 * none to be called.
 */
import { SidecarError } from '../../errors.ts';
import { SIDECAR_PARAMS, type ChatMessage, type ChatRequest, type ContentPart } from '../../providers/request.ts';
import { isCompactionSummary } from './compaction.ts';
import { readResponsesRequest, type ReadOptions, type ResponsesExtras } from './request.ts';

/** The body keys of OpenAI's ResponseCompactParams; the reader takes them as on `POST /v1/responses`. */
const COMPACT_KEYS = new Set([
  'model',
  'input',
  'instructions',
  'previous_response_id',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  'service_tier',
  'image',
  ...SIDECAR_PARAMS,
]);

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

/** A compact body → the summary request (the Responses reader's, its input ending with the trigger). */
export function readCompactRequest(
  body: unknown,
  options: ReadOptions,
): { request: ChatRequest; unknown: string[]; extras: ResponsesExtras } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('', 'the request body must be a JSON object');
  const raw = body as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((key) => !COMPACT_KEYS.has(key) && raw[key] !== null && raw[key] !== undefined);
  const given = raw.input ?? undefined;
  const previous = raw.previous_response_id ?? undefined;
  if (given === undefined && previous === undefined)
    throw bad('input', '"input" or "previous_response_id" is required: the conversation to compact');
  if (given !== undefined && typeof given !== 'string' && !Array.isArray(given))
    throw bad('input', '"input" must be a string or a list of items');
  if (given === '') throw bad('input', '"input" must not be empty');
  const items: unknown[] = typeof given === 'string' ? [{ role: 'user', content: given }] : ((given as unknown[] | undefined) ?? []);
  const responses = Object.fromEntries(Object.entries(raw).filter(([key]) => COMPACT_KEYS.has(key)));
  const read = readResponsesRequest(
    { ...responses, input: [...items, { type: 'compaction_trigger' }], stream: false, store: false },
    options,
  );
  // The endpoint takes no tools, but a summarised history calls some: they are declared (open schemas),
  // none to be called (the reader's tool_choice none), as the Codex trigger keeps the client's. Without them
  // Converse refuses the tool blocks, and Claude was reported answering no text at all (vercel/ai #12378):
  // a failed compaction.
  const called = new Set(read.request.messages.flatMap((m) => (m.role === 'assistant' ? m.toolCalls.map((c) => c.name) : [])));
  if (called.size > 0 && read.request.params.tools === undefined)
    read.request.params.tools = [...called].map((name) => ({ name, description: undefined, parameters: { type: 'object' } }));
  return { request: read.request, unknown: [...unknown, ...read.unknown], extras: read.extras };
}

/**
 * The compacted response: the user messages of the conversation compacted (`messages`, the summary request's,
 * its last message the instruction), in order, as input message items, then the summary answer's one
 * `compaction` item; `response` is the summary answer as the Responses renderer made it.
 */
export function compactedResponse(response: Record<string, unknown>, messages: readonly ChatMessage[]): Record<string, unknown> {
  const base = String(response.id).replace(/^resp_/, '');
  const users = messages
    .slice(0, -1)
    .filter((m): m is Extract<ChatMessage, { role: 'user' }> => m.role === 'user' && !isCompactionSummary(m));
  const output = [
    ...users.map((m, i) => ({
      id: `msg_${base}_u${i + 1}`,
      type: 'message',
      status: 'completed',
      role: 'user',
      content: m.content.map(inputPart),
    })),
    ...(response.output as unknown[]),
  ];
  return { id: response.id, object: 'response.compaction', created_at: response.created_at, output, usage: response.usage };
}

/** A part of a user message as the client sends it: text, an image or a file as a data URL. */
function inputPart(part: ContentPart): Record<string, unknown> {
  switch (part.type) {
    case 'text':
      return { type: 'input_text', text: part.text };
    case 'image':
      return { type: 'input_image', image_url: `data:${part.mediaType};base64,${part.data}`, detail: 'auto' };
    case 'document':
      return { type: 'input_file', filename: part.name, file_data: `data:${part.mediaType};base64,${part.data}` };
  }
}
