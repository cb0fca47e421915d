// Meta Llama 3.x / 4 on the invoke route.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
//         docs/bedrock-wire.md#meta-llama
// Validation: no Bedrock capture exists for Llama; the emulator uses Bedrock's JSON-schema dialect
// (`Malformed input request: #: extraneous key [k] is not permitted, …`). No tool calls on this route.
// Stream chunks carry `generation` pieces with `stop_reason: null`; a final chunk with an empty generation
// carries the stop reason, the token counts and the invocation metrics.
import { arr, int, num, obj, opt, req, str } from '../schema.ts';
import { everit, extraneousKey, lastMarked, mapStop } from './common.ts';
import type { InvokeFamily } from './types.ts';

const props = {
  prompt: req(str()),
  temperature: opt(num(0, 1)),
  top_p: opt(num(0, 1)),
  max_gen_len: opt(int(1, 2048)),
  images: opt(arr(str())),
};
const schema = obj(props);
const STOP = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length' };

/** The last user turn of a Llama 3 chat template, else the whole prompt. */
export function lastLlamaUserTurn(prompt: string): string {
  const marker = '<|start_header_id|>user<|end_header_id|>';
  const at = prompt.lastIndexOf(marker);
  if (at < 0) return prompt;
  const rest = prompt.slice(at + marker.length);
  const end = rest.indexOf('<|eot_id|>');
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

export const llama: InvokeFamily = {
  name: 'llama',
  supportsTools: false,
  topLevelKeys: Object.keys(props),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(schema, body),
  sniff: (body) =>
    'prompt' in body && ('max_gen_len' in body || (typeof body.prompt === 'string' && body.prompt.includes('<|begin_of_text|>'))),
  lastUserText: (body) => lastLlamaUserTurn(typeof body.prompt === 'string' ? body.prompt : ''),
  response(plan) {
    return {
      generation: plan.text.full(),
      prompt_token_count: plan.usage.inputTokens,
      generation_token_count: plan.usage.outputTokens,
      stop_reason: mapStop(STOP, plan.stopReason),
    };
  },
  *streamEvents(plan) {
    // Real streams (test/fixtures/real-traffic/is-meta-*): the last text chunk carries the stop reason.
    yield* lastMarked(plan.text.pieces(), (generation, first, last) => ({
      generation,
      prompt_token_count: first ? plan.usage.inputTokens : null,
      generation_token_count: last ? plan.usage.outputTokens : null,
      stop_reason: last ? mapStop(STOP, plan.stopReason) : null,
    }));
  },
};
