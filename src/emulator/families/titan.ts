// Amazon Titan Text on the invoke route.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
//         docs/bedrock-wire.md#amazon-titan-text
// Validation: Bedrock's JSON-schema dialect (observed for Titan). No tool calls.
// Stream chunks as real Bedrock sends them (test/fixtures/real-traffic/is-titan-*): `{outputText, index}`, the
// first adding `inputTextTokenCount`, the last (a text chunk, not an extra empty one) adding
// `totalOutputTextTokenCount`, `completionReason` (`FINISH` for a natural end, not the docs' `FINISHED`) and
// the invocation metrics; keys that do not apply are absent, not null.
import { arr, int, num, obj, opt, req, str } from '../schema.ts';
import { everit, extraneousKey, lastMarked, mapStop } from './common.ts';
import type { InvokeFamily, Json } from './types.ts';

const props = {
  inputText: req(str()),
  textGenerationConfig: opt(
    obj({ temperature: opt(num(0, 1)), topP: opt(num(0, 1)), maxTokenCount: opt(int(0)), stopSequences: opt(arr(str())) }),
  ),
};
const schema = obj(props);

const STOP = {
  end_turn: 'FINISH',
  max_tokens: 'LENGTH',
  stop_sequence: 'STOP_CRITERIA_MET',
  content_filtered: 'CONTENT_FILTERED',
  guardrail_intervened: 'CONTENT_FILTERED',
};

export const titan: InvokeFamily = {
  name: 'titan',
  supportsTools: false,
  topLevelKeys: Object.keys(props),
  extraKeyMessage: extraneousKey,
  validate: (body) => everit(schema, body),
  sniff: (body) => 'inputText' in body,
  lastUserText(body) {
    const text = typeof body.inputText === 'string' ? body.inputText : '';
    // Chat-style prompts: "User: …\nBot:" — take the last user turn.
    const m = /User:\s*([\s\S]*?)\s*(?:\nBot:\s*)?$/.exec(text.slice(text.lastIndexOf('User:')));
    return text.includes('User:') && m ? m[1]! : text;
  },
  response(plan) {
    return {
      inputTextTokenCount: plan.usage.inputTokens,
      results: [{ tokenCount: plan.usage.outputTokens, outputText: plan.text.full(), completionReason: mapStop(STOP, plan.stopReason) }],
    };
  },
  *streamEvents(plan) {
    const chunk = (outputText: string, first: boolean, last: boolean): Json => ({
      outputText,
      index: 0,
      ...(first ? { inputTextTokenCount: plan.usage.inputTokens } : {}),
      ...(last ? { totalOutputTextTokenCount: plan.usage.outputTokens, completionReason: mapStop(STOP, plan.stopReason) } : {}),
    });
    yield* lastMarked(plan.text.pieces(), chunk);
  },
};
