/**
 * InvokeModel of an embedding model (docs/contract.md#bedrock-native): Titan Text Embeddings, Cohere Embed
 * and Nova Multimodal Embeddings take the app's own body — the usual way an AWS SDK app embeds. Its members
 * are checked against what Bedrock takes for that model (providers/embeddings, `native`): one it does not
 * take, or a missing one, is Bedrock's 400 before any call. The alias's input guardrails read its texts (a
 * mask is sent masked); the sidecar's own parameters are taken out; nothing else changes. One call through
 * the shared path (server/embedding-call.ts: failover, retries, breaker, the log line and metrics with
 * `surface="native"`); a fallback must be the same embedding model, since the body is that model's. The answer
 * is Bedrock's JSON as Bedrock sent it, with its `X-Amzn-Bedrock-Input-Token-Count`. The app's
 * `X-Amzn-Bedrock-ProjectIdentifier` goes on with every call, as on the chat models' InvokeModel.
 * InvokeModelWithResponseStream of an embedding model is what Bedrock answers: a `ValidationException`,
 * here before any call (Bedrock streams no embedding model).
 */
import { SidecarError } from '../../errors.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import { embeddingModelOf, type EmbeddingModel } from '../../providers/embeddings/index.ts';
import { takeSidecarParams } from '../../providers/request.ts';
import { checkProjectRegion, projectHeader } from '../../providers/serving.ts';
import { usageFromHeaders } from '../../providers/usage.ts';
import { readJsonBody } from '../../server/body.ts';
import {
  embeddingsContext,
  guardEmbeddingTexts,
  invokeEmbedding,
  noteServedBy,
  readEmbeddingAnswer,
  serveEmbeddingRequest,
  type EmbeddingExchange,
} from '../../server/embedding-call.ts';
import type { Handler } from '../../server/surface.ts';
import { invalid, isObject } from './converse-request.ts';
import { nativeErrorBody, nativeErrorHeaders, nativeErrorStatus } from './errors.ts';
import { projectHeaderOf } from './invoke-request.ts';

/** Bedrock's words for a stream asked of a model that has none (an embedding model). */
export const STREAMING_UNSUPPORTED = 'The model is unsupported for streaming.';

/** Response headers of Bedrock's answer the app gets as Bedrock sent them. */
const KEPT_HEADERS = ['x-amzn-bedrock-input-token-count', 'x-amzn-bedrock-invocation-latency'];

/** The handler of one InvokeModel / InvokeModelWithResponseStream of the embedding model `model` names. */
export function embeddingInvoke(model: string, stream: boolean): Handler {
  return (ctx, req, res, requestId) =>
    serveEmbeddingRequest(
      embeddingsContext(ctx),
      {
        name: 'native',
        errorBody: nativeErrorBody,
        errorHeaders: nativeErrorHeaders,
        errorStatus: nativeErrorStatus,
        serve: (ex) => serve(ex, model, stream),
      },
      req,
      res,
      requestId,
    );
}

async function serve(ex: EmbeddingExchange, model: string, stream: boolean): Promise<void> {
  const { ctx, req, res, outcome, abort, reservation } = ex;
  const body = await readJsonBody(req, ctx.config.server.maxBodyBytes, reservation);
  const requested = ctx.models.resolve(model);
  outcome.alias = requested.alias?.name;
  outcome.modelId = requested.modelId;
  outcome.route = requested.route;
  if (stream) throw invalid(STREAMING_UNSUPPORTED);
  if (!isObject(body)) throw invalid('Malformed input request: #: expected type: JSONObject, please reformat your input and try again.');
  const raw = { ...body };
  const sidecar = takeSidecarParams(raw);
  const embedding = embeddingModelOf(requested)!;
  const { texts, put } = embedding.native.read(raw);
  outcome.inputs = texts.length;
  const guardrails = { requested: requested.alias?.guardrails ?? [], request: sidecar.guardrails };
  const project = projectHeaderOf(req.headers);

  // The requested alias, then its fallbacks (docs/contract.md#failover-and-overload); the body is this
  // model's own, so a fallback that is another model is skipped.
  const served = await ctx.failover.run({
    chain: ctx.models.chain(requested),
    signal: abort.signal,
    prepare: async (target, index) => {
      sameModel(target, embedding);
      checkProjectRegion(project, target);
      return put(await guardEmbeddingTexts(ex, target, index, guardrails, texts));
    },
    send: (native, target, signal) => {
      outcome.calls++;
      if (ctx.config.logging.content) ex.log.debug({ body: native }, 'upstream body');
      return invokeEmbedding(ex, target, native, signal, projectHeader(project));
    },
  });
  noteServedBy(ex, requested, served.target);
  const upstream = served.value;
  const { text, json } = await readEmbeddingAnswer(upstream, ctx.budget);
  const counted = usageFromHeaders(upstream.headers).inputTokens;
  // Titan also counts in its body; the header, where Bedrock sends it, is authoritative.
  const bodyCount = isObject(json) && typeof json.inputTextTokenCount === 'number' ? Math.round(json.inputTextTokenCount) : undefined;
  outcome.inputTokens = counted ?? bodyCount;
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = upstream.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  outcome.status = 200;
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** A fallback is sent the app's body only if it is the same embedding model (Titan v2's body is not Cohere's). */
function sameModel(target: ModelTarget, embedding: EmbeddingModel): void {
  const model = embeddingModelOf(target);
  if (model === embedding) return;
  throw new SidecarError(
    'invalid_request_error',
    `"${target.name}" cannot take this body: it is ${model ? model.label : `not an embedding model (${target.family ?? 'unknown'} family)`}, ` +
      `and the body is ${embedding.label}'s`,
    { param: 'modelId' },
  );
}
