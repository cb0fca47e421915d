// DeepSeek-R1 on the invoke route (text completion).
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-deepseek.html
//         docs/bedrock-wire.md#deepseek
// Validation: no Bedrock capture exists for DeepSeek; the emulator uses Bedrock's JSON-schema dialect.
// Reasoning is inline in the text, closed by `</think>` as R1 emits it ([unverified] for Bedrock). No tools.
// Stream chunks `{choices:[{text, stop_reason:null}]}`; a final chunk carries the stop reason and metrics.
import { arr, int, num, obj, opt, req, str } from '../schema.ts';
import { everit, extraneousKey, inlineReasoningFull, inlineReasoningPieces, mapStop } from './common.ts';
import type { InvokeFamily } from './types.ts';

const props = {
  prompt: req(str()),
  temperature: opt(num(0, 1)),
  top_p: opt(num(0, 1)),
  max_tokens: opt(int(1, 32768)),
  stop: opt(arr(str(), 0, 10)),
};
const schema = obj(props);
const STOP = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length' };
const OPEN = '';
const CLOSE = '\n</think>\n\n';

/** The last user turn of a DeepSeek chat template (`<｜User｜>…<｜Assistant｜>`), else the whole prompt. */
function lastUserTurn(prompt: string): string {
  const at = prompt.lastIndexOf('<｜User｜>');
  if (at < 0) return prompt;
  const rest = prompt.slice(at + '<｜User｜>'.length);
  const end = rest.indexOf('<｜Assistant｜>');
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

export const deepseek: InvokeFamily = {
  name: 'deepseek',
  supportsTools: false,
  topLevelKeys: Object.keys(props),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(schema, body),
  sniff: () => false,
  lastUserText: (body) => lastUserTurn(typeof body.prompt === 'string' ? body.prompt : ''),
  response: (plan) => ({ choices: [{ text: inlineReasoningFull(plan, OPEN, CLOSE), stop_reason: mapStop(STOP, plan.stopReason) }] }),
  *streamEvents(plan) {
    for (const piece of inlineReasoningPieces(plan, OPEN, CLOSE)) if (piece !== '') yield { choices: [{ text: piece, stop_reason: null }] };
    yield { choices: [{ text: '', stop_reason: mapStop(STOP, plan.stopReason) }] };
  },
};
