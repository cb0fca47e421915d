/**
 * DeepSeek (`deepseek.*`; R1 documented) on the invoke route (docs/bedrock-wire.md#deepseek): one `prompt` in R1's
 * chat template, ending in `<think>\n` as DeepSeek recommends, with `max_tokens`, `temperature`, `top_p`,
 * `stop` (≤ 10). Stream chunks `{"choices":[{"text","stop_reason"}]}`; the terminal one carries the stop
 * reason and the invocation metrics. The answer's leading reasoning (up to `</think>`) becomes
 * `reasoning_content`: since the prompt opened the block, text is held until `</think>` proves it was
 * reasoning, and text that never closes it was the answer (ReasoningSplitter's holdUntilClose). No tools,
 * no images. A native InvokeModel client's own body (`ChatRequest.invokeBody`) is sent as it is.
 */
import type { ChatRequest, ParamName } from './request.ts';
import type { BuildContext, ChatFamilySpec, RouteAdapter } from './types.ts';
import { deepseekPrompt } from './chat-template.ts';
import { mergeExtraFields, refuseImages, rejectParam } from './policy.ts';
import {
  CompletionStreamMapper,
  first,
  ownPromptBody,
  parseCompletion,
  stringOrUndefined,
  type CompletionShape,
} from './text-completion.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>(['max_tokens', 'temperature', 'top_p', 'stop', 'user', 'metadata']);
const EXTRA_FIELDS: ReadonlySet<string> = new Set([]);
const MAX_STOP = 10;
const MAX_TOKENS = 32768;

/** Whether the model reasons in a `<think>` block (R1; V3 does not). */
function reasons(modelId: string): boolean {
  return /deepseek\.r1/.test(modelId.toLowerCase());
}

/** A native InvokeModel client's own DeepSeek body, sent as it is (`ownBodyFormat`). */
const OWN_BODY_FORMAT = 'deepseek-prompt';

function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
  const own = ownPromptBody(request, OWN_BODY_FORMAT, 'prompt');
  if (own) {
    mergeExtraFields(own, ctx, EXTRA_FIELDS, 'DeepSeek on invoke');
    return own;
  }
  refuseImages(request, 'DeepSeek');
  const p = request.params;
  const body: Record<string, unknown> = { prompt: deepseekPrompt(request.messages, reasons(ctx.target.modelId)) };
  if (p.max_tokens !== undefined) {
    if (p.max_tokens > MAX_TOKENS) ctx.note(`max_tokens ${p.max_tokens} capped at DeepSeek's limit ${MAX_TOKENS}`);
    body.max_tokens = Math.min(p.max_tokens, MAX_TOKENS);
  }
  if (p.temperature !== undefined) body.temperature = Math.min(p.temperature, 1);
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.stop !== undefined) {
    if (p.stop.length > MAX_STOP) rejectParam(ctx, 'stop', `takes at most ${MAX_STOP} sequences on DeepSeek`);
    else body.stop = p.stop;
  }
  if (p.user !== undefined || p.metadata !== undefined) ctx.note('user/metadata dropped: the DeepSeek body has no place for them');
  mergeExtraFields(body, ctx, EXTRA_FIELDS, 'DeepSeek on invoke');
  return body;
}

const READERS = {
  text: (e: Record<string, unknown>) => stringOrUndefined(first(e, 'choices').text),
  stopReason: (e: Record<string, unknown>) => stringOrUndefined(first(e, 'choices').stop_reason),
  usage: () => ({}),
};
const SHAPE: CompletionShape = {
  answer: { what: '`choices[0].text`', family: 'a DeepSeek answer', has: (e) => typeof first(e, 'choices').text === 'string' },
  chunk: READERS,
  response: READERS,
  reasoning: { open: '<think>', close: '</think>', startInside: true, holdUntilClose: true },
};

export const deepseekInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody,
  createStreamMapper: () => new CompletionStreamMapper(SHAPE),
  parseResponse: (body, headers) => parseCompletion(SHAPE, body, headers),
  ownBodyFormat: OWN_BODY_FORMAT,
};

export const deepseek: ChatFamilySpec<'deepseek'> = {
  family: 'deepseek',
  kind: 'chat',
  modelIds: /^deepseek\./,
  providers: ['deepseek'],
  aliases: [],
  invoke: deepseekInvoke,
  converse: {
    tools: true,
    images: false,
    documents: false,
    structured: false,
    extra: [],
    extraFields: [],
    refusesTools: (modelId) => (/deepseek\.v3/.test(modelId.toLowerCase()) ? undefined : "of DeepSeek's models, V3.x calls tools"),
  },
};
