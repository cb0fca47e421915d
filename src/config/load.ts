/**
 * Reads and validates sidecar.yaml (docs/contract.md#configuration). Validation happens once, here: the result is a
 * fully defaulted `SidecarConfig`, or a `ConfigError` whose message names the key and its line. Unknown keys are
 * errors, so a typo never silently does nothing.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import {
  DEFAULT_STREAM_CHUNK_SIZE,
  EMBEDDING_INPUT_TYPES,
  MAX_STREAM_CHUNK_SIZE,
  MIN_STREAM_CHUNK_SIZE,
  REASONING_FIELDS,
  SERVICE_TIERS,
  type FallbackTrigger,
  type GuardrailConfig,
  type LogLevel,
  type ModelAliasConfig,
  type SidecarConfig,
} from './schema.ts';

export class ConfigError extends Error {
  readonly key: string;
  readonly line: number | undefined;
  constructor(key: string, line: number | undefined, message: string, source: string) {
    const where = line === undefined ? source : `${source}:${line}`;
    super(`${where}: ${key ? `${key}: ` : ''}${message}`);
    this.name = 'ConfigError';
    this.key = key;
    this.line = line;
  }
}

type Path = ReadonlyArray<string | number>;
type Obj = Record<string, unknown>;

/** Walks the parsed value with the YAML document beside it, so every failure can name its line. */
class Checker {
  constructor(
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
    readonly source: string,
  ) {}

  lineOf(path: Path): number | undefined {
    if (!this.doc || !this.lines) return undefined;
    // A key's own line, when the path ends at a key of a mapping (so unknown keys point at themselves).
    const last = path[path.length - 1];
    if (typeof last === 'string') {
      const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === last);
        const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (keyRange) return this.lines.linePos(keyRange[0]).line;
      }
    }
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return this.lines.linePos(range[0]).line;
    // A missing key: point at its parent.
    return path.length > 0 ? this.lineOf(path.slice(0, -1)) : undefined;
  }

  fail(path: Path, message: string): never {
    throw new ConfigError(keyName(path), this.lineOf(path), message, this.source);
  }

  section(parent: Obj, key: string, path: Path, allowed: readonly string[]): Obj {
    const value = parent[key];
    if (value === undefined || value === null) return {};
    const at = [...path, key];
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(at, 'must be a mapping');
    this.onlyKeys(value as Obj, at, allowed);
    return value as Obj;
  }

  onlyKeys(value: Obj, path: Path, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail([...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`);
      }
    }
  }

  string(obj: Obj, key: string, path: Path, fallback: string): string;
  string(obj: Obj, key: string, path: Path, fallback: undefined): string | undefined;
  string(obj: Obj, key: string, path: Path, fallback: string | undefined): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && key === 'version') return String(value);
    if (typeof value !== 'string') {
      // A secret's value is never printed, not even one written as a number (`auth_token: 12345678`).
      this.fail(
        [...path, key],
        SECRET_CONFIG_KEYS.has(key)
          ? `must be a string (quote it); got ${typeof value === 'object' ? describe(value) : `a ${typeof value}`}, not shown`
          : `must be a string, got ${describe(value)}`,
      );
    }
    return value;
  }

  bool(obj: Obj, key: string, path: Path, fallback: boolean): boolean;
  bool(obj: Obj, key: string, path: Path, fallback: undefined): boolean | undefined;
  bool(obj: Obj, key: string, path: Path, fallback: boolean | undefined): boolean | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') this.fail([...path, key], `must be true or false, got ${describe(value)}`);
    return value;
  }

  int(obj: Obj, key: string, path: Path, min: number, max: number, fallback: number): number;
  int(obj: Obj, key: string, path: Path, min: number, max: number, fallback: undefined): number | undefined;
  int(obj: Obj, key: string, path: Path, min: number, max: number, fallback: number | undefined): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail([...path, key], `must be an integer, got ${describe(value)}`);
    }
    if (value < min || value > max) this.fail([...path, key], `must be from ${min} to ${max}, got ${value}`);
    return value;
  }

  oneOf<T extends string>(obj: Obj, key: string, path: Path, choices: readonly T[], fallback: T): T {
    const value = obj[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail([...path, key], `must be one of ${choices.join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  }

  strings(obj: Obj, key: string, path: Path): string[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail([...path, key], `must be a list of strings, got ${describe(value)}`);
    value.forEach((item, i) => {
      if (typeof item !== 'string' || item === '') this.fail([...path, key, i], `must be a non-empty string, got ${describe(item)}`);
    });
    return value as string[];
  }

  list(obj: Obj, key: string, path: Path): Obj[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail([...path, key], 'must be a list');
    value.forEach((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) this.fail([...path, key, i], 'must be a mapping');
    });
    return value as Obj[];
  }
}

const TOP_KEYS = ['server', 'streaming', 'upstream', 'routing', 'responses', 'drop_params', 'logging', 'guardrails', 'models'] as const;
const SERVER_KEYS = [
  'host',
  'port',
  'admin_host',
  'admin_port',
  'auth_token',
  'max_body_bytes',
  'drain_timeout_s',
  'headers_timeout_ms',
  'request_timeout_ms',
  'write_timeout_ms',
  'max_inflight',
  'keep_alive_timeout_ms',
  'max_connections',
  'admin_max_connections',
  'max_inflight_bytes',
] as const;
const STREAMING_KEYS = ['stream_chunk_size', 'max_hold_ms', 'heartbeat_ms', 'reasoning_field'] as const;
const UPSTREAM_KEYS = [
  'max_attempts',
  'connect_timeout_ms',
  'first_byte_timeout_ms',
  'idle_timeout_ms',
  'connections',
  'failover_budget_ms',
  'breaker_failures',
  'breaker_cooldown_ms',
  'breaker_max_cooldown_ms',
  'queue_timeout_ms',
  'credentials_timeout_ms',
] as const;
const GUARDRAIL_KEYS = [
  'name',
  'type',
  'id',
  'version',
  'region',
  'endpoint',
  'stages',
  'stream_mode',
  'interval_chars',
  'on_error',
  'timeout_ms',
  'patterns',
  'action',
  'mask',
  'trace',
] as const;
const MODEL_KEYS = [
  'name',
  'model',
  'region',
  'endpoint',
  'provider',
  'stream_chunk_size',
  'max_hold_ms',
  'guardrails',
  'drop_params',
  'additional_model_request_fields',
  'api_key',
  'embedding',
  'fallbacks',
  'fallback_on',
  'prompt_caching',
  'service_tier',
  'performance',
  'reasoning_field',
] as const;
const ROUTING_KEYS = ['allow_direct_models'] as const;
const LOGGING_KEYS = ['level', 'content'] as const;
const RESPONSES_KEYS = ['store_max_entries', 'store_max_bytes', 'store_ttl_s'] as const;
const EMBEDDING_KEYS = ['input_type', 'dimensions'] as const;

/**
 * Every key the file may hold, by section (`guardrails[]` / `models[]`: the keys of each item): what the
 * validation accepts, and what the shipped sidecar.yaml must show (a test keeps the two together).
 */
export const CONFIG_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': TOP_KEYS,
  server: SERVER_KEYS,
  streaming: STREAMING_KEYS,
  upstream: UPSTREAM_KEYS,
  routing: ROUTING_KEYS,
  responses: RESPONSES_KEYS,
  logging: LOGGING_KEYS,
  'guardrails[]': GUARDRAIL_KEYS,
  'models[]': MODEL_KEYS,
  'models[].embedding': EMBEDDING_KEYS,
};

/** Keys whose values are secrets: a config error names them and never shows what they hold. */
const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set(['auth_token']);
const FALLBACK_TRIGGERS: readonly FallbackTrigger[] = ['access_denied', 'model_not_ready'];
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DAY_MS = 86_400_000;

/** Validates an already parsed value. `doc` (when given) supplies line numbers. */
export function validateConfig(raw: unknown, source = '<config>', doc?: Document, lines?: LineCounter): SidecarConfig {
  const c = new Checker(doc, lines, source);
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) c.fail([], 'the file must be a mapping of sections');
  const top = raw as Obj;
  c.onlyKeys(top, [], TOP_KEYS);

  const s = c.section(top, 'server', [], SERVER_KEYS);
  const st = c.section(top, 'streaming', [], STREAMING_KEYS);
  const up = c.section(top, 'upstream', [], UPSTREAM_KEYS);
  const ro = c.section(top, 'routing', [], ROUTING_KEYS);
  const lo = c.section(top, 'logging', [], LOGGING_KEYS);
  const re = c.section(top, 'responses', [], RESPONSES_KEYS);

  const maxBodyBytes = c.int(s, 'max_body_bytes', ['server'], 1, 1 << 30, 20 * 1024 * 1024);
  const config: SidecarConfig = {
    server: {
      host: c.string(s, 'host', ['server'], '127.0.0.1'),
      port: c.int(s, 'port', ['server'], 0, 65535, 4000),
      adminHost: c.string(s, 'admin_host', ['server'], '0.0.0.0'),
      adminPort: c.int(s, 'admin_port', ['server'], 0, 65535, 9901),
      authToken: c.string(s, 'auth_token', ['server'], ''),
      maxBodyBytes,
      drainTimeoutS: c.int(s, 'drain_timeout_s', ['server'], 0, 3600, 25),
      headersTimeoutMs: c.int(s, 'headers_timeout_ms', ['server'], 1, DAY_MS, 10_000),
      requestTimeoutMs: c.int(s, 'request_timeout_ms', ['server'], 1, DAY_MS, 60_000),
      writeTimeoutMs: c.int(s, 'write_timeout_ms', ['server'], 0, DAY_MS, 60_000),
      maxInflight: c.int(s, 'max_inflight', ['server'], 1, 1_000_000, 1024),
      keepAliveTimeoutMs: c.int(s, 'keep_alive_timeout_ms', ['server'], 1, DAY_MS, 5_000),
      maxConnections: c.int(s, 'max_connections', ['server'], 1, 1_000_000, 768),
      adminMaxConnections: c.int(s, 'admin_max_connections', ['server'], 1, 1_000_000, 32),
      maxInflightBytes: c.int(s, 'max_inflight_bytes', ['server'], 1, 2 ** 40, Math.max(40 * 1024 * 1024, maxBodyBytes)),
    },
    streaming: {
      streamChunkSize: c.int(
        st,
        'stream_chunk_size',
        ['streaming'],
        MIN_STREAM_CHUNK_SIZE,
        MAX_STREAM_CHUNK_SIZE,
        DEFAULT_STREAM_CHUNK_SIZE,
      ),
      maxHoldMs: c.int(st, 'max_hold_ms', ['streaming'], 0, 60_000, 0),
      heartbeatMs: c.int(st, 'heartbeat_ms', ['streaming'], 1, DAY_MS, 15_000),
      reasoningField: c.oneOf(st, 'reasoning_field', ['streaming'], REASONING_FIELDS, 'reasoning_content'),
    },
    upstream: {
      maxAttempts: c.int(up, 'max_attempts', ['upstream'], 1, 10, 3),
      connectTimeoutMs: c.int(up, 'connect_timeout_ms', ['upstream'], 1, DAY_MS, 5_000),
      firstByteTimeoutMs: c.int(up, 'first_byte_timeout_ms', ['upstream'], 1, DAY_MS, 60_000),
      idleTimeoutMs: c.int(up, 'idle_timeout_ms', ['upstream'], 1, DAY_MS, 60_000),
      connections: c.int(up, 'connections', ['upstream'], 1, 4096, 64),
      failoverBudgetMs: c.int(up, 'failover_budget_ms', ['upstream'], 1, DAY_MS, 10_000),
      breakerFailures: c.int(up, 'breaker_failures', ['upstream'], 1, 1_000_000, 5),
      breakerCooldownMs: c.int(up, 'breaker_cooldown_ms', ['upstream'], 1, DAY_MS, 1_000),
      breakerMaxCooldownMs: c.int(up, 'breaker_max_cooldown_ms', ['upstream'], 1, DAY_MS, 60_000),
      queueTimeoutMs: c.int(up, 'queue_timeout_ms', ['upstream'], 1, DAY_MS, 5_000),
      credentialsTimeoutMs: c.int(up, 'credentials_timeout_ms', ['upstream'], 100, 600_000, 5_000),
    },
    routing: { allowDirectModels: c.bool(ro, 'allow_direct_models', ['routing'], true) },
    responses: {
      storeMaxEntries: c.int(re, 'store_max_entries', ['responses'], 0, 1_000_000, 1000),
      storeMaxBytes: c.int(re, 'store_max_bytes', ['responses'], 0, 1 << 30, 32 * 1024 * 1024),
      storeTtlS: c.int(re, 'store_ttl_s', ['responses'], 1, 30 * 86_400, 3600),
    },
    dropParams: c.bool(top, 'drop_params', [], false),
    logging: {
      level: c.oneOf(lo, 'level', ['logging'], LOG_LEVELS, 'info'),
      content: c.bool(lo, 'content', ['logging'], false),
    },
    guardrails: c.list(top, 'guardrails', []).map((g, i) => guardrail(c, g, ['guardrails', i])),
    models: c.list(top, 'models', []).map((m, i) => alias(c, m, ['models', i])),
    source,
  };

  if (config.server.adminPort !== 0 && config.server.adminPort === config.server.port && config.server.adminHost === config.server.host) {
    c.fail(['server', 'admin_port'], 'must differ from server.port on the same host');
  }
  if (config.server.maxInflightBytes < config.server.maxBodyBytes) {
    c.fail(
      ['server', 'max_inflight_bytes'],
      `must be at least server.max_body_bytes (${config.server.maxBodyBytes}): ` + 'a body of the largest allowed size could never be read',
    );
  }
  unique(
    c,
    config.guardrails.map((g) => g.name),
    'guardrails',
  );
  unique(
    c,
    config.models.map((m) => m.name),
    'models',
  );
  const known = new Set(config.guardrails.map((g) => g.name));
  const nativeNames = new Set(config.guardrails.filter((g) => g.type === 'bedrock_native').map((g) => g.name));
  config.models.forEach((m) => {
    // Not a config error: the complete example in docs/contract.md#configuration itself names a guardrail it does not
    // define. The alias is set apart instead and refuses its requests (never served without the guardrail it names).
    const missing = m.guardrails.filter((name) => !known.has(name));
    if (missing.length > 0) {
      m.undefinedGuardrails = missing;
      m.guardrails = m.guardrails.filter((name) => known.has(name));
    }
  });
  config.models.forEach((m, i) => {
    // Bedrock takes one guardrail per call: a second bedrock_native one is the error (pointed at).
    const natives = m.guardrails.flatMap((name, j) => (nativeNames.has(name) ? [j] : []));
    if (natives.length > 1) {
      c.fail(
        ['models', i, 'guardrails', natives[1]!],
        'at most one bedrock_native guardrail can apply to a model call ' +
          `(Bedrock takes one per call), got ${natives.map((j) => m.guardrails[j]).join(', ')}`,
      );
    }
  });
  const aliasNames = new Set(config.models.map((m) => m.name));
  config.models.forEach((m, i) => {
    m.fallbacks.forEach((name, j) => {
      if (name === m.name) c.fail(['models', i, 'fallbacks', j], `"${name}" is the alias itself`);
      if (!aliasNames.has(name)) c.fail(['models', i, 'fallbacks', j], `no alias named "${name}" is defined under models:`);
      if (m.fallbacks.indexOf(name) !== j) c.fail(['models', i, 'fallbacks', j], `"${name}" is listed twice`);
    });
  });
  if (config.models.length === 0 && !config.routing.allowDirectModels) {
    c.fail(['models'], 'no models are configured and routing.allow_direct_models is false: nothing could be served');
  }
  return config;
}

function guardrail(c: Checker, g: Obj, at: Path): GuardrailConfig {
  c.onlyKeys(g, at, GUARDRAIL_KEYS);
  const name = c.string(g, 'name', at, undefined);
  if (!name) c.fail([...at, 'name'], 'is required');
  const type = c.oneOf(g, 'type', at, ['bedrock', 'regex', 'bedrock_native'] as const, 'regex');
  if (g.type === undefined) c.fail([...at, 'type'], 'is required (bedrock, regex or bedrock_native)');
  const stages = c.strings(g, 'stages', at);
  stages.forEach((stage, i) => {
    if (stage !== 'input' && stage !== 'output') c.fail([...at, 'stages', i], `must be input or output, got "${stage}"`);
  });
  const config: GuardrailConfig = {
    name,
    type,
    id: c.string(g, 'id', at, ''),
    version: c.string(g, 'version', at, ''),
    region: c.string(g, 'region', at, undefined),
    endpoint: c.string(g, 'endpoint', at, undefined),
    stages: (stages.length ? stages : ['input', 'output']) as GuardrailConfig['stages'],
    streamMode: c.oneOf(g, 'stream_mode', at, ['sync', 'async'] as const, 'sync'),
    intervalChars: c.int(g, 'interval_chars', at, 1, 1_000_000, 1000),
    onError: c.oneOf(g, 'on_error', at, ['block', 'allow'] as const, 'block'),
    timeoutMs: c.int(g, 'timeout_ms', at, 1, DAY_MS, 10_000),
    patterns: c.strings(g, 'patterns', at),
    action: c.oneOf(g, 'action', at, ['block', 'mask'] as const, 'block'),
    mask: c.string(g, 'mask', at, '[REDACTED]'),
    trace: c.bool(g, 'trace', at, false),
  };
  if ((type === 'bedrock' || type === 'bedrock_native') && (!config.id || !config.version)) {
    c.fail([...at, config.id ? 'version' : 'id'], `is required for a ${type} guardrail`);
  }
  if (type === 'regex') {
    if (config.patterns.length === 0) c.fail([...at, 'patterns'], 'a regex guardrail needs at least one pattern');
    config.patterns.forEach((p, i) => {
      try {
        compilePattern(p);
      } catch (error) {
        c.fail([...at, 'patterns', i], `is not a valid regular expression: ${(error as Error).message}`);
      }
    });
    // Whatever its stages (docs/contract.md#guardrails makes no exception): an input-only mask gains nothing from
    // async.
    if (config.action === 'mask' && config.streamMode === 'async') {
      c.fail([...at, 'action'], 'mask needs stream_mode: sync (masking must hold text back until it is checked)');
    }
  } else if (g.patterns !== undefined || g.action !== undefined) {
    c.fail([...at, g.patterns !== undefined ? 'patterns' : 'action'], `only applies to regex guardrails, not ${type}`);
  }
  return config;
}

function alias(c: Checker, m: Obj, at: Path): ModelAliasConfig {
  c.onlyKeys(m, at, MODEL_KEYS);
  const name = c.string(m, 'name', at, undefined);
  if (!name) c.fail([...at, 'name'], 'is required');
  const model = c.string(m, 'model', at, undefined);
  if (!model) c.fail([...at, 'model'], 'is required (bedrock/[invoke/|converse/]MODEL_ID)');
  const extra = m.additional_model_request_fields;
  if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) {
    c.fail([...at, 'additional_model_request_fields'], 'must be a mapping');
  }
  const embedding = c.section(m, 'embedding', at, EMBEDDING_KEYS);
  return {
    name,
    model,
    ...(m.embedding !== undefined && m.embedding !== null
      ? {
          embedding: {
            inputType: optionalOneOf(c, embedding, 'input_type', [...at, 'embedding'], EMBEDDING_INPUT_TYPES),
            dimensions: c.int(embedding, 'dimensions', [...at, 'embedding'], 1, 65_536, undefined),
          },
        }
      : {}),
    region: c.string(m, 'region', at, undefined),
    endpoint: c.string(m, 'endpoint', at, undefined),
    provider: c.string(m, 'provider', at, undefined),
    streamChunkSize: c.int(m, 'stream_chunk_size', at, MIN_STREAM_CHUNK_SIZE, MAX_STREAM_CHUNK_SIZE, undefined),
    maxHoldMs: c.int(m, 'max_hold_ms', at, 0, 60_000, undefined),
    guardrails: c.strings(m, 'guardrails', at),
    dropParams: c.bool(m, 'drop_params', at, undefined),
    additionalModelRequestFields: extra as Record<string, unknown> | undefined,
    apiKeyEnv: c.string(m, 'api_key', at, undefined),
    fallbacks: c.strings(m, 'fallbacks', at),
    fallbackOn: c.strings(m, 'fallback_on', at).map((trigger, i) => {
      if (!(FALLBACK_TRIGGERS as readonly string[]).includes(trigger)) {
        c.fail([...at, 'fallback_on', i], `must be one of ${FALLBACK_TRIGGERS.join(', ')}, got "${trigger}"`);
      }
      return trigger as FallbackTrigger;
    }),
    // Today's request rules (docs/contract.md#request-rules): unset keys leave the request's own choice.
    promptCaching: optionalOneOf(c, m, 'prompt_caching', at, ['off', 'auto'] as const),
    serviceTier: optionalOneOf(c, m, 'service_tier', at, ['auto', ...SERVICE_TIERS] as const),
    performance: optionalOneOf(c, m, 'performance', at, ['standard', 'optimized'] as const),
    reasoningField: optionalOneOf(c, m, 'reasoning_field', at, REASONING_FIELDS),
    line: c.lineOf(at),
    keyLines: aliasKeyLines(c, m, at),
  };
}

function optionalOneOf<T extends string>(c: Checker, obj: Obj, key: string, path: Path, choices: readonly T[]): T | undefined {
  return obj[key] === undefined || obj[key] === null ? undefined : c.oneOf(obj, key, path, choices, choices[0]!);
}

/** The line of every key of an alias and of its additional_model_request_fields (see `aliasConfigError`). */
function aliasKeyLines(c: Checker, m: Obj, at: Path): Record<string, number> {
  const lines: Record<string, number> = {};
  const note = (path: Path): void => {
    const line = c.lineOf([...at, ...path]);
    if (line !== undefined) lines[keyName(path)] = line;
  };
  for (const key of Object.keys(m)) note([key]);
  const embedding = m.embedding;
  if (embedding && typeof embedding === 'object' && !Array.isArray(embedding)) {
    for (const key of Object.keys(embedding)) note(['embedding', key]);
  }
  const extra = m.additional_model_request_fields;
  if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const key of Object.keys(extra)) note(['additional_model_request_fields', key]);
  }
  return lines;
}

/**
 * A problem found in `models[index]` after validation (the model registry's route, family, region and
 * additional_model_request_fields checks), reported like every other config error: the key path from the
 * top of the file (`models[1].provider`) and that key's line. `path` is relative to the alias; a path the
 * alias does not spell out points at its nearest written parent, and at worst at the alias itself.
 */
export function aliasConfigError(config: SidecarConfig, index: number, path: Path, message: string): ConfigError {
  const alias = config.models[index];
  let line: number | undefined;
  for (let n = path.length; n > 0 && line === undefined; n--) line = alias?.keyLines?.[keyName(path.slice(0, n))];
  return new ConfigError(keyName(['models', index, ...path]), line ?? alias?.line, message, config.source);
}

/**
 * Compiles a guardrail pattern. A leading inline-flag group such as `(?i)` (as in Python/PCRE) is
 * accepted and turned into JavaScript flags, since operators copy patterns from other tools.
 */
export function compilePattern(pattern: string): RegExp {
  let flags = 'gu';
  let body = pattern;
  const inline = /^\(\?([imsx]+)\)/.exec(pattern);
  if (inline) {
    body = pattern.slice(inline[0].length);
    for (const f of inline[1]!) {
      if (f === 'x') throw new Error('the x (extended) flag is not supported');
      if (!flags.includes(f)) flags += f;
    }
  }
  return new RegExp(body, flags);
}

function unique(c: Checker, names: string[], section: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) c.fail([section, i, 'name'], `"${name}" is defined twice`);
    seen.add(name);
  });
}

/** Parses YAML text and validates it; YAML syntax errors also become ConfigErrors with a line. */
export function parseConfig(text: string, source: string): SidecarConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.pos ? lines.linePos(first.pos[0]).line : undefined;
    throw new ConfigError('', line, `invalid YAML: ${first.message.split('\n')[0]}`, source);
  }
  const root = doc.contents;
  // Nothing in the file is never meant: an empty (or half-written) file would turn authentication off and
  // drop every alias. An explicit `{}` still says "all defaults".
  if (root === null || doc.toJS() === null) {
    throw new ConfigError('', undefined, 'the file is empty (or holds only comments); write {} for all defaults', source);
  }
  if (!isMap(root) && !isSeq(root)) {
    throw new ConfigError('', 1, 'the file must be a mapping of sections', source);
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }), source, doc, lines);
}

export function loadConfigFile(path: string): SidecarConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('', undefined, `cannot read the config file: ${(error as Error).message}`, path);
  }
  return parseConfig(text, path);
}

function keyName(path: Path): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    const d = distance(word, option);
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}
