/**
 * The narrow interface between the shared model-call path (model-call.ts) and a client protocol — a
 * surface (src/surfaces/<name>/, see src/surfaces/README.md). A surface reads its client's JSON into the
 * neutral request and renders the neutral events back, streaming (a `Renderer`) or whole; it names its
 * error shape. Everything between — resolution, parameter policy, guardrails, the upstream call, retries,
 * the pipeline, logs and metrics — is shared and knows no surface.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReasoningField } from '../config/schema.ts';
import type { SidecarError } from '../errors.ts';
import type { Renderer } from '../pipeline/encoder.ts';
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import type { ModelTarget } from '../models/resolve.ts';
import type { ChatRequest, ParamName } from '../providers/request.ts';
import type { ServerContext } from './context.ts';
import type { ErrorShape } from './respond.ts';

/** The `surface` label of logs and metrics. */
export type SurfaceName = 'chat' | 'messages' | 'responses' | 'embeddings' | 'native';

/** What a surface's answer is stamped with; injected, so renderers stay pure. */
export interface AnswerMeta {
  /** The answer id (`chatcmpl-…`, `msg_…`), from the surface's `newId()`. */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model name echoed to the client (the alias, or the route string as requested). */
  model: string;
  /** Where reasoning text travels on the Chat surface (alias, else `streaming.reasoning_field`). */
  reasoningField?: ReasoningField;
  /** The service tier Bedrock says served the call, when it says (docs/contract.md#request-rules). */
  serviceTier?: string;
  /** The latency setting Bedrock says served the call (`standard`, `optimized`), when it says. */
  latency?: string;
}

export interface SurfaceRequest {
  request: ChatRequest;
  /** Body keys the reader does not know: the parameter policy rejects them, or drops them. */
  unknown: string[];
  /** What the reader dropped or changed on its own, for the request's debug log. */
  notes?: string[];
}

/** A non-streaming answer, or the error one of its events carried. */
export type WholeAnswer = { body: unknown; usage: Usage | undefined } | { error: SidecarError };

export interface ModelSurface extends ErrorShape {
  readonly name: SurfaceName;
  /**
   * How a committed stream goes out, when not as SSE: its content type, and whether text deltas are
   * re-chunked (docs/contract.md#rechunking). Absent: `text/event-stream`, re-chunked.
   */
  readonly streamFormat?: { contentType: string; rechunk: boolean };
  /** Client JSON (already parsed) and headers → the neutral request. Throws a SidecarError naming the fault. */
  read(body: unknown, req: IncomingMessage): SurfaceRequest;
  /** A fresh answer id. */
  newId(): string;
  /** The renderer of one committed stream. */
  renderer(meta: AnswerMeta, request: ChatRequest): Renderer;
  /** The whole answer from the events a stream would have carried. */
  answer(events: readonly StreamEvent[], meta: AnswerMeta, request: ChatRequest): WholeAnswer;
  /** Headers of a 200 answer, whole or streamed, beyond its content type (Bedrock's `X-Amzn-Bedrock-Service-Tier`); none if absent. */
  answerHeaders?(meta: AnswerMeta): Record<string, string>;
  /**
   * Parameters a family cannot take, and the parts of a tool result it cannot read (images, a failed
   * tool's status: `checkToolResults`), are dropped and logged rather than refused (a surface whose clients
   * cannot be configured, such as Claude Code); absent: parameters follow the alias's, else the global,
   * drop_params, and such tool-result parts are a 400.
   */
  readonly dropsUnsupported?: boolean;
  /**
   * With `dropsUnsupported`: parameters still refused (400 naming them) rather than dropped, unless the alias
   * or the config sets drop_params — the client's structured output, without which it parses prose.
   */
  readonly keepsParams?: ReadonlySet<ParamName>;
  /**
   * The client speaks Bedrock's own API and gets Bedrock's own answers (the native surface): a `max_tokens`
   * above the model's output limit is Bedrock's 400, where other surfaces send the request again at the limit
   * Bedrock names (docs/contract.md#parameters).
   */
  readonly keepsBedrockAnswers?: boolean;
  /**
   * A last check of the request against one resolved target (each target of a fallback chain); throws to
   * refuse. `note` logs (at debug, naming the target) what the surface leaves out for this target.
   */
  check?(read: SurfaceRequest, target: ModelTarget, note: (message: string) => void): void;
}

export type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> | void;

/** One path of the proxy listener. */
export interface RouteEntry {
  methods: Record<string, Handler>;
  /** Needs `server.auth_token` when one is set. */
  auth: boolean;
  /**
   * The surface a path belongs to: its error shape answers the router's own refusals (401, 405, 503
   * while draining), and a refused request counts in `sidecar_requests_total` under its label.
   */
  surface?: { name: SurfaceName; errorBody(error: SidecarError): unknown; errorHeaders?(error: SidecarError): Record<string, string> };
  /**
   * The error shape of the router's own refusals (401, 405, 503 while draining) for this one request, where a
   * path serves several protocols (the model lists: Anthropic's shape when the request says `anthropic-version`);
   * absent or undefined: the surface's, else OpenAI's. Unlike `surface`, it counts nothing.
   */
  errorShapeFor?(req: IncomingMessage): Pick<NonNullable<RouteEntry['surface']>, 'errorBody' | 'errorHeaders'> | undefined;
  /** Refused with a 503 while draining (model work and model lists; never probes). */
  refuseWhileDraining?: boolean;
  /**
   * A lookup on a surface's path answered from memory (GET / DELETE `/v1/responses/{id}`): it takes the
   * surface's error shape but is no model work, so it counts neither in `server.max_inflight` nor in the drain.
   */
  lookup?: boolean;
  /** A probe or a scrape: no log line when it succeeds (the kubelet calls them every few seconds). */
  quiet?: boolean;
  /** The key (ending in `/`) is a prefix: it serves every longer path under it (`/v1/models/{id}`). */
  prefix?: boolean;
}
