// Amazon Titan Text on the invoke route.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
//         docs/bedrock-wire.md#amazon-titan-text
// Validation: Bedrock's JSON-schema dialect (observed for Titan). No tool calls.
// Stream chunks: `{outputText, index, totalOutputTextTokenCount, completionReason, inputTextTokenCount}`; the
// first carries inputTextTokenCount, the last the completion reason, total count and invocation metrics.
import { arr, int, num, obj, opt, req, str } from '../schema.ts';
import { everit, extraneousKey, mapStop } from './common.ts';
import type { InvokeFamily } from './types.ts';

const props = {
  inputText: req(str()),
  textGenerationConfig: opt(obj({ temperature: opt(num(0, 1)), topP: opt(num(0, 1)), maxTokenCount: opt(int(0)), stopSequences: opt(arr(str())) })),
};
const schema = obj(props);

const STOP = { end_turn: 'FINISHED', max_tokens: 'LENGTH', stop_sequence: 'STOP_CRITERIA_MET', content_filtered: 'CONTENT_FILTERED', guardrail_intervened: 'CONTENT_FILTERED' };

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
    let first = true;
    for (const piece of plan.text.pieces()) {
      yield { outputText: piece, index: 0, totalOutputTextTokenCount: null, completionReason: null, inputTextTokenCount: first ? plan.usage.inputTokens : null };
      first = false;
    }
    yield {
      outputText: '', index: 0, totalOutputTextTokenCount: plan.usage.outputTokens, completionReason: mapStop(STOP, plan.stopReason),
      inputTextTokenCount: first ? plan.usage.inputTokens : null,
    };
  },
};
