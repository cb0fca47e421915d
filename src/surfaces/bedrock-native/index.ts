/**
 * The Bedrock Runtime native surface (docs/contract.md#bedrock-native): `POST /model/{modelId}/converse`,
 * `/converse-stream`, `/invoke`, `/invoke-with-response-stream` and `/count-tokens`, with Bedrock's own
 * request and response formats, so an AWS SDK app (or Claude Code's Bedrock mode) only changes its endpoint.
 * InvokeModel takes Claude's body (invoke-request.ts) and the embedding models' own bodies
 * (invoke-embeddings.ts); the body of another family is refused, pointing at Converse, which serves every family.
 * The model id in the path is percent-decoded and resolved like every surface's `model` (names.ts); the
 * client's own Authorization / SigV4 / `x-amz-*` headers are never forwarded — the upstream request is built
 * and signed by the sidecar alone (server/model-call.ts). Errors are Bedrock's shapes (errors.ts); streams are
 * Bedrock's event stream, not re-chunked (frames.ts). `GET /inference-profiles…` (what Claude Code's Bedrock
 * mode asks first) answers an empty list. Any other path in Bedrock Runtime's namespace is AWS's 404
 * `UnknownOperationException` (`nativeUnserved`, answered by the router).
 */
import type { IncomingMessage } from 'node:http';
import { SidecarError } from '../../errors.ts';
import { isEmbeddingFamily, type Family } from '../../models/route.ts';
import { takesAnthropicMessages } from '../../providers/index.ts';
import { randomHex } from '../../server/ids.ts';
import { serveModelCall } from '../../server/model-call.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import type { Handler, ModelSurface, RouteEntry } from '../../server/surface.ts';
import { anthropicMessage } from '../anthropic-events.ts';
import { converseAnswer, ConverseStreamRenderer } from './converse-render.ts';
import { checkConverseTarget, invalid, readConverseRequest } from './converse-request.ts';
import { countTokens } from './count-tokens.ts';
import { nativeErrorBody, nativeErrorHeaders, unknownOperationHeaders } from './errors.ts';
import { ClaudeStreamRenderer } from './invoke-render.ts';
import { embeddingInvoke } from './invoke-embeddings.ts';
import { checkInvokeTranslatable, readClaudeInvoke } from './invoke-request.ts';
import { modelNameFor, parseModelPath, type NativeOperation } from './names.ts';

const EVENT_STREAM = { contentType: 'application/vnd.amazon.eventstream', rechunk: false } as const;

/** What the router uses for its own refusals on these paths (401, 405, 503 while draining). */
const errorShape = { name: 'native', errorBody: nativeErrorBody, errorHeaders: nativeErrorHeaders } as const;

/**
 * The router's refusals of a path in Bedrock Runtime's namespace that no operation here serves: its 404
 * "no route" is Bedrock's `UnknownOperationException` (README "Decisions"), the rest as on the served paths.
 */
const unservedShape: NonNullable<RouteEntry['surface']> = {
  ...errorShape,
  errorHeaders: (error) => (error.type === 'not_found' ? unknownOperationHeaders() : nativeErrorHeaders(error)),
};

/** The surface of one Converse / ConverseStream request: the path names the model, the operation whether it streams. */
function converseSurface(model: string | SidecarError, stream: boolean, started: number, now: () => number): ModelSurface {
  return {
    ...errorShape,
    streamFormat: EVENT_STREAM,
    read: (body) => {
      if (model instanceof SidecarError) throw model;
      return readConverseRequest(body, model, stream);
    },
    newId: () => randomHex(12),
    renderer: () => new ConverseStreamRenderer(() => now() - started),
    answer: (events, meta) => converseAnswer(events, now() - started, meta.serviceTier),
    check: checkConverseTarget,
  };
}

/**
 * The surface of one InvokeModel / InvokeModelWithResponseStream request: Claude's body and answers. `model`
 * may be the refusal of the path's model (not Claude, or a malformed id), thrown by `read`.
 */
function invokeSurface(model: string | SidecarError, stream: boolean, started: number, now: () => number): ModelSurface {
  return {
    ...errorShape,
    streamFormat: EVENT_STREAM,
    read: (body, req) => {
      if (model instanceof SidecarError) throw model;
      return readClaudeInvoke(body, model, stream, req.headers);
    },
    newId: () => `msg_bdrk_${randomHex(12)}`,
    renderer: (meta) => new ClaudeStreamRenderer(meta, () => now() - started),
    answer: (events, meta) => anthropicMessage(events, meta),
    // InvokeModel's output names the tier and latency that served in response headers (the SDK's
    // `serviceTier`, `performanceConfigLatency`), where Bedrock said so before the answer: its own headers on
    // invoke, a converse alias's whole answer.
    answerHeaders: (meta): Record<string, string> => ({
      ...(meta.serviceTier !== undefined ? { 'x-amzn-bedrock-service-tier': meta.serviceTier } : {}),
      ...(meta.latency !== undefined ? { 'x-amzn-bedrock-performanceconfig-latency': meta.latency } : {}),
    }),
    check: checkInvokeTranslatable,
  };
}

function modelCall(operation: NativeOperation): Handler {
  return (ctx, req, res, requestId) => {
    const started = ctx.now();
    const now = (): number => ctx.now();
    const model = modelOf(req, operation, ctx.generation());
    if (operation === 'converse' || operation === 'converse-stream')
      return serveModelCall(ctx, converseSurface(model, operation === 'converse-stream', started, now), req, res, requestId);
    const stream = operation === 'invoke-with-response-stream';
    const resolved = resolveFamily(model, ctx.generation());
    if (typeof resolved.model === 'string' && isEmbeddingFamily(resolved.family))
      return embeddingInvoke(resolved.model, stream)(ctx, req, res, requestId);
    return serveModelCall(ctx, invokeSurface(invokeServed(resolved), stream, started, now), req, res, requestId);
  };
}

/** The path's model and its family, or the refusal of a model that does not resolve (before its body is read). */
function resolveFamily(
  model: string | SidecarError,
  { models }: Parameters<typeof modelNameFor>[2],
): { model: string | SidecarError; family: Family | undefined } {
  if (model instanceof SidecarError) return { model, family: undefined };
  try {
    return { model, family: models.resolve(model).family };
  } catch (error) {
    if (error instanceof SidecarError) return { model: error, family: undefined };
    throw error;
  }
}

/** The model, or the refusal of a model whose native body InvokeModel does not take yet. */
function invokeServed({ model, family }: { model: string | SidecarError; family: Family | undefined }): string | SidecarError {
  if (model instanceof SidecarError || takesAnthropicMessages('invoke', family)) return model;
  return invalid(
    `the sidecar's InvokeModel takes the native body of Claude and of the embedding models (Titan, Cohere Embed, ` +
      `Nova Multimodal Embeddings), and "${model}" is ${family ?? 'of an unknown family'}: ` +
      'call Converse (/model/{modelId}/converse), which serves every family',
    'modelId',
  );
}

function modelOf(req: IncomingMessage, operation: NativeOperation, generation: Parameters<typeof modelNameFor>[2]): string | SidecarError {
  try {
    const { modelId } = parseModelPath(req.url ?? '/');
    return modelNameFor(modelId, operation, generation);
  } catch (error) {
    if (error instanceof SidecarError) return error;
    throw error;
  }
}

function operationEntry(operation: NativeOperation): RouteEntry {
  return { methods: { POST: modelCall(operation) }, auth: true, surface: errorShape, refuseWhileDraining: true };
}

const OPERATIONS: Readonly<Record<string, RouteEntry>> = {
  converse: operationEntry('converse'),
  'converse-stream': operationEntry('converse-stream'),
  invoke: operationEntry('invoke'),
  'invoke-with-response-stream': operationEntry('invoke-with-response-stream'),
  'count-tokens': { methods: { POST: countTokens }, auth: true, surface: errorShape, refuseWhileDraining: true },
};

/**
 * ListInferenceProfiles / GetInferenceProfile, which Claude Code's Bedrock mode calls on the same base URL:
 * the sidecar has no profiles of its own to list (aliases are its way to name models).
 */
const inferenceProfiles: RouteEntry = {
  surface: errorShape,
  // Answered from nothing: no model work, so neither `server.max_inflight` nor the drain counts it.
  lookup: true,
  methods: {
    GET: (_ctx, req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/inference-profiles') sendJson(res, 200, { inferenceProfileSummaries: [] });
      else {
        const error = new SidecarError(
          'not_found',
          'the sidecar serves no inference profiles: name an alias or a model id in the model path',
        );
        sendError(res, error, nativeErrorBody(error), nativeErrorHeaders(error));
      }
    },
  },
  auth: true,
};

/** The native paths: `/model/{modelId}/{operation}` and `/inference-profiles[/{id}]`. */
export function nativeRoute(path: string): RouteEntry | undefined {
  if (path.startsWith('/model/')) {
    const operation = path.slice(path.lastIndexOf('/') + 1);
    return path.lastIndexOf('/') > '/model/'.length && Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
  }
  if (path === '/inference-profiles' || (path.startsWith('/inference-profiles/') && path.length > '/inference-profiles/'.length))
    return inferenceProfiles;
  return undefined;
}

/**
 * Bedrock Runtime's path prefixes (its operations, and the inference-profile lookups Claude Code makes on the
 * same base URL): an AWS SDK client calling one the sidecar does not serve (`/model/{id}/frob`,
 * ApplyGuardrail's `/guardrail/…`, the `/async-invoke` operations) is answered in Bedrock's error shape.
 */
const NAMESPACE = ['/model', '/inference-profiles', '/guardrail', '/async-invoke'];

/** The error shape of a path in Bedrock Runtime's namespace that `nativeRoute` does not serve, else undefined. */
export function nativeUnserved(path: string): RouteEntry['surface'] {
  return NAMESPACE.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)) ? unservedShape : undefined;
}
