/**
 * What a model family provides (its `FamilySpec`, one file per family under src/providers/, listed once in
 * families.ts): how its model ids look, its parameter allow-list, a body builder and a stream-event mapper
 * for the invoke route, and what it knows about the converse route (`ConverseTraits`: converse is one
 * format shared by every family, converse.ts, which reads those traits and never a family's name).
 */
import type { ModelTarget } from '../models/resolve.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { EmbeddingModel } from './embeddings/types.ts';
import type { ChatParams, ChatRequest, DocumentFormat, ParamName, ReasoningEffort } from './request.ts';
import type { ToolIdRule } from './tool-ids.ts';
import type { ToolNameRule, ToolNames } from './tool-names.ts';

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
  /**
   * The ending of an answer that is already whole — its terminal event seen — while the mapper holds the finish
   * for a trailing event the family sends after it (Nova's invoke `metadata`, which carries the usage), or
   * undefined. The normaliser asks when the stream fails or ends before that trailing event: the whole answer
   * keeps its finish (docs/contract.md#streaming-and-errors, one ending per stream).
   */
  whole?(): StreamEvent[] | undefined;
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
  /** Parameters refused even with dropParams (the surface's `keepsParams`: Messages' structured output). */
  keepParams?: ReadonlySet<string>;
  /**
   * The surface drops (and logs through `note`) the parts of a tool result the target cannot read rather
   * than refusing them (`checkToolResults`): Anthropic Messages, whose clients cannot be configured.
   */
  dropsToolResultParts?: boolean;
  /**
   * Told the tools renamed for this body (`RouteAdapter.toolNames`), by the name sent; not called when none
   * was: the answer's tool calls must be named back (tool-names.ts).
   */
  renamedTools?(names: ToolNames): void;
}

/** Response headers of a non-streaming InvokeModel (token counts travel there for some families). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface RouteAdapter {
  /** OpenAI parameters (request.ts names) this family honours on this route. */
  readonly params: ReadonlySet<ParamName>;
  /** Native keys the alias's additional_model_request_fields may set on this route (`*` = any). */
  readonly extraFields: ReadonlySet<string>;
  buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown>;
  /**
   * Whether this streamed request must be asked of Bedrock whole (a model that refuses it streamed) and its answer
   * streamed to the client from `streamOf`; absent: never.
   */
  asksWhole?(request: ChatRequest, modelId: string): boolean;
  /** The stream events Bedrock would have sent for a whole answer of this route (`asksWhole`). */
  streamOf?(answer: Record<string, unknown>): Array<{ eventType: string; payload: unknown }>;
  /** Headers the route needs besides content-type/accept (e.g. x-amzn-bedrock-* from config). */
  createStreamMapper(): StreamMapper;
  /**
   * Maps a whole non-streaming response body to the same internal events a stream would produce.
   * `headers` (when the caller passes them) supply the `X-Amzn-Bedrock-*-Token-Count` usage of families
   * whose body carries none (Mistral, DeepSeek).
   */
  parseResponse(body: Record<string, unknown>, headers?: ResponseHeaders): StreamEvent[];
  /** The documents this route's body carries (docs/contract.md#request-rules); absent: none. */
  readonly documents?: DocumentSupport;
  /**
   * True when the body is Anthropic's Messages body (Claude on invoke): a Messages client's own content
   * passes as is, and Bedrock's CountTokens counts it.
   */
  readonly anthropicMessages?: boolean;
  /**
   * Whether a tool result may hold images and documents and say the tool failed (Converse's `toolResult`
   * `status: "error"`, Claude's `is_error`) on this route; absent: text only (`checkToolResults`).
   */
  readonly richToolResults?: ModelFlag;
  /**
   * Whether the model reads an image in a user turn on this route; absent: none. Where it does but takes no rich
   * tool results, an image a tool returned is moved beside its result instead of refused (`checkToolResults`).
   */
  readonly userImages?: ModelFlag;
  /**
   * Why this model cannot take a key `extraFields` allows for its family (Mistral's chat models have no
   * `top_k`), or undefined: an alias setting it is refused when the config loads (`routeSupport.checkAlias`).
   */
  readonly refusesExtraField?: (key: string, modelId: string) => string | undefined;
  /**
   * The name of the family's own invoke body format when its adapter sends a native InvokeModel client's body
   * as it is (`ChatRequest.invokeBody` of that format): Nova's `messages-v1`. The native surface reads a body
   * of that format (src/surfaces/bedrock-native/).
   */
  readonly ownBodyFormat?: string;
  /**
   * Where the family's models take different native bodies (Mistral: its chat models the chat-completion body,
   * its prompt models `prompt`): every format the adapter sends as it is, and the one a model takes (undefined:
   * no native body the sidecar reads for that model). Replaces `ownBodyFormat`.
   */
  readonly ownBodyFormats?: { readonly all: readonly string[]; of(modelId: string): string | undefined };
  /** The tool names the route takes; a name it does not is renamed for the call (tool-names.ts). Absent: any. */
  readonly toolNames?: ToolNameRule;
  /** The tool-call ids the route takes; an id it does not is replaced in the history (tool-ids.ts). Absent: any. */
  readonly toolIds?: ToolIdRule;
}

export interface DocumentSupport {
  readonly formats: ReadonlySet<DocumentFormat>;
  /** Added to the 400 for a format the route does not take (where to send it instead). */
  readonly hint?: string;
}

/** How a model caches prompts (docs/contract.md#request-rules; the rules: caching.ts). */
export interface CacheSupport {
  /** Whether `ttl: "1h"` is available. */
  hourTtl: boolean;
  /** Whether a point may follow a tool definition. */
  toolPoints: boolean;
}

/** A per-model flag: the same for every model of the family, or decided by the model id. */
export type ModelFlag = boolean | ((modelId: string) => boolean);

/**
 * What a family honours on the converse route, beyond the parameters every family takes there
 * (converse.ts builds the family's converse adapter from this; docs/contract.md#models-and-routes).
 */
export interface ConverseTraits {
  readonly tools: boolean;
  /** The reason (`Mistral 7B and Mixtral take no tools`) a model of a tool-calling family takes none. */
  readonly refusesTools?: (modelId: string) => string | undefined;
  /** Models that take tools only when not streamed (ConverseStream refuses them): such a stream is asked whole. */
  readonly toolsOnlyWhole?: (modelId: string) => boolean;
  /** The tool names the family takes on converse, when stricter than Bedrock's (tool-names.ts). */
  readonly toolNames?: ToolNameRule;
  /** The tool-call ids the family takes on converse, when stricter than Bedrock's (Mistral's: tool-ids.ts). */
  readonly toolIds?: ToolIdRule;
  /**
   * The family refuses a user turn holding tool results beside other blocks ("Conversation blocks and tool
   * result blocks cannot be provided in the same turn.": Llama, Mistral); the sidecar keeps them apart
   * (converse.ts `converseMessages`).
   */
  readonly toolResultsAlone?: boolean;
  /** The family takes no `anyOf` / `oneOf` / `allOf` at the top of a tool's schema: folded (tool-schema.ts). */
  readonly foldsToolSchemas?: boolean;
  readonly images: ModelFlag;
  /**
   * The family reads reasoning handed back in its history (Claude: signed or redacted `reasoningContent`);
   * absent: it is left out. Nova, DeepSeek R1 and Kimi refuse any `reasoningContent` in a request ("User
   * messages cannot contain reasoning content": oh-my-pi #9086, aws-samples/bedrock-chat #851, pi #1505),
   * and a signature is Claude's alone, so a conversation that moves off Claude (fallback, a client's model
   * switch) would fail every turn after.
   */
  readonly readsReasoning?: boolean;
  /** Which models read documents (DocumentBlock) on converse. */
  readonly documents: boolean;
  /**
   * Which models take images, documents and `status` in a Converse `toolResult` (Bedrock's ToolResultBlock:
   * "only supported by Amazon Nova and Anthropic Claude 3 and 4 models"); absent: none.
   */
  readonly toolResults?: ModelFlag;
  /** response_format json_schema / json_object through `outputConfig.textFormat`. */
  readonly structured: boolean;
  /**
   * The family's own rule for a structured-output schema, applied after it is closed (json-schema.ts);
   * absent: sent closed. Claude's moves the constraint keywords it refuses into descriptions.
   */
  readonly structuredSchema?: (schema: Record<string, unknown>, ctx: BuildContext) => Record<string, unknown>;
  /** The reason a model of a family with structured outputs takes none (Claude from Opus 4.7 on); absent: all take them. */
  readonly refusesStructured?: (modelId: string) => string | undefined;
  /** Parameters beyond the base ones (top_k, reasoning_effort, penalties, …). */
  readonly extra: readonly ParamName[];
  /** Native keys an alias's additional_model_request_fields may set (`*` = any). */
  readonly extraFields: readonly string[];
  /** Models that take no system prompt on converse: their system text leads the first user message. */
  readonly foldsSystem?: ModelFlag;
  /** The reason a model of a family that takes `top_k` takes none (Mistral's chat models); absent: all take it. */
  readonly refusesTopK?: (modelId: string) => string | undefined;
  /**
   * The family's per-model rules for a request's parameters (Claude's sampling and forced tool choice:
   * claude-rules.ts; GPT's max_tokens floor: openai.ts), run after `reasoning`.
   */
  readonly modelParams?: (params: ChatParams, ctx: BuildContext) => ChatParams;
  /** Where `top_k` goes in additionalModelRequestFields; absent: `{ top_k }`. */
  readonly topK?: (topK: number) => Record<string, unknown>;
  /**
   * `reasoning_effort` → additionalModelRequestFields, run first (it may refuse or adjust other
   * parameters: Claude's thinking rules); absent: three levels as `reasoning_effort` (gpt-oss).
   */
  readonly reasoning?: (
    request: ChatRequest,
    ctx: BuildContext,
    effort: ReasoningEffort,
  ) => { request: ChatRequest; fields: Record<string, unknown> };
  /**
   * The `maxTokens` to send when the request sets none, given the native reasoning fields the body carries (`{}`
   * without `reasoning_effort`): Claude's room for adaptive thinking (claude-rules.ts `claudeThinkingRoom`).
   * Absent, or undefined: none is sent, and Bedrock's default applies.
   */
  readonly defaultMaxTokens?: (ctx: BuildContext, reasoningFields: Record<string, unknown>) => number | undefined;
}

/** Who a family is: the model ids it serves and the names it answers to. */
interface FamilyIdentity<Name extends string> {
  /** The family's name in config (`provider:`), logs, metrics and messages. */
  readonly family: Name;
  /** Whether a base model id (lower case, no geography prefix) is one of the family's models. */
  readonly modelIds: RegExp;
  /** The provider segments its base ids start with (`anthropic` of `anthropic.claude-…`). */
  readonly providers: readonly string[];
  /** Other names an alias's `provider:` may give the family (`claude`). */
  readonly aliases: readonly string[];
}

/** A family that generates text: served on converse, and on invoke when it has its own body there. */
export interface ChatFamilySpec<Name extends string = string> extends FamilyIdentity<Name> {
  readonly kind: 'chat';
  readonly invoke?: RouteAdapter;
  readonly converse: ConverseTraits;
  /** How a model of the family caches prompts (either route), or undefined when it does not. */
  readonly caching?: (modelId: string) => CacheSupport | undefined;
}

/** A family that turns text into vectors (`POST /v1/embeddings`, the invoke route only). */
export interface EmbeddingFamilySpec<Name extends string = string> extends FamilyIdentity<Name> {
  readonly kind: 'embedding';
  /** The model (generation) a base model id names; an opaque ARN (no base id) gets the newest. */
  model(baseModelId: string): EmbeddingModel;
}

export type FamilySpec = ChatFamilySpec | EmbeddingFamilySpec;
