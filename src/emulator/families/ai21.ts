// AI21 Jamba on the invoke route (OpenAI-like chat).
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-jamba.html
//         docs/bedrock-wire.md#ai21-jamba
// Validation: no Bedrock capture exists for Jamba; the emulator uses Bedrock's JSON-schema dialect.
// Stream chunks `{id, choices:[{index, delta:{content}, finish_reason:null}]}` ([unverified shape]); the last
// has `finish_reason`, `usage` and the invocation metrics.
import { any, arr, int, num, obj, oneOf, opt, req, str } from '../schema.ts';
import { everit, extraneousKey, lastRoleText, mapStop } from './common.ts';
import type { InvokeFamily, Json, RenderContext } from './types.ts';
import type { OutputPlan } from '../output.ts';

const toolCall = obj({ id: req(str()), type: req(str(['function'])), function: req(obj({ name: req(str()), arguments: req(str()) })) });
const props = {
  messages: req(
    arr(
      obj({
        role: req(str(['system', 'user', 'assistant', 'tool'])),
        content: opt(oneOf(str(), arr(obj({}, true)))),
        tool_calls: opt(arr(toolCall)),
        tool_call_id: opt(str()),
      }),
      1,
    ),
  ),
  documents: opt(arr(obj({}, true))),
  tools: opt(
    arr(obj({ type: req(str(['function'])), function: req(obj({ name: req(str()), description: opt(str()), parameters: opt(any) })) })),
  ),
  response_format: opt(obj({ type: req(str(['text', 'json_object'])) })),
  n: opt(int(1, 16)),
  temperature: opt(num(0, 2)),
  top_p: opt(num(0, 1)),
  max_tokens: opt(int(0, 4096)),
  stop: opt(oneOf(str(), arr(str()))),
  frequency_penalty: opt(num()),
  presence_penalty: opt(num()),
};
const schema = obj(props);
const STOP = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls' };

function usage(plan: OutputPlan): Json {
  return {
    prompt_tokens: plan.usage.inputTokens,
    completion_tokens: plan.usage.outputTokens,
    total_tokens: plan.usage.inputTokens + plan.usage.outputTokens,
  };
}

/** `ai21.jamba-1-5-mini-v1:0` → `jamba-1.5-mini`. */
function jambaName(modelId: string): string {
  const base = modelId
    .split('/')
    .pop()!
    .replace(/^([a-z-]+\.)?ai21\./, '')
    .replace(/-v\d+(:\d+)?$/, '');
  return base.replace(/(\d)-(\d)/, '$1.$2');
}

function toolCalls(plan: OutputPlan, ctx: RenderContext): Json[] {
  return plan.toolCalls.map((c) => ({
    id: c.id ?? ctx.newId('call_'),
    type: 'function',
    function: { name: c.name, arguments: c.argumentsJson },
  }));
}

export const ai21: InvokeFamily = {
  name: 'ai21',
  supportsTools: true,
  topLevelKeys: Object.keys(props),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(schema, body),
  sniff: () => false,
  lastUserText: (body) => lastRoleText(body),
  // As a real answer (test/fixtures/real-traffic/iv-ai21-jamba15-mini): `tool_calls: null` without calls,
  // `meta.requestDurationMillis`, and the model's short name (`jamba-1.5-mini`).
  response(plan, ctx) {
    const message: Json = {
      role: 'assistant',
      content: plan.text.full(),
      tool_calls: plan.toolCalls.length > 0 ? toolCalls(plan, ctx) : null,
    };
    return {
      id: ctx.newId('chatcmpl-'),
      choices: [{ index: 0, message, finish_reason: mapStop(STOP, plan.stopReason) }],
      usage: usage(plan),
      meta: { requestDurationMillis: 1 },
      model: jambaName(ctx.modelId),
    };
  },
  *streamEvents(plan, ctx) {
    const id = ctx.newId('chat-');
    yield { id, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] };
    for (const piece of plan.text.pieces()) yield { id, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
    if (plan.toolCalls.length > 0) yield { id, choices: [{ index: 0, delta: { tool_calls: toolCalls(plan, ctx) }, finish_reason: null }] };
    yield { id, choices: [{ index: 0, delta: {}, finish_reason: mapStop(STOP, plan.stopReason) }], usage: usage(plan) };
  },
};
