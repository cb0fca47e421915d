/**
 * `POST /model/{modelId}/count-tokens` (docs/contract.md#bedrock-native): Bedrock's CountTokens, forwarded
 * signed by the sidecar for the model the path names, after its input is checked as the model call would
 * check it — `{"input":{"invokeModel":{"body":<base64 Claude body>}}}` against Claude's allow-list,
 * `{"input":{"converse":{messages, system?, toolConfig?}}}` against Converse's. The answer is Bedrock's own
 * `{"inputTokens":N}`; its errors are Bedrock's shape. One log line and the request metrics, surface `native`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SidecarError, toSidecarError } from '../../errors.ts';
import { readJsonBody } from '../../server/body.ts';
import type { ServerContext } from '../../server/context.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import { readBody } from '../../upstream/client.ts';
import { encodeModelPath } from '../../upstream/signer.ts';
import { invalid, isObject, readConverseRequest } from './converse-request.ts';
import { nativeErrorBody, nativeErrorHeaders } from './errors.ts';
import { readClaudeInvoke } from './invoke-request.ts';
import { modelNameFor, parseModelPath } from './names.ts';

const MAX_ANSWER_BYTES = 1024 * 1024;

export async function countTokens(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const log = ctx.log.child({ requestId });
  const started = ctx.now();
  const generation = ctx.generation();
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  const line: { alias: string | null; modelId: string | null; route: string | null; status: number; inputTokens: number | null } = {
    alias: null, modelId: null, route: null, status: 0, inputTokens: null,
  };
  let failure: SidecarError | undefined;
  try {
    const model = modelNameFor(parseModelPath(req.url ?? '/').modelId, 'count-tokens', generation);
    const body = await readJsonBody(req, generation.config.server.maxBodyBytes);
    const input = isObject(body) && isObject(body.input) ? body.input : undefined;
    if (!input || Object.keys(input).length !== 1 || !(isObject(input.invokeModel) || isObject(input.converse))) {
      throw invalid('input: must hold exactly one of invokeModel {body} or converse {messages, system?, toolConfig?}', 'input');
    }
    if (isObject(input.invokeModel)) {
      const encoded = input.invokeModel.body;
      if (typeof encoded !== 'string') throw invalid('input.invokeModel.body: must be the base64 of the model\'s body', 'input.invokeModel.body');
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      } catch {
        throw invalid('input.invokeModel.body: is not the base64 of a JSON body', 'input.invokeModel.body');
      }
      readClaudeInvoke(decoded, model, false);
    } else {
      const converse = input.converse as Record<string, unknown>;
      const extra = Object.keys(converse).filter((key) => !['messages', 'system', 'toolConfig'].includes(key));
      if (extra.length > 0) throw invalid(`Malformed input request: extraneous key [input.converse.${extra[0]}] is not permitted`, 'input.converse');
      readConverseRequest(converse, model, false);
    }
    const target = generation.models.resolve(model);
    line.alias = target.alias?.name ?? null;
    line.modelId = target.modelId;
    line.route = target.route;
    const upstream = await generation.client.call({
      endpoint: target.endpoint,
      region: target.region,
      apiKey: target.apiKey,
      path: encodeModelPath(target.modelId, 'count-tokens'),
      body: Buffer.from(JSON.stringify({ input })),
      accept: 'application/json',
      signal: abort.signal,
    });
    const { text, overflow } = await readBody(upstream.body, MAX_ANSWER_BYTES);
    let count: unknown;
    try {
      count = overflow ? undefined : (JSON.parse(text) as { inputTokens?: unknown }).inputTokens;
    } catch {
      count = undefined;
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new SidecarError('upstream_protocol_error', `Bedrock's CountTokens answered without an inputTokens count: ${text.slice(0, 200)}`);
    }
    line.inputTokens = count;
    line.status = 200;
    sendJson(res, 200, { inputTokens: count });
  } catch (error) {
    failure = toSidecarError(error);
    line.status = failure.status;
    if (!res.headersSent && !res.destroyed) sendError(res, failure, nativeErrorBody(failure), nativeErrorHeaders(failure));
    if (failure.type === 'internal_error') log.error({ err: error }, 'internal error');
  } finally {
    res.off('close', onClose);
    const durationMs = ctx.now() - started;
    const labels = { model: line.alias ?? (line.modelId ? 'direct' : 'unknown'), route: line.route ?? 'none', surface: 'native' };
    ctx.metrics.requests.inc({ ...labels, status: String(line.status) });
    ctx.metrics.duration.observe(labels, durationMs / 1000);
    log.info({
      surface: 'native', operation: 'count-tokens', alias: line.alias, modelId: line.modelId, route: line.route,
      servedBy: line.alias, status: line.status, ttfbMs: null, durationMs, chunks: 0, inputTokens: line.inputTokens,
      outputTokens: null, guardrail: 'none', retries: 0, cancelled: false,
      error: failure ? { type: failure.type, message: failure.message, upstream: failure.upstreamCode } : null,
    }, 'request completed');
  }
}
