/**
 * `POST /model/{modelId}/count-tokens` (docs/contract.md#bedrock-native): Bedrock's CountTokens, forwarded
 * signed by the sidecar for the model the path names (src/surfaces/count-tokens.ts), after its input is
 * checked as the model call would check it — `{"input":{"invokeModel":{"body":<base64 Claude body>}}}` against
 * Claude's allow-list, `{"input":{"converse":{messages, system?, toolConfig?}}}` against Converse's. A Claude body
 * with `context_management` or `compaction` blocks is counted as the Messages count sends it (context-management.ts
 * `countableClaudeBody`), any other goes byte for byte. The answer is Bedrock's own `{"inputTokens":N}`; its errors
 * are Bedrock's shape.
 */
import { countableClaudeBody } from '../../providers/context-management.ts';
import type { Handler } from '../../server/surface.ts';
import { serveCountTokens, type CountSurface } from '../count-tokens.ts';
import { invalid, isObject, readConverseRequest } from './converse-request.ts';
import { nativeErrorBody, nativeErrorHeaders, nativeErrorStatus } from './errors.ts';
import { readClaudeInvoke } from './invoke-request.ts';
import { modelNameFor, parseModelPath } from './names.ts';

const surface: CountSurface = {
  name: 'native',
  operation: 'count-tokens',
  read: (body, req, { generation }) => {
    const model = modelNameFor(parseModelPath(req.url ?? '/').modelId, 'count-tokens', generation);
    const input = isObject(body) && isObject(body.input) ? body.input : undefined;
    if (!input || Object.keys(input).length !== 1 || !(isObject(input.invokeModel) || isObject(input.converse))) {
      throw invalid('input: must hold exactly one of invokeModel {body} or converse {messages, system?, toolConfig?}', 'input');
    }
    if (isObject(input.invokeModel)) {
      const encoded = input.invokeModel.body;
      if (typeof encoded !== 'string')
        throw invalid("input.invokeModel.body: must be the base64 of the model's body", 'input.invokeModel.body');
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      } catch {
        throw invalid('input.invokeModel.body: is not the base64 of a JSON body', 'input.invokeModel.body');
      }
      readClaudeInvoke(decoded, model, false);
      const countable = countableClaudeBody(decoded as Record<string, unknown>);
      if (countable !== decoded)
        return { model, input: () => ({ invokeModel: { body: Buffer.from(JSON.stringify(countable)).toString('base64') } }) };
    } else {
      const converse = input.converse as Record<string, unknown>;
      const extra = Object.keys(converse).filter((key) => !['messages', 'system', 'toolConfig'].includes(key));
      if (extra.length > 0)
        throw invalid(`Malformed input request: extraneous key [input.converse.${extra[0]}] is not permitted`, 'input.converse');
      readConverseRequest(converse, model, false);
    }
    return { model, input: () => input };
  },
  answer: (inputTokens) => ({ inputTokens }),
  errorBody: nativeErrorBody,
  errorHeaders: nativeErrorHeaders,
  errorStatus: nativeErrorStatus,
};

export const countTokens: Handler = (ctx, req, res, requestId) => serveCountTokens(surface, ctx, req, res, requestId);
