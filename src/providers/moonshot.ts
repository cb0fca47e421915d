/**
 * Moonshot Kimi K2 Thinking (`moonshot.kimi-k2-thinking`) on the invoke route: the OpenAI chat-completions
 * body as Bedrock documents it for Kimi (string content, `max_tokens`, `temperature` from 0 to 1, `tools`;
 * no `stop`, no forced tool choice). The model always reasons; on invoke its reasoning opens the answer in
 * a `<reasoning>…</reasoning>` block, which becomes `reasoning_content`. Converse serves it like every
 * family (reasoningContent out). MiniMax M2, Gemma and Nemotron are served on converse only (minimax.ts, google.ts, nvidia.ts).
 */
import type { ParamName } from './request.ts';
import type { ChatFamilySpec, RouteAdapter } from './types.ts';
import { OpenAiStreamMapper, parseOpenAiResponse, type OpenAiStreamOptions } from './openai-compatible.ts';
import { openAiChatBody } from './openai.ts';
import { rejectParam } from './policy.ts';

const PARAMS: ReadonlySet<ParamName> = new Set<ParamName>([
  'max_tokens',
  'temperature',
  'top_p',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'metadata',
]);
const EXTRA_FIELDS: ReadonlySet<string> = new Set(['frequency_penalty', 'presence_penalty']);
const STREAM: OpenAiStreamOptions = { reasoningTags: { open: '<reasoning>', close: '</reasoning>' } };

export const moonshotInvoke: RouteAdapter = {
  params: PARAMS,
  extraFields: EXTRA_FIELDS,
  buildBody: (request, ctx) => {
    const p = { ...request.params };
    const choice = p.tool_choice?.type;
    if (choice === 'required' || choice === 'function') {
      rejectParam(ctx, 'tool_choice', `"${choice}" is not supported by ${ctx.target.modelId} on invoke (Kimi takes auto or none)`);
      delete p.tool_choice;
    }
    if (p.temperature !== undefined && p.temperature > 1) {
      ctx.note(`temperature ${p.temperature} capped at 1 (Kimi's range ends there)`);
      p.temperature = 1;
    }
    return openAiChatBody({ ...request, params: p }, ctx, { family: 'Kimi', extraFields: EXTRA_FIELDS, maxTokensKey: 'max_tokens' });
  },
  createStreamMapper: () => new OpenAiStreamMapper(STREAM),
  parseResponse: (body, headers) => parseOpenAiResponse(body, headers, STREAM),
};

export const moonshot: ChatFamilySpec<'moonshot'> = {
  family: 'moonshot',
  kind: 'chat',
  modelIds: /^moonshot(ai)?\./,
  providers: ['moonshot', 'moonshotai'],
  aliases: ['kimi', 'moonshotai'],
  invoke: moonshotInvoke,
  // Kimi K2 Thinking reasons on its own (reasoningContent out); no reasoning setting. Kimi K2.5 and K3 read images
  // (IMAGE among their input modalities in Bedrock's ListFoundationModels, us-east-1 readback of 2026-09-27;
  // a Kimi read a user-turn image in anomalyco/opencode #49444's probe, 2026-09-17); K2 Thinking reads text only.
  converse: {
    tools: true,
    images: (modelId) => /kimi-k(2\.5|3)/.test(modelId.toLowerCase()),
    documents: false,
    structured: false,
    extra: [],
    extraFields: [],
  },
};
