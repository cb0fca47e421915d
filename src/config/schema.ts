/**
 * The shape of sidecar.yaml once validated (docs/contract.md#configuration). Keys keep their YAML names in the file;
 * here they are camelCase and every default is filled in, so nothing downstream re-validates or re-defaults.
 */

export type Route = 'invoke' | 'converse';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type GuardrailType = 'bedrock' | 'regex' | 'bedrock_native';
/** Where a guardrail checks (config key `stages`): the request's input, the model's output. Not a pipeline stage. */
export type GuardrailPhase = 'input' | 'output';
export type GuardrailStreamMode = 'sync' | 'async';

export const MIN_STREAM_CHUNK_SIZE = 1;
export const MAX_STREAM_CHUNK_SIZE = 1_048_576;
export const DEFAULT_STREAM_CHUNK_SIZE = 1024;

export interface ServerConfig {
  host: string;
  port: number;
  adminHost: string;
  adminPort: number;
  authToken: string;
  maxBodyBytes: number;
  drainTimeoutS: number;
  /** Node's `headersTimeout`: the whole header block must arrive within this. */
  headersTimeoutMs: number;
  /** Node's `requestTimeout`: the whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A client that reads nothing for this long while a stream waits on it is cut (0 = never). */
  writeTimeoutMs: number;
  /** Model requests in flight at most (every surface); beyond it a 503 `overloaded` at once. */
  maxInflight: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Most open connections on the proxy listener; more are closed at once (logged, counted). */
  maxConnections: number;
  /** Most open connections on the admin listener (probes and scrapes: small, so it never starves the proxy). */
  adminMaxConnections: number;
  /** Most bytes of request bodies and buffered Bedrock answers held at once; beyond it requests get a 503. */
  maxInflightBytes: number;
}

/** Where Chat Completions puts reasoning text: some clients (the OpenAI Agents SDK) read only `reasoning`. */
export type ReasoningField = 'reasoning_content' | 'reasoning' | 'both';
export const REASONING_FIELDS: readonly ReasoningField[] = ['reasoning_content', 'reasoning', 'both'];

/** Bedrock's service tiers; `auto` sends none. */
export const SERVICE_TIERS = ['default', 'flex', 'priority', 'reserved'] as const;

export interface StreamingConfig {
  streamChunkSize: number;
  maxHoldMs: number;
  heartbeatMs: number;
  reasoningField: ReasoningField;
}

export interface UpstreamConfig {
  maxAttempts: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  connections: number;
  /** All attempts of one request, across its fallbacks, before the first byte. */
  failoverBudgetMs: number;
  /** Consecutive failures that open an alias target's circuit breaker. */
  breakerFailures: number;
  /** The first cool-down of an open breaker; each failed probe doubles it, up to the max. */
  breakerCooldownMs: number;
  breakerMaxCooldownMs: number;
  /** Longest wait for a free upstream connection before a 503 `overloaded`. */
  queueTimeoutMs: number;
  /** Longest one AWS credential resolution may take; requests waiting on it then get a 503. */
  credentialsTimeoutMs: number;
}

/** Failures that may move a request to the next fallback beyond the default set (throttling, 5xx, timeouts, connection). */
export type FallbackTrigger = 'access_denied' | 'model_not_ready';

export interface LoggingConfig {
  level: LogLevel;
  content: boolean;
}

export interface GuardrailConfig {
  name: string;
  type: GuardrailType;
  /** bedrock / bedrock_native: the guardrail identifier (id or ARN) and version. */
  id: string;
  version: string;
  /** bedrock: region and endpoint of the ApplyGuardrail call (default: the model's). */
  region: string | undefined;
  endpoint: string | undefined;
  stages: GuardrailPhase[];
  streamMode: GuardrailStreamMode;
  intervalChars: number;
  onError: 'block' | 'allow';
  timeoutMs: number;
  /** regex */
  patterns: string[];
  action: 'block' | 'mask';
  mask: string;
  /** bedrock_native: ask for a guardrail trace */
  trace: boolean;
}

/** What embedding vectors are for (alias `embedding.input_type`); each family maps it to its own word. */
export const EMBEDDING_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'] as const;
export type EmbeddingInputType = (typeof EMBEDDING_INPUT_TYPES)[number];

/** An embedding alias's defaults (`embedding:`); a request's `dimensions` overrides `dimensions`. */
export interface EmbeddingAliasConfig {
  inputType: EmbeddingInputType | undefined;
  dimensions: number | undefined;
}

export interface ModelAliasConfig {
  name: string;
  /** The route string as written: bedrock/[invoke/|converse/]MODEL_ID */
  model: string;
  region: string | undefined;
  endpoint: string | undefined;
  provider: string | undefined;
  streamChunkSize: number | undefined;
  maxHoldMs: number | undefined;
  guardrails: string[];
  /**
   * Names under the alias's `guardrails:` that no guardrail defines (the example in docs/contract.md#configuration
   * names one). The process starts; the alias refuses every request (fail closed) until the file defines them.
   */
  undefinedGuardrails?: string[];
  dropParams: boolean | undefined;
  additionalModelRequestFields: Record<string, unknown> | undefined;
  /** Aliases tried in order when this one fails before the first byte (docs/contract.md#failover-and-overload). */
  fallbacks: string[];
  fallbackOn: FallbackTrigger[];
  /** Name of an environment variable holding a Bedrock API key for this alias. */
  apiKeyEnv: string | undefined;
  /** `auto`: cache points after the tools, the system prompt and the last user turn (caching.ts). */
  promptCaching?: 'off' | 'auto';
  /** The service tier every request to this alias asks for, unless the request names its own. */
  serviceTier?: 'auto' | (typeof SERVICE_TIERS)[number];
  /** Latency-optimized inference (converse performanceConfig / invoke header). */
  performance?: 'standard' | 'optimized';
  reasoningField?: ReasoningField;
  /** Embedding models only (checked against the model when the registry builds the alias). */
  embedding?: EmbeddingAliasConfig;
  /** line in the file, for messages that point back at the alias */
  line: number | undefined;
  /**
   * The line of each key of the alias as written, by its path relative to the alias (`provider`,
   * `additional_model_request_fields.top_k`), so checks made after validation (the model registry's
   * route, family and region checks) can name the key and its line like every other config error.
   */
  keyLines?: Readonly<Record<string, number>>;
}

/** The Responses surface's store (docs/contract.md#openai-responses). */
export interface ResponsesConfig {
  storeMaxEntries: number;
  storeMaxBytes: number;
  storeTtlS: number;
}

export interface SidecarConfig {
  server: ServerConfig;
  streaming: StreamingConfig;
  upstream: UpstreamConfig;
  routing: { allowDirectModels: boolean };
  responses: ResponsesConfig;
  dropParams: boolean;
  logging: LoggingConfig;
  guardrails: GuardrailConfig[];
  models: ModelAliasConfig[];
  /** Where the config came from (a path, or '<defaults>'). */
  source: string;
}
