/**
 * `POST /v1/messages/count_tokens` (docs/contract.md#anthropic-messages): the Messages body read as for
 * `/v1/messages`, the upstream body built as the model call would build it, and Bedrock's CountTokens asked
 * for the count (src/surfaces/count-tokens.ts, docs/bedrock-wire.md#count-tokens): Claude on invoke as
 * `{"input":{"invokeModel":{"body":…}}}`, a converse target as `{"input":{"converse":{messages, system,
 * toolConfig}}}`. Bedrock's `{"inputTokens":N}` answers `{"input_tokens":N}`. An invoke target other than
 * Claude is a 400 saying so (CountTokens takes Claude's invoke body only). Claude's body is counted without
 * `context_management` and with each `compaction` block as its summary text (context-management.ts
 * `countableClaudeBody`).
 */
import { SidecarError } from '../../errors.ts';
import { COMPACT_BETA, countableClaudeBody } from '../../providers/context-management.ts';
import { adapterFor, applyParamPolicy, takesAnthropicMessages } from '../../providers/index.ts';
import type { Handler } from '../../server/surface.ts';
import { serveCountTokens, type CountSurface } from '../count-tokens.ts';
import { anthropicErrorBody } from './errors.ts';
import { checkTranslatable, readMessagesRequest } from './request.ts';

const surface: CountSurface = {
  name: 'messages',
  operation: 'count_tokens',
  read: (body, req, { log }) => {
    const read = readMessagesRequest(body, req, { countOnly: true });
    const own = read.request.anthropic;
    if (own) read.request.anthropic = { ...own, body: countableClaudeBody(own.body), betas: own.betas.filter((f) => f !== COMPACT_BETA) };
    return {
      model: read.request.model,
      input: (target) => {
        const note = (message: string): void => log.debug({ model: target.name }, message);
        checkTranslatable(read, target, note);
        const adapter = adapterFor(target.route, target.family);
        if (!adapter)
          throw new SidecarError('invalid_request_error', `the ${target.route} route cannot serve ${target.family ?? 'this model'}`, {
            param: 'model',
          });
        if (target.route === 'invoke' && !takesAnthropicMessages(target.route, target.family)) {
          throw new SidecarError(
            'invalid_request_error',
            `Bedrock's CountTokens takes the invoke body of Claude models only: "${target.name}" is ${target.family ?? 'another family'} on invoke (count through a converse alias of it)`,
            { param: 'model' },
          );
        }
        const prepared = applyParamPolicy(
          read.request,
          [],
          adapter,
          true,
          `${target.family ?? 'this model'} on the ${target.route} route`,
          note,
        );
        const native = adapter.buildBody({ ...prepared, stream: false }, { target, note, dropParams: true, dropsToolResultParts: true });
        return target.route === 'invoke'
          ? { invokeModel: { body: Buffer.from(JSON.stringify(native)).toString('base64') } }
          : { converse: pick(native, ['messages', 'system', 'toolConfig']) };
      },
    };
  },
  answer: (inputTokens) => ({ input_tokens: inputTokens }),
  errorBody: anthropicErrorBody,
};

export const countTokens: Handler = (ctx, req, res, requestId) => serveCountTokens(surface, ctx, req, res, requestId);

function pick(body: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (body[key] !== undefined) out[key] = body[key];
  return out;
}
