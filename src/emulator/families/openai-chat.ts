// The OpenAI Chat Completions body and response shapes, shared by the gpt-oss and Qwen families.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-openai.html ;
//         https://platform.openai.com/docs/api-reference/chat (chat.completion / chat.completion.chunk).
// Bedrock rules for gpt-oss: `model`, if present, must equal the path model id; `stream`, if present, must
// match the operation (false for InvokeModel); a `json_schema` response format's object schemas must be closed
// (`additionalProperties: false`), as on Converse (../structured-output.ts). With InvokeModel the reasoning precedes the answer text,
// wrapped in `<reasoning>…</reasoning>` (doc); the emulator does the same on the stream.
import type { OutputPlan } from '../output.ts';
import { any, arr, bool, int, num, obj, oneOf, opt, req, str, type Prop } from '../schema.ts';
import { everit, extraneousKey, inlineReasoningFull, inlineReasoningPieces, lastRoleText, mapStop } from './common.ts';
import { hasOpenObject, OPEN_OBJECT_SCHEMA } from '../structured-output.ts';
import { isJson, type InvokeFamily, type Json, type RenderContext } from './types.ts';
import type { FamilyName } from '../model-id.ts';

const toolCall = obj({ id: req(str()), type: req(str(['function'])), function: req(obj({ name: req(str()), arguments: req(str()) })) });
export const openAiChatProps: Record<string, Prop> = {
  messages: req(
    arr(
      obj({
        role: req(str(['developer', 'system', 'user', 'assistant', 'tool'])),
        content: opt(oneOf(str(), arr(obj({}, true)), { kind: 'any' })),
        name: opt(str()),
        tool_calls: opt(arr(toolCall)),
        tool_call_id: opt(str()),
        refusal: opt(any),
        reasoning: opt(any),
        reasoning_content: opt(any),
      }),
      1,
    ),
  ),
  model: opt(str()),
  stream: opt(bool),
  stream_options: opt(obj({ include_usage: opt(bool) })),
  max_completion_tokens: opt(int(1)),
  max_tokens: opt(int(1)),
  temperature: opt(num(0, 2)),
  top_p: opt(num(0, 1)),
  n: opt(int(1, 1)),
  stop: opt(oneOf(str(), arr(str(), 0, 4))),
  tools: opt(
    arr(
      obj({
        type: req(str(['function'])),
        function: req(obj({ name: req(str()), description: opt(str()), parameters: opt(obj({}, true)), strict: opt(bool) })),
      }),
    ),
  ),
  tool_choice: opt(oneOf(str(['none', 'auto', 'required']), obj({}, true))),
  parallel_tool_calls: opt(bool),
  response_format: opt(obj({}, true)),
  reasoning_effort: opt(str(['low', 'medium', 'high'])),
  seed: opt(int()),
  frequency_penalty: opt(num(-2, 2)),
  presence_penalty: opt(num(-2, 2)),
  logit_bias: opt(obj({}, true)),
  logprobs: opt(bool),
  top_logprobs: opt(int(0, 20)),
  user: opt(str()),
  metadata: opt(obj({}, true)),
};

const STOP = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/**
 * A `json_schema` response format is compiled into a grammar as Converse's `outputConfig` is, and takes an
 * object schema only closed (structured-output.ts): the same refusal, in the same words.
 */
function responseFormatProblem(body: Json): string | undefined {
  const format = body.response_format;
  if (!isJson(format) || format.type !== 'json_schema' || !isJson(format.json_schema)) return undefined;
  return hasOpenObject(format.json_schema.schema) ? OPEN_OBJECT_SCHEMA : undefined;
}

export interface OpenAiChatStyle {
  name: FamilyName;
  /** 'tag': reasoning inline as `<reasoning>…</reasoning>`; 'field': `reasoning_content` members. */
  reasoning: 'tag' | 'field';
}

function usage(plan: OutputPlan): Json {
  return {
    prompt_tokens: plan.usage.inputTokens,
    completion_tokens: plan.usage.outputTokens,
    total_tokens: plan.usage.inputTokens + plan.usage.outputTokens,
  };
}

function modelName(modelId: string): string {
  return modelId;
}

/** OpenAI's own models on Bedrock (not the open-weight gpt-oss), e.g. `us.openai.gpt-6-sol`. */
function isFrontierOpenAi(style: OpenAiChatStyle, modelId: string): boolean {
  return style.name === 'openai' && !modelId.includes('gpt-oss');
}

/**
 * The whole chat.completion OpenAI's own models answer with on Bedrock
 * (test/fixtures/real-traffic/iv-openai-gpt6-sol): `annotations` and `refusal` on the message, the
 * token-detail objects, `service_tier` and `system_fingerprint`.
 */
function frontierAnswer(out: Json, message: Json): Json {
  message.annotations = [];
  message.refusal = null;
  const u = out.usage as Json;
  u.completion_tokens_details = { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 };
  u.prompt_tokens_details = { audio_tokens: 0, cache_write_tokens: 0, cached_tokens: 0 };
  return { ...out, service_tier: 'default', system_fingerprint: null };
}

export function openAiChatFamily(style: OpenAiChatStyle): InvokeFamily {
  const schema = obj(openAiChatProps);
  const OPEN = '<reasoning>';
  const CLOSE = '</reasoning>';
  const callId = (ctx: RenderContext, id: string | undefined): string => id ?? ctx.newId('call_');
  return {
    name: style.name,
    supportsTools: true,
    topLevelKeys: Object.keys(openAiChatProps),
    extraKeyMessage: extraneousKey,
    validate(body, ctx) {
      const shape = everit(schema, body);
      if (shape) return shape;
      const b = body as Json;
      if (b.model !== undefined && b.model !== ctx.modelId) {
        return `The model field in the request body (${typeof b.model === 'string' ? b.model : JSON.stringify(b.model)}) does not match the model ID in the request (${ctx.modelId}).`;
      }
      if (b.stream !== undefined && b.stream !== ctx.stream) {
        return ctx.stream
          ? 'The stream field in the request body must be true (or omitted) for InvokeModelWithResponseStream.'
          : 'The stream field in the request body must be false (or omitted) for InvokeModel.';
      }
      return responseFormatProblem(b);
    },
    sniff: (body) => Array.isArray(body.messages) && ('max_completion_tokens' in body || 'model' in body),
    lastUserText: (body) => lastRoleText(body),
    response(plan, ctx) {
      const message: Json = {
        role: 'assistant',
        content: style.reasoning === 'tag' ? inlineReasoningFull(plan, OPEN, CLOSE) : plan.text.full(),
      };
      if (style.reasoning === 'field' && plan.reasoning) message.reasoning_content = plan.reasoning.full();
      if (plan.toolCalls.length > 0) {
        message.tool_calls = plan.toolCalls.map((c) => ({
          id: callId(ctx, c.id),
          type: 'function',
          function: { name: c.name, arguments: c.argumentsJson },
        }));
      }
      const out: Json = {
        id: ctx.newId('chatcmpl-'),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: modelName(ctx.modelId),
        choices: [{ index: 0, message, finish_reason: mapStop(STOP, plan.stopReason) }],
        usage: usage(plan),
      };
      return isFrontierOpenAi(style, ctx.modelId) ? frontierAnswer(out, message) : out;
    },
    *streamEvents(plan, ctx) {
      const base = {
        id: ctx.newId('chatcmpl-'),
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model: modelName(ctx.modelId),
      };
      const chunk = (delta: Json, finish: string | null = null): Json => ({
        ...base,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      yield chunk({ role: 'assistant', content: '' });
      if (style.reasoning === 'field' && plan.reasoning) {
        for (const piece of plan.reasoning.pieces()) yield chunk({ reasoning_content: piece });
      }
      const pieces = style.reasoning === 'tag' ? inlineReasoningPieces(plan, OPEN, CLOSE) : plan.text.pieces();
      for (const piece of pieces) yield chunk({ content: piece });
      for (let index = 0; index < plan.toolCalls.length; index++) {
        const c = plan.toolCalls[index]!;
        yield chunk({ tool_calls: [{ index, id: callId(ctx, c.id), type: 'function', function: { name: c.name, arguments: '' } }] });
        for (const piece of c.argumentDeltas) yield chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
      }
      yield { ...chunk({}, mapStop(STOP, plan.stopReason)), usage: usage(plan) };
    },
  };
}
