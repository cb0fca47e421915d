/**
 * What a model family provides: its parameter allow-list, a body builder and a stream-event mapper for
 * each route it serves. One file per family under src/providers/; the converse route is one format shared
 * by every family (src/providers/converse.ts) with per-family capabilities.
 */
import type { Route } from '../config/schema.ts';
import type { Family } from '../models/route.ts';
import type { ModelTarget } from '../models/resolve.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { ChatRequest, ParamName } from './request.ts';

/** Maps one provider-native stream event (already JSON-decoded) to internal events. */
export interface StreamMapper {
  push(event: Record<string, unknown>): StreamEvent[];
  /** True once the family's terminal event has been seen: nothing may follow it but (converse) metadata. */
  readonly terminated: boolean;
  /**
   * The end of the upstream stream before the terminal event: the events of an end the family allows
   * there, or undefined (then the stream fails with upstream_protocol_error). An invoke stream a guardrail
   * intervened in may stop without the model's own final event (a Titan stream Bedrock blocked ends on a
   * chunk with `amazon-bedrock-guardrailAction: INTERVENED` and no `completionReason`): that is a
   * `content_filter` finish with the counts seen so far.
   */
  end?(): StreamEvent[] | undefined;
}

export interface BuildContext {
  target: ModelTarget;
  /** Logs a parameter the policy dropped or adjusted (debug level). */
  note(message: string): void;
  /**
   * The effective drop_params (alias, else global), for the few checks that depend on the model id and so
   * happen in the body builder (e.g. tools on a prompt-only Mistral model). Absent: the alias's setting.
   */
  dropParams?: boolean;
}

/** Response headers of a non-streaming InvokeModel (token counts travel there for some families). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface RouteAdapter {
  /** OpenAI parameters (request.ts names) this family honours on this route. */
  readonly params: ReadonlySet<ParamName>;
  /** Native keys the alias's additional_model_request_fields may set on this route (`*` = any). */
  readonly extraFields: ReadonlySet<string>;
  buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown>;
  /** Headers the route needs besides content-type/accept (e.g. x-amzn-bedrock-* from config). */
  createStreamMapper(): StreamMapper;
  /**
   * Maps a whole non-streaming response body to the same internal events a stream would produce.
   * `headers` (when the caller passes them) supply the `X-Amzn-Bedrock-*-Token-Count` usage of families
   * whose body carries none (Mistral, DeepSeek).
   */
  parseResponse(body: Record<string, unknown>, headers?: ResponseHeaders): StreamEvent[];
}

export interface FamilyProvider {
  readonly family: Family;
  readonly routes: Partial<Record<Route, RouteAdapter>>;
}
