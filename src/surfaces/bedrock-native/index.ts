/**
 * The Bedrock Runtime native surface (docs/contract.md#bedrock-native): `POST /model/{modelId}/converse`,
 * `/converse-stream`, `/invoke`, `/invoke-with-response-stream` and `/count-tokens`, with Bedrock's own
 * request and response formats, so an AWS SDK app (or Claude Code's Bedrock mode) only changes its endpoint.
 * InvokeModel takes Claude's body (invoke-request.ts), Nova's (invoke-nova.ts), the prompt families'
 * (invoke-prompt.ts), the chat families' (invoke-chat.ts: OpenAI's models, AI21 Jamba; invoke-cohere.ts; invoke-mistral.ts:
 * Mistral's chat-completion body) and the embedding models' own bodies
 * (invoke-embeddings.ts); the body of another family is refused, pointing at Converse, which serves every family.
 * The model id in the path is percent-decoded and resolved like every surface's `model` (names.ts); the
 * client's own Authorization / SigV4 / `x-amz-*` headers are never forwarded — the upstream request is built
 * and signed by the sidecar alone (server/model-call.ts). Errors are Bedrock's shapes (errors.ts); streams are
 * Bedrock's event stream, not re-chunked (frames.ts). `GET /inference-profiles…` (what Claude Code's Bedrock
 * mode asks first) answers an empty list. Any other path in Bedrock Runtime's namespace is AWS's 404
 * `UnknownOperationException` (`nativeUnserved`, answered by the router).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { SidecarError } from '../../errors.ts';
import { isEmbeddingFamily, type Family } from '../../models/route.ts';
import { ownInvokeBodyFormat, takesAnthropicMessages } from '../../providers/index.ts';
import { randomHex } from '../../server/ids.ts';
import { serveModelCall } from '../../server/model-call.ts';
import { sendError, sendJson } from '../../server/respond.ts';
import type { Renderer } from '../../pipeline/encoder.ts';
import type { StreamEvent } from '../../pipeline/events.ts';
import type { ChatRequest } from '../../providers/request.ts';
import type { ModelTarget } from '../../models/resolve.ts';
import type { AnswerMeta, Handler, ModelSurface, RouteEntry, SurfaceRequest, WholeAnswer } from '../../server/surface.ts';
import { anthropicMessage } from '../anthropic-events.ts';
import { converseAnswer, ConverseStreamRenderer } from './converse-render.ts';
import { checkConverseTarget, invalid, readConverseRequest } from './converse-request.ts';
import { countTokens } from './count-tokens.ts';
import { BEDROCK_JSON, nativeErrorBody, nativeErrorHeaders, nativeErrorStatus, unknownOperationHeaders } from './errors.ts';
import { ClaudeStreamRenderer } from './invoke-render.ts';
import { JAMBA_CHAT, OPENAI_CHAT, readChatInvoke, type ChatFamily } from './invoke-chat.ts';
import { COHERE_CHAT } from './invoke-cohere.ts';
import { MISTRAL_CHAT } from './invoke-mistral.ts';
import { embeddingInvoke } from './invoke-embeddings.ts';
import { NOVA_FORMAT, novaAnswer, NovaStreamRenderer, readNovaInvoke } from './invoke-nova.ts';
import { checkPromptTarget, PROMPT_FAMILIES, promptAnswer, OwnChunkRenderer, readPromptInvoke } from './invoke-prompt.ts';
import { checkInvokeTranslatable, readClaudeInvoke } from './invoke-request.ts';
import { modelNameFor, parseModelPath, type NativeOperation } from './names.ts';
import { own } from '../../own.ts';

const EVENT_STREAM = { contentType: 'application/vnd.amazon.eventstream', rechunk: false } as const;

/** What the router uses for its own refusals on these paths (401, 405, 503 while draining). */
const errorShape = {
  name: 'native',
  errorBody: nativeErrorBody,
  errorHeaders: nativeErrorHeaders,
  errorStatus: nativeErrorStatus,
} as const;

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
    keepsBedrockAnswers: true,
    streamFormat: EVENT_STREAM,
    read: (body) => {
      if (model instanceof SidecarError) throw model;
      return readConverseRequest(body, model, stream);
    },
    newId: () => randomHex(12),
    renderer: () => new ConverseStreamRenderer(() => now() - started),
    answer: (events, meta) => converseAnswer(events, now() - started, meta.serviceTier),
    // The whole answer's type as Bedrock sends it (a stream's is the event stream's).
    answerHeaders: () => (stream ? {} : BEDROCK_JSON),
    check: checkConverseTarget,
  };
}

/** What differs between the invoke bodies the surface takes: the reader, the answer id, the stream, the whole answer. */
interface InvokeBody {
  read(body: unknown, model: string, stream: boolean, headers: IncomingHttpHeaders): SurfaceRequest;
  newId(): string;
  renderer(meta: AnswerMeta, latencyMs: () => number, request: ChatRequest): Renderer;
  answer(events: readonly StreamEvent[], meta: AnswerMeta, request: ChatRequest): WholeAnswer;
  check?: (read: SurfaceRequest, target: ModelTarget, note: (message: string) => void) => void;
}

/** Claude's body (the family whose invoke adapter takes Anthropic's Messages body). */
const CLAUDE_BODY: InvokeBody = {
  read: readClaudeInvoke,
  newId: () => `msg_bdrk_${randomHex(12)}`,
  renderer: (meta, latencyMs) => new ClaudeStreamRenderer(meta, latencyMs),
  answer: (events, meta) => anthropicMessage(events, meta, true),
  check: checkInvokeTranslatable,
};

/** The chat-shaped families' bodies (invoke-chat.ts, invoke-cohere.ts, invoke-mistral.ts). */
const CHAT_FAMILIES: readonly ChatFamily[] = [OPENAI_CHAT, JAMBA_CHAT, COHERE_CHAT, MISTRAL_CHAT];

/** The other bodies the surface takes, by the format a family's invoke adapter names (`ownBodyFormat`). */
const OWN_BODIES: Readonly<Record<string, InvokeBody>> = {
  [NOVA_FORMAT]: {
    read: readNovaInvoke,
    newId: () => randomHex(12),
    renderer: (_meta, latencyMs) => new NovaStreamRenderer(latencyMs),
    answer: (events) => novaAnswer(events),
  },
  ...Object.fromEntries(
    PROMPT_FAMILIES.map((family): [string, InvokeBody] => [
      family.format,
      {
        read: (body, model, stream, headers) => readPromptInvoke(family, body, model, stream, headers),
        newId: () => randomHex(12),
        renderer: (_meta, latencyMs) => new OwnChunkRenderer(family, latencyMs),
        answer: (events) => promptAnswer(family, events),
        check: checkPromptTarget(family),
      },
    ]),
  ),
  ...Object.fromEntries(
    CHAT_FAMILIES.map((family): [string, InvokeBody] => [
      family.format,
      {
        read: (body, model, stream, headers) => readChatInvoke(family, body, model, stream, headers),
        newId: () => `chatcmpl-${randomHex(12)}`,
        renderer: (meta, latencyMs, request) => new OwnChunkRenderer(family.chunks(meta, request), latencyMs),
        answer: (events, meta, request) => family.whole(events, meta, request),
        ...(family.check ? { check: family.check } : {}),
      },
    ]),
  ),
};

/**
 * The surface of one InvokeModel / InvokeModelWithResponseStream request: the body and answers of the path's
 * model's family (`body`). `model` may be the refusal of the path's model (a family whose body is not taken,
 * or a malformed id), thrown by `read`.
 */
function invokeSurface(model: string | SidecarError, body: InvokeBody, stream: boolean, started: number, now: () => number): ModelSurface {
  return {
    ...errorShape,
    keepsBedrockAnswers: true,
    streamFormat: EVENT_STREAM,
    read: (json, req) => {
      if (model instanceof SidecarError) throw model;
      return body.read(json, model, stream, req.headers);
    },
    newId: () => body.newId(),
    renderer: (meta, request) => body.renderer(meta, () => now() - started, request),
    answer: (events, meta, request) => body.answer(events, meta, request),
    // InvokeModel's output names the tier and latency that served in response headers (the SDK's
    // `serviceTier`, `performanceConfigLatency`), where Bedrock said so before the answer: its own headers on
    // invoke, a converse alias's whole answer.
    answerHeaders: (meta): Record<string, string> => ({
      ...(stream ? {} : BEDROCK_JSON),
      ...(meta.serviceTier !== undefined ? { 'x-amzn-bedrock-service-tier': meta.serviceTier } : {}),
      ...(meta.latency !== undefined ? { 'x-amzn-bedrock-performanceconfig-latency': meta.latency } : {}),
    }),
    ...(body.check ? { check: body.check } : {}),
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
    const format = ownInvokeBodyFormat(resolved.family, resolved.modelId);
    const body = format === undefined ? undefined : own(OWN_BODIES, format);
    const served = body || takesAnthropicMessages('invoke', resolved.family) ? resolved.model : refused(resolved);
    return serveModelCall(ctx, invokeSurface(served, body ?? CLAUDE_BODY, stream, started, now), req, res, requestId);
  };
}

/**
 * The path's model, its family and Bedrock id, or the refusal of a model that does not resolve (before its body
 * is read).
 */
function resolveFamily(
  model: string | SidecarError,
  { models }: Parameters<typeof modelNameFor>[2],
): { model: string | SidecarError; family: Family | undefined; modelId: string } {
  if (model instanceof SidecarError) return { model, family: undefined, modelId: '' };
  try {
    const { family, modelId } = models.resolve(model);
    return { model, family, modelId };
  } catch (error) {
    if (error instanceof SidecarError) return { model: error, family: undefined, modelId: '' };
    throw error;
  }
}

/** The refusal of a model whose native body InvokeModel does not take yet (or the path's own refusal). */
function refused({ model, family, modelId }: { model: string | SidecarError; family: Family | undefined; modelId: string }): SidecarError {
  if (model instanceof SidecarError) return model;
  return invalid(
    `the sidecar's InvokeModel takes the native body of Claude, Nova, Llama, Mistral's prompt models, Mistral Large 2 ` +
      `(24.07) and Pixtral Large, Titan Text, DeepSeek, OpenAI's models, AI21 Jamba, Cohere Command R and the embedding ` +
      `models (Titan, Cohere Embed, Nova Multimodal Embeddings), and "${model}" is ${family ?? 'of an unknown family'}` +
      `${family !== undefined ? ` (${modelId})` : ''}: ` +
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
    return path.lastIndexOf('/') > '/model/'.length ? own(OPERATIONS, operation) : undefined;
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
