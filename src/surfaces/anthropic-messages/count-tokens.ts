/**
 * `POST /v1/messages/count_tokens` (docs/contract.md#anthropic-messages): the Messages body read as for
 * `/v1/messages`, the upstream body built as the model call would build it, and Bedrock's CountTokens asked
 * for the count (docs/bedrock-wire.md#count-tokens): Claude on invoke as `{"input":{"invokeModel":{"body":…}}}`,
 * a converse target as `{"input":{"converse":{messages, system, toolConfig}}}`. Bedrock's `{"inputTokens":N}`
 * answers `{"input_tokens":N}`. An invoke target other than Claude is a 400 saying so (CountTokens takes
 * Claude's invoke body only), and a model Bedrock cannot count for answers Bedrock's own error: never an
 * estimate passed off as a count.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SidecarError, toSidecarError } from '../../errors.ts';
import { adapterFor, applyParamPolicy } from '../../providers/index.ts';
import { readJsonBody } from '../../server/body.ts';
import type { ServerContext } from '../../server/context.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import { readBody } from '../../upstream/client.ts';
import { encodeModelPath } from '../../upstream/signer.ts';
import { anthropicErrorBody } from './errors.ts';
import { checkTranslatable, readMessagesRequest } from './request.ts';

const MAX_ANSWER_BYTES = 1024 * 1024;

export async function countTokens(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const log = ctx.log.child({ requestId });
  const started = ctx.now();
  const { config, models, client } = ctx.generation();
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  let alias: string | undefined;
  let modelId: string | undefined;
  let route: string | undefined;
  let status = 0;
  let failure: SidecarError | undefined;
  let inputTokens: number | undefined;
  try {
    const body = await readJsonBody(req, config.server.maxBodyBytes);
    const read = readMessagesRequest(body, req, { countOnly: true });
    const target = models.resolve(read.request.model);
    alias = target.alias?.name;
    modelId = target.modelId;
    route = target.route;
    checkTranslatable(read, target);
    const adapter = adapterFor(target.route, target.family);
    if (!adapter) throw new SidecarError('invalid_request_error', `the ${target.route} route cannot serve ${target.family ?? 'this model'}`, { param: 'model' });
    if (target.route === 'invoke' && target.family !== 'anthropic') {
      throw new SidecarError('invalid_request_error',
        `Bedrock's CountTokens takes the invoke body of Claude models only: "${target.name}" is ${target.family ?? 'another family'} on invoke (count through a converse alias of it)`,
        { param: 'model' });
    }
    const note = (message: string): void => log.debug({ model: target.name }, message);
    const prepared = applyParamPolicy(read.request, [], adapter, true, `${target.family ?? 'this model'} on the ${target.route} route`, note);
    const native = adapter.buildBody({ ...prepared, stream: false }, { target, note, dropParams: true });
    const input = target.route === 'invoke'
      ? { invokeModel: { body: Buffer.from(JSON.stringify(native)).toString('base64') } }
      : { converse: pick(native, ['messages', 'system', 'toolConfig']) };
    const upstream = await client.call({
      endpoint: target.endpoint,
      region: target.region,
      apiKey: target.apiKey,
      path: encodeModelPath(target.modelId, 'count-tokens'),
      body: Buffer.from(JSON.stringify({ input })),
      accept: 'application/json',
      signal: abort.signal,
    });
    const { text, overflow } = await readBody(upstream.body, MAX_ANSWER_BYTES);
    let json: unknown;
    try {
      json = overflow ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const count = (json as { inputTokens?: unknown } | undefined)?.inputTokens;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new SidecarError('upstream_protocol_error', `Bedrock's CountTokens answered without an inputTokens count: ${text.slice(0, 200)}`);
    }
    inputTokens = count;
    status = 200;
    sendJson(res, 200, { input_tokens: count });
  } catch (error) {
    failure = toSidecarError(error);
    status = res.destroyed ? 499 : failure.status;
    if (!res.headersSent && !res.destroyed) sendError(res, failure, anthropicErrorBody(failure));
    if (failure.type === 'internal_error') log.error({ err: error }, 'internal error');
  } finally {
    res.off('close', onClose);
    const model = alias ?? (modelId ? 'direct' : 'unknown');
    ctx.metrics.requests.inc({ model, route: route ?? 'none', status: String(status), surface: 'messages' });
    log.info({
      surface: 'messages', operation: 'count_tokens',
      alias: alias ?? null, modelId: modelId ?? null, route: route ?? null, status,
      ttfbMs: null, durationMs: ctx.now() - started, chunks: 0, inputTokens: inputTokens ?? null, outputTokens: null,
      guardrail: 'none', retries: 0, cancelled: status === 499,
      error: failure ? { type: failure.type, message: failure.message, upstream: failure.upstreamCode } : null,
    }, 'request completed');
  }
}

function pick(body: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (body[key] !== undefined) out[key] = body[key];
  return out;
}
