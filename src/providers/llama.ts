/**
 * Meta Llama (`meta.llama*`: 3.x, 4, and the retired 2) on the invoke route (docs/bedrock-wire.md#meta-llama): one
 * `prompt` in the model's chat template (Llama 3 header tokens, Llama 4's `<|header_start|>`, Llama 2's
 * `[INST]`), `max_gen_len`, `temperature`, `top_p`, and base64 `images` for the vision models (Llama 3.2
 * 11B/90B, Llama 4). No tools and no stop sequences on this route (the converse route has tools).
 * Stream chunks carry `generation`; the terminal one carries `stop_reason` and the invocation metrics. A native
 * InvokeModel client's own body (`ChatRequest.invokeBody`) is sent as it is, the alias's extra fields merged.
 */
import type { ChatRequest, ParamName } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter } from './types.ts';
import { llama2Prompt, llama3Prompt, llama4Prompt } from './chat-template.ts';
import { partAt } from './paths.ts';
import { imageRefused, mergeExtraFields } from './policy.ts';
import {
  CompletionStreamMapper,
  counts,
  ownPromptBody,
  parseCompletion,
  stringOrUndefined,
  type CompletionShape,
} from './text-completion.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>(['max_tokens', 'temperature', 'top_p', 'user', 'metadata']);
const EXTRA_FIELDS: ReadonlySet<string> = new Set([]);
/** A native InvokeModel client's own Llama body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'llama-prompt';
/** Bedrock's documented maximum for `max_gen_len`. */
const MAX_GEN_LEN = 2048;

export function llamaPrompt(modelId: string, request: ChatRequest): string {
  const id = modelId.toLowerCase();
  if (id.includes('llama4')) return llama4Prompt(request.messages);
  if (id.includes('llama2')) return llama2Prompt(request.messages);
  return llama3Prompt(request.messages);
}

/** The vision models (either route): Llama 3.2 11B and 90B, Llama 4. */
function llamaVision(modelId: string): boolean {
  return /llama3-2-(11|90)b|llama4/.test(modelId.toLowerCase());
}

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownPromptBody(request, OWN_BODY_FORMAT, 'prompt');
  if (own) {
    mergeExtraFields(own, ctx, EXTRA_FIELDS, 'Llama on invoke');
    return own;
  }
  const p = request.params;
  const vision = llamaVision(ctx.target.modelId);
  const images: string[] = [];
  request.messages.forEach((m, i) => {
    if (m.role !== 'user') return;
    m.content.forEach((part, j) => {
      if (part.type !== 'image') return;
      if (!vision) throw imageRefused(partAt(m, i, j), ctx.target.modelId);
      images.push(part.data);
    });
  });
  const body: Record<string, unknown> = { prompt: llamaPrompt(ctx.target.modelId, request) };
  if (p.max_tokens !== undefined) {
    if (p.max_tokens > MAX_GEN_LEN) ctx.note(`max_tokens ${p.max_tokens} capped at Llama's max_gen_len limit ${MAX_GEN_LEN}`);
    body.max_gen_len = Math.min(p.max_tokens, MAX_GEN_LEN);
  }
  if (p.temperature !== undefined) body.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (images.length > 0) body.images = images;
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the Llama body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'Llama on invoke');
  return body;
}

const READERS = {
  text: (e: Record<string, unknown>) => stringOrUndefined(e.generation),
  stopReason: (e: Record<string, unknown>) => stringOrUndefined(e.stop_reason),
  usage: (e: Record<string, unknown>) => counts(e.prompt_token_count, e.generation_token_count),
};
const SHAPE: CompletionShape = {
  answer: { what: '`generation`', family: 'a Llama answer', has: (e) => typeof e.generation === 'string' },
  chunk: READERS,
  response: READERS,
};

export const llamaInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new CompletionStreamMapper(SHAPE),
  parseResponse: (body, headers) => parseCompletion(SHAPE, body, headers),
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const llama: ChatFamilySpec<'meta'> = {
  family: 'meta',
  kind: 'chat',
  modelIds: /^meta\.llama/,
  providers: ['meta'],
  aliases: ['llama'],
  invoke: llamaInvoke,
  converse: {
    tools: true,
    // Llama 4 refuses tools on ConverseStream ("This model doesn't support tool use in streaming mode.": pi #3739,
    // 2026-04, Maverick and Scout; obot #6740, 2026-05).
    toolsOnlyWhole: (modelId) => modelId.toLowerCase().includes('llama4'),
    // "Conversation blocks and tool result blocks cannot be provided in the same turn." (harness-sdk #1223,
    // 2025-11, Llama 4 Maverick; browser-use #710, 2025-02, Llama 3.3 70B).
    toolResultsAlone: true,
    images: llamaVision,
    documents: true,
    structured: false,
    extra: [],
    extraFields: [],
  },
};
