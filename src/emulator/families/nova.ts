// Amazon Nova understanding models (messages-v1) on the invoke route.
// Source: https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
//         https://docs.aws.amazon.com/nova/latest/userguide/using-invoke-api.html
//         https://docs.aws.amazon.com/nova/latest/nova2-userguide/request-response-schema.html
//         docs/bedrock-wire.md#amazon-nova
// Validation: Bedrock's JSON-schema dialect (observed for Nova, docs/bedrock-wire.md#unknown-keys). `inferenceConfig`
// accepts both the documented `maxTokens`/`topP`/`topK` and the widely used `max_new_tokens`/`top_p`/`top_k`.
// Stream chunks are Converse-like events keyed by name; invocation metrics ride on the final `metadata` chunk.
// As real streams show (test/fixtures/real-traffic/is-nova-*): every text delta is a content block of its
// own (delta, then stop, the next delta at the next index), and the stream's usage has cache counts (0 when
// nothing was cached) and no totalTokens; the non-stream answer's usage has totalTokens.
import type { OutputPlan } from '../output.ts';
import { any, arr, int, num, obj, opt, req, str, union } from '../schema.ts';
import { everit, extraneousKey, mapStop } from './common.ts';
import { isJson, type InvokeFamily, type Json, type RenderContext } from './types.ts';
import { REASONING_REFUSED } from '../reasoning-history.ts';

const bytesSource = union({ bytes: str(), s3Location: obj({ uri: req(str()), bucketOwner: opt(str()) }) });
const media = obj({ format: req(str()), source: req(bytesSource) });
const contentBlock = union({
  text: str(),
  image: media,
  video: media,
  document: obj({ format: opt(str()), name: req(str()), source: req(bytesSource) }),
  toolUse: obj({ toolUseId: req(str()), name: req(str()), input: req(any) }),
  toolResult: obj({
    toolUseId: req(str()),
    content: req(arr(union({ text: str(), json: any, image: media, document: obj({}, true), video: media }))),
    status: opt(str(['success', 'error'])),
  }),
  reasoningContent: union({ reasoningText: obj({ text: req(str()), signature: opt(str()) }), redactedContent: str() }),
  cachePoint: obj({ type: req(str(['default'])) }),
});
const props = {
  schemaVersion: opt(str(['messages-v1'])),
  system: opt(arr(union({ text: str(), cachePoint: obj({ type: req(str(['default'])) }) }))),
  messages: req(arr(obj({ role: req(str(['user', 'assistant'])), content: req(arr(contentBlock)) }), 1)),
  inferenceConfig: opt(
    obj({
      maxTokens: opt(int(1)),
      max_new_tokens: opt(int(1)),
      temperature: opt(num(0, 1)),
      topP: opt(num(0, 1)),
      top_p: opt(num(0, 1)),
      topK: opt(int(0)),
      top_k: opt(int(0)),
      stopSequences: opt(arr(str())),
      reasoningConfig: opt(obj({ type: req(str(['enabled', 'disabled'])), maxReasoningEffort: opt(str(['low', 'medium', 'high'])) })),
    }),
  ),
  toolConfig: opt(
    obj({
      tools: req(
        arr(
          union({
            toolSpec: obj({ name: req(str()), description: opt(str()), inputSchema: req(union({ json: any })) }),
            cachePoint: obj({ type: req(str(['default'])) }),
          }),
          1,
        ),
      ),
      toolChoice: opt(union({ auto: obj({}), any: obj({}), tool: obj({ name: req(str()) }) })),
    }),
  ),
};
const schema = obj(props);

function toolId(ctx: RenderContext, id: string | undefined): string {
  return id ?? ctx.newId('tooluse_');
}

function usage(plan: OutputPlan): Json {
  const u: Json = {
    inputTokens: plan.usage.inputTokens,
    outputTokens: plan.usage.outputTokens,
    totalTokens: plan.usage.inputTokens + plan.usage.outputTokens,
  };
  if (plan.usage.cacheReadTokens !== undefined) u.cacheReadInputTokenCount = plan.usage.cacheReadTokens;
  if (plan.usage.cacheWriteTokens !== undefined) u.cacheWriteInputTokenCount = plan.usage.cacheWriteTokens;
  return u;
}

function streamUsage(plan: OutputPlan): Json {
  return {
    inputTokens: plan.usage.inputTokens,
    outputTokens: plan.usage.outputTokens,
    cacheReadInputTokenCount: plan.usage.cacheReadTokens ?? 0,
    cacheWriteInputTokenCount: plan.usage.cacheWriteTokens ?? 0,
  };
}

const stop = (s: string): string => mapStop({}, s);

export const nova: InvokeFamily = {
  name: 'nova',
  supportsTools: true,
  cacheCounts: true,
  topLevelKeys: Object.keys(props),
  // Nova 2's extended thinking through Converse: `additionalModelRequestFields: {reasoningConfig: {type,
  // maxReasoningEffort}}` — at the top, not inside `inferenceConfig` as the invoke body has it. So LiteLLM's
  // Converse transformation sends it (its tests cite AWS's Nova 2 Converse guide), and so do langchain-aws's
  // integration tests against Bedrock.
  converseExtraKeys: ['reasoningConfig'],
  extraKeyMessage: extraneousKey,
  // Nova refuses reasoning handed back, its own included (reasoning-history.ts).
  validate: (body) =>
    everit(schema, body) ??
    (isJson(body) &&
    Array.isArray(body.messages) &&
    body.messages.some((m) => isJson(m) && Array.isArray(m.content) && m.content.some((b) => isJson(b) && 'reasoningContent' in b))
      ? REASONING_REFUSED
      : undefined),
  sniff: (body) =>
    'schemaVersion' in body ||
    (Array.isArray(body.messages) &&
      isJson(body.messages[0]) &&
      Array.isArray(body.messages[0].content) &&
      isJson(body.messages[0].content[0]) &&
      !('type' in body.messages[0].content[0]) &&
      !('anthropic_version' in body)),

  lastUserText(body) {
    const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (isJson(m) && m.role === 'user' && Array.isArray(m.content)) {
        return m.content
          .filter((b) => isJson(b) && typeof b.text === 'string')
          .map((b) => (b as Json).text as string)
          .join('\n');
      }
    }
    return '';
  },

  response(plan, ctx) {
    const content: Json[] = [];
    if (plan.reasoning) content.push({ reasoningContent: { reasoningText: { text: plan.reasoning.full() } } });
    if (plan.text.bytes > 0 || plan.toolCalls.length === 0) content.push({ text: plan.text.full() });
    for (const c of plan.toolCalls) content.push({ toolUse: { toolUseId: toolId(ctx, c.id), name: c.name, input: c.input } });
    return { output: { message: { role: 'assistant', content } }, stopReason: stop(plan.stopReason), usage: usage(plan) };
  },

  *streamEvents(plan, ctx) {
    yield { messageStart: { role: 'assistant' } };
    let index = 0;
    if (plan.reasoning) {
      for (const piece of plan.reasoning.pieces())
        yield { contentBlockDelta: { delta: { reasoningContent: { text: piece } }, contentBlockIndex: index } };
      yield { contentBlockStop: { contentBlockIndex: index } };
      index++;
    }
    if (plan.text.bytes > 0 || plan.toolCalls.length === 0) {
      for (const piece of plan.text.pieces()) {
        yield { contentBlockDelta: { delta: { text: piece }, contentBlockIndex: index } };
        yield { contentBlockStop: { contentBlockIndex: index } };
        index++;
      }
    }
    for (const c of plan.toolCalls) {
      yield { contentBlockStart: { start: { toolUse: { toolUseId: toolId(ctx, c.id), name: c.name } }, contentBlockIndex: index } };
      for (const piece of c.argumentDeltas) yield { contentBlockDelta: { delta: { toolUse: { input: piece } }, contentBlockIndex: index } };
      yield { contentBlockStop: { contentBlockIndex: index } };
      index++;
    }
    yield { messageStop: { stopReason: stop(plan.stopReason) } };
    yield { metadata: { usage: streamUsage(plan), metrics: {}, trace: {} } };
  },
};
