// Cohere Command R / R+ (Chat v1) on the invoke route.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-cohere-command-r-plus.html
//         https://docs.cohere.com/v1/reference/chat-stream (stream events) ; docs/bedrock-wire.md#cohere-command-r.
// Validation: no Bedrock capture exists for Cohere; the emulator uses Bedrock's JSON-schema dialect.
// Stream, as real Bedrock sends it (test/fixtures/real-traffic/is-cohere-command-r): no `stream-start`;
// `text-generation` pieces, `tool-calls-generation` (whole calls), then `stream-end` with `is_finished: true`,
// `finish_reason`, the whole `response` (its `meta` with `billed_units` and `tokens`) and the invocation
// metrics. The non-stream answer has no `meta` (usage travels in the token-count headers).
// Cohere tool calls have no ids: `{name, parameters}`.
import { any, arr, bool, int, num, obj, opt, req, str } from '../schema.ts';
import type { OutputPlan } from '../output.ts';
import { everit, extraneousKey, mapStop } from './common.ts';
import type { InvokeFamily, Json } from './types.ts';

const toolCall = obj({ name: req(str()), parameters: req(obj({}, true)) });
const props = {
  message: req(str()),
  chat_history: opt(
    arr(
      obj({
        role: req(str(['USER', 'CHATBOT', 'SYSTEM', 'TOOL'])),
        message: opt(str()),
        tool_calls: opt(arr(toolCall)),
        tool_results: opt(arr(obj({}, true))),
      }),
    ),
  ),
  documents: opt(arr(obj({}, true))),
  search_queries_only: opt(bool),
  preamble: opt(str()),
  max_tokens: opt(int(1)),
  temperature: opt(num(0, 5)),
  p: opt(num(0, 1)),
  k: opt(int(0, 500)),
  prompt_truncation: opt(str(['OFF', 'AUTO_PRESERVE_ORDER'])),
  frequency_penalty: opt(num(0, 1)),
  presence_penalty: opt(num(0, 1)),
  seed: opt(int()),
  return_prompt: opt(bool),
  tools: opt(arr(obj({ name: req(str()), description: req(str()), parameter_definitions: opt(obj({}, true)) }))),
  tool_results: opt(arr(obj({ call: req(toolCall), outputs: req(arr(any)) }))),
  stop_sequences: opt(arr(str())),
  raw_prompting: opt(bool),
};
const schema = obj(props);
const STOP = {
  end_turn: 'COMPLETE',
  stop_sequence: 'COMPLETE',
  tool_use: 'COMPLETE',
  max_tokens: 'MAX_TOKENS',
  content_filtered: 'ERROR_TOXIC',
};

function toolCalls(plan: OutputPlan): Json[] {
  return plan.toolCalls.map((c) => ({ name: c.name, parameters: c.input }));
}

function fullResponse(plan: OutputPlan, generationId: string, responseId: string, meta: boolean): Json {
  const text = plan.text.full();
  const out: Json = {
    response_id: responseId,
    text,
    generation_id: generationId,
    chat_history: [{ role: 'CHATBOT', message: text }],
    finish_reason: mapStop(STOP, plan.stopReason),
  };
  if (meta) {
    const tokens = { input_tokens: plan.usage.inputTokens, output_tokens: plan.usage.outputTokens };
    out.meta = { api_version: { version: '1' }, billed_units: tokens, tokens };
  }
  if (plan.toolCalls.length > 0) out.tool_calls = toolCalls(plan);
  return out;
}

export const cohere: InvokeFamily = {
  name: 'cohere',
  supportsTools: true,
  topLevelKeys: Object.keys(props),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(schema, body),
  sniff: (body) => typeof body.message === 'string' && !('messages' in body),
  lastUserText: (body) => (typeof body.message === 'string' ? body.message : ''),
  response(plan, ctx) {
    return fullResponse(plan, ctx.newId('gen-'), ctx.newId('resp-'), false);
  },
  *streamEvents(plan, ctx) {
    const generationId = ctx.newId('gen-');
    for (const piece of plan.text.pieces()) yield { is_finished: false, event_type: 'text-generation', text: piece };
    if (plan.toolCalls.length > 0) yield { is_finished: false, event_type: 'tool-calls-generation', tool_calls: toolCalls(plan) };
    yield {
      is_finished: true,
      event_type: 'stream-end',
      finish_reason: mapStop(STOP, plan.stopReason),
      response: fullResponse(plan, generationId, ctx.newId('resp-'), true),
    };
  },
};
