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
import { reasoningEffortField, rejectParam } from './policy.ts';
import type { ChatRequest, ReasoningEffort } from './request.ts';
import type { BuildContext } from './types.ts';

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
  // Kimi K2 Thinking reasons on its own (reasoningContent out), with no setting. Kimi K2.5 and K3 read images
  // (IMAGE among their input modalities in Bedrock's ListFoundationModels, us-east-1 readback of 2026-09-27;
  // stdapi-ai/stdapi.ai's probes of K3 and K2.5, 2026-09; opencode #49444); K2 Thinking reads text only. Kimi K3
  // takes `reasoning: {effort}` and json_schema structured outputs (kimiReasoning).
  converse: {
    tools: true,
    images: (modelId) => isKimiK3(modelId) || /kimi-k2\.5/.test(modelId.toLowerCase()),
    documents: false,
    structured: true,
    refusesStructured: (modelId) => (isKimiK3(modelId) ? undefined : 'only Kimi K3 takes structured outputs on Bedrock'),
    extra: ['reasoning_effort'],
    extraFields: ['reasoning'],
    reasoning: kimiReasoning,
  },
};

/** Kimi K3 and later (`moonshotai.kimi-k3`), as opposed to K2 Thinking and K2.5. */
function isKimiK3(modelId: string): boolean {
  return /kimi-k([3-9]|\d\d)/.test(modelId.toLowerCase());
}

/**
 * `reasoning_effort` for Kimi on Converse. K3 takes `reasoning: {effort}` with none, low, medium, high, xhigh and max
 * — Bedrock's own list in its refusal of another shape ("Invalid type for 'reasoning.effort': expected one of 'none',
 * 'low', 'medium', 'high', 'xhigh', and 'max'") — and `none` turns its reasoning off; `thinking: {type: "disabled"}`
 * does nothing there (stdapi-ai/stdapi.ai's probe of us.moonshotai.kimi-k3, 2026-09-22, and its live test).
 * `minimal` is sent as `low`. Kimi K2 Thinking and K2.5 reason on their own with no setting: the parameter policy's
 * 400 naming it, or dropped with drop_params.
 */
function kimiReasoning(
  request: ChatRequest,
  ctx: BuildContext,
  effort: ReasoningEffort,
): { request: ChatRequest; fields: Record<string, unknown> } {
  if (!isKimiK3(ctx.target.modelId)) {
    rejectParam(ctx, 'reasoning_effort', `is not supported by ${ctx.target.modelId} (it reasons on its own, with no setting)`);
    return { request, fields: {} };
  }
  return { request, fields: reasoningEffortField(effort) };
}
