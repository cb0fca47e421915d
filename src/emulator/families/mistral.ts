// Mistral AI on the invoke route, both request styles.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-text-completion.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-chat-completion.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-large-2407.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-mistral-pixtral-large.html
//         docs/bedrock-wire.md#mistral
// Text completion (7B, Mixtral, Large 24.02, Small): `prompt` → `{"outputs":[{"text","stop_reason"}]}`, no tools.
// Chat completion (Large 2 24.07, Pixtral Large 25.02): `messages` → `{"choices":[{"index","message","stop_reason"}]}`
// as the AWS page writes it (callers that met real answers also read `finish_reason`; the emulator follows the
// page). Stream chunks keep the non-stream shape with `stop_reason: null` and a partial `message`, as the one
// caller found reading them does (AWS shows no chunk: [unverified]); a final chunk carries the stop reason and
// the invocation metrics.
// Validation: no Bedrock capture exists for Mistral; the emulator uses Bedrock's JSON-schema dialect.
import { any, arr, int, num, obj, oneOf, opt, req, str } from '../schema.ts';
import { chatContentText, everit, extraneousKey, lastMarked, mapStop } from './common.ts';
import { isJson, type InvokeFamily, type Json, type RenderContext } from './types.ts';
import type { PlannedToolCall } from '../output.ts';
import { mistralChatIdProblem } from '../tool-use-ids.ts';

const TEXT_STOP = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length' };
const CHAT_STOP = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls' };

const textProps = {
  prompt: req(str()),
  max_tokens: opt(int(1)),
  stop: opt(arr(str())),
  temperature: opt(num(0, 1)),
  top_p: opt(num(0, 1)),
  top_k: opt(int(0)),
};
const textSchema = obj(textProps);

/** The last `[INST] … [/INST]` of a Mistral prompt, else the whole prompt. */
function lastInst(prompt: string): string {
  const at = prompt.lastIndexOf('[INST]');
  if (at < 0) return prompt;
  const rest = prompt.slice(at + 6);
  const end = rest.indexOf('[/INST]');
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

export const mistralText: InvokeFamily = {
  name: 'mistral-text',
  supportsTools: false,
  topLevelKeys: Object.keys(textProps),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(textSchema, body),
  sniff: (body) => typeof body.prompt === 'string' && body.prompt.includes('[INST]'),
  lastUserText: (body) => lastInst(typeof body.prompt === 'string' ? body.prompt : ''),
  response: (plan) => ({ outputs: [{ text: plan.text.full(), stop_reason: mapStop(TEXT_STOP, plan.stopReason) }] }),
  *streamEvents(plan) {
    // Real streams (test/fixtures/real-traffic/is-mistral-*): the last text chunk carries the stop reason.
    yield* lastMarked(plan.text.pieces(), (text, _first, last) => ({
      outputs: [{ text, stop_reason: last ? mapStop(TEXT_STOP, plan.stopReason) : null }],
    }));
  },
};

const toolCall = obj({ id: req(str()), type: opt(str(['function'])), function: req(obj({ name: req(str()), arguments: req(str()) })) });
const chatProps = {
  messages: req(
    arr(
      obj({
        role: req(str(['system', 'user', 'assistant', 'tool'])),
        content: opt(oneOf(str(), arr(obj({}, true)))),
        tool_calls: opt(arr(toolCall)),
        tool_call_id: opt(str()),
        name: opt(str()),
        prefix: opt(any),
      }),
      1,
    ),
  ),
  tools: opt(
    arr(
      obj({
        type: req(str(['function'])),
        function: req(obj({ name: req(str()), description: opt(str()), parameters: opt(obj({}, true)) })),
      }),
    ),
  ),
  tool_choice: opt(oneOf(str(['auto', 'any', 'none']), obj({}, true))),
  max_tokens: opt(int(1)),
  top_p: opt(num(0, 1)),
  temperature: opt(num(0, 1)),
};
const chatSchema = obj(chatProps);

/** Mistral tool-call ids are 9 alphanumeric characters. */
function mistralToolId(ctx: RenderContext, call: PlannedToolCall): string {
  return (
    call.id ??
    ctx
      .newId('')
      .replace(/[^a-zA-Z0-9]/g, '')
      .slice(-9)
      .padStart(9, '0')
  );
}

function chatToolCalls(ctx: RenderContext, calls: PlannedToolCall[]): Json[] {
  return calls.map((c) => ({ id: mistralToolId(ctx, c), function: { name: c.name, arguments: c.argumentsJson } }));
}

export const mistralChat: InvokeFamily = {
  name: 'mistral-chat',
  supportsTools: true,
  topLevelKeys: Object.keys(chatProps),
  extraKeyMessage: extraneousKey,
  // Tool-call ids other than 9 alphanumerics are refused (tool-use-ids.ts).
  validate: (body) => everit(chatSchema, body) ?? (isJson(body) ? mistralChatIdProblem(body) : undefined),
  sniff: () => false,
  lastUserText(body) {
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return chatContentText(messages[i]!.content);
    return '';
  },
  response(plan, ctx) {
    const message: Json = { role: 'assistant', content: plan.text.full() };
    if (plan.toolCalls.length > 0) message.tool_calls = chatToolCalls(ctx, plan.toolCalls);
    return { choices: [{ index: 0, message, stop_reason: mapStop(CHAT_STOP, plan.stopReason) }] };
  },
  *streamEvents(plan, ctx) {
    for (const piece of plan.text.pieces())
      yield { choices: [{ index: 0, message: { role: 'assistant', content: piece }, stop_reason: null }] };
    if (plan.toolCalls.length > 0) {
      yield {
        choices: [
          { index: 0, message: { role: 'assistant', content: '', tool_calls: chatToolCalls(ctx, plan.toolCalls) }, stop_reason: null },
        ],
      };
    }
    yield { choices: [{ index: 0, message: { role: 'assistant', content: '' }, stop_reason: mapStop(CHAT_STOP, plan.stopReason) }] };
  },
};
