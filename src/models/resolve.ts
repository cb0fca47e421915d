/**
 * Turns a request's `model` (an alias, or a route string or bare Bedrock model id when direct models are allowed) into a
 * `ModelTarget`: route, model id, family, region, endpoint and per-alias settings. Aliases are resolved
 * once when the config loads (their errors are config errors); route strings per request, cached.
 */
import { SidecarError } from '../errors.ts';
import { aliasConfigError } from '../config/load.ts';
import type { ModelAliasConfig, Route, SidecarConfig } from '../config/schema.ts';
import { rememberSecret } from '../ops/secrets.ts';
import { FAMILIES, familyFromProvider, inspectModelId, parseRoute, RouteError, type Family } from './route.ts';

export interface ModelTarget {
  /** What responses call the model: the alias name, or the route string as requested. */
  name: string;
  alias: ModelAliasConfig | undefined;
  route: Route;
  modelId: string;
  family: Family | undefined;
  region: string;
  /** Bedrock Runtime base URL (no trailing slash). */
  endpoint: string;
  /** A Bedrock API key replacing SigV4, when configured. */
  apiKey: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Which families each route can serve; supplied by the providers module so the two never disagree. */
export interface RouteSupport {
  supports(route: Route, family: Family | undefined): boolean;
  /** Whether a bare model id of this family goes on invoke although converse serves it too. */
  prefersInvoke?(family: Family | undefined): boolean;
  /** A problem with an alias's family-specific settings (additional_model_request_fields), or undefined. */
  checkAlias?(route: Route, family: Family | undefined, alias: ModelAliasConfig): AliasProblem | undefined;
}

/** A config problem in one key of an alias; `path` is relative to the alias (`['provider']`). */
export interface AliasProblem {
  path: ReadonlyArray<string | number>;
  message: string;
}

/** Thrown by `build` for an alias: the registry turns it into a ConfigError naming the key and its line. */
class AliasKeyError extends Error {
  constructor(
    readonly path: ReadonlyArray<string | number>,
    message: string,
  ) {
    super(message);
  }
}

export class ModelRegistry {
  private readonly aliases = new Map<string, ModelTarget>();
  private readonly direct = new Map<string, ModelTarget>();
  private readonly chains = new Map<string, readonly ModelTarget[]>();
  /**
   * Aliases that cannot be served until something outside the file is known — the model family of an
   * opaque ARN (`provider:` missing) or the AWS region: requests to them get a 400 that says what to set
   * (docs/contract.md#models-and-routes), and the process still starts for the other aliases. Logged as warnings at
   * load.
   */
  readonly deferred = new Map<string, SidecarError>();

  constructor(
    private readonly config: SidecarConfig,
    private readonly env: Env,
    private readonly support: RouteSupport,
  ) {
    for (const [index, alias] of config.models.entries()) {
      if (alias.undefinedGuardrails !== undefined) {
        const names = alias.undefinedGuardrails.map((n) => `"${n}"`).join(', ');
        this.deferred.set(
          alias.name,
          new SidecarError(
            'internal_error',
            `model "${alias.name}" names guardrails no guardrail defines (${names}): define them under guardrails: in sidecar.yaml; ` +
              'until then the alias is not served without them',
            { param: 'model' },
          ),
        );
        continue;
      }
      try {
        this.aliases.set(alias.name, this.build(alias.name, alias.model, alias));
      } catch (error) {
        if (error instanceof SidecarError && error.type === 'invalid_request_error') {
          this.deferred.set(
            alias.name,
            new SidecarError('invalid_request_error', `model "${alias.name}": ${error.message}`, { param: 'model' }),
          );
          continue;
        }
        const path = error instanceof AliasKeyError ? error.path : error instanceof RouteError ? ['model'] : [];
        throw aliasConfigError(config, index, path, (error as Error).message);
      }
    }
  }

  /** Resolves a request's `model`; throws a SidecarError naming what was asked for. */
  resolve(model: unknown): ModelTarget {
    if (typeof model !== 'string' || model === '') {
      throw new SidecarError('invalid_request_error', '"model" is required and must be a non-empty string', { param: 'model' });
    }
    const alias = this.aliases.get(model);
    if (alias) return alias;
    const problem = this.deferred.get(model);
    if (problem) throw problem;
    const direct = model.startsWith('bedrock/') ? model : this.bareRoute(model);
    if (direct === undefined || !this.config.routing.allowDirectModels) {
      const hint = this.config.routing.allowDirectModels
        ? 'an alias from models: in sidecar.yaml, a route bedrock/[invoke/|converse/]MODEL_ID or a Bedrock model id'
        : 'an alias from models: in sidecar.yaml (routing.allow_direct_models is false)';
      throw new SidecarError('model_not_found', `The model "${model}" does not exist: expected ${hint}`, { param: 'model' });
    }
    const cached = this.direct.get(model);
    if (cached) return cached;
    let target: ModelTarget;
    try {
      target = this.build(model, direct, undefined);
    } catch (error) {
      if (error instanceof RouteError) {
        throw new SidecarError('model_not_found', `The model "${model}" does not exist: ${error.message}`, { param: 'model' });
      }
      if (error instanceof SidecarError) throw error;
      throw new SidecarError('invalid_request_error', (error as Error).message, { param: 'model' });
    }
    if (this.direct.size < 1024) this.direct.set(model, target);
    return target;
  }

  /**
   * The route string for a bare Bedrock model id (docs/contract.md#models-and-routes): a base or
   * inference-profile id of a known family, or an ARN, as the AWS SDK would name it. A family whose spec
   * prefers invoke (Claude: its native body round-trips thinking signatures and betas) goes on invoke, as
   * does a family only invoke serves (embeddings); every other family on converse, the route a route string
   * without a segment takes.
   * Anything else (`gpt-4o`, `claude-sonnet-4-5`) is not a Bedrock id: undefined, an unknown model.
   */
  private bareRoute(model: string): string | undefined {
    let info;
    try {
      info = inspectModelId(model);
    } catch {
      return undefined;
    }
    if (info.family === undefined && info.arn === undefined) return undefined;
    const invoke = this.support.prefersInvoke?.(info.family) === true || !this.support.supports('converse', info.family);
    return `bedrock/${invoke ? 'invoke/' : ''}${model}`;
  }

  /**
   * The targets a request for `target` may use, in order: itself, then its alias's `fallbacks` (aliases
   * that cannot be served — deferred ones — are left out; a direct route has none).
   */
  chain(target: ModelTarget): readonly ModelTarget[] {
    const fallbacks = target.alias?.fallbacks;
    if (!fallbacks || fallbacks.length === 0) return [target];
    let chain = this.chains.get(target.name);
    if (!chain) {
      chain = [target, ...fallbacks.flatMap((name) => this.aliases.get(name) ?? [])];
      this.chains.set(target.name, chain);
    }
    return chain;
  }

  list(): ModelTarget[] {
    return [...this.aliases.values()];
  }

  private build(name: string, routeString: string, alias: ModelAliasConfig | undefined): ModelTarget {
    const { route, modelId } = parseRoute(routeString);
    const info = inspectModelId(modelId);
    let family = info.family;
    if (alias?.provider !== undefined) {
      const declared = familyFromProvider(alias.provider);
      if (!declared) throw new AliasKeyError(['provider'], `provider "${alias.provider}" is not a known family (${familyList()})`);
      family = declared;
    }
    if (!family && (route === 'invoke' || info.arn)) {
      const what = info.arn
        ? `the ${info.arn.resourceType} ARN "${modelId}" does not name its model family`
        : `no known model family for "${modelId}"`;
      throw new SidecarError('invalid_request_error', `${what}: configure an alias with provider: (${familyList()})`, { param: 'model' });
    }
    if (!this.support.supports(route, family)) {
      const other: Route = route === 'invoke' ? 'converse' : 'invoke';
      const hint = this.support.supports(other, family) ? `; use bedrock/${other}/${modelId}` : '';
      const message = `the ${route} route cannot serve the ${family ?? 'unknown'} family${hint}`;
      // For an alias this is a config error (docs/contract.md#models-and-routes: rejected when the config loads).
      if (alias) throw new AliasKeyError(['model'], message);
      throw new SidecarError('invalid_request_error', message, { param: 'model' });
    }
    const problem = alias ? this.support.checkAlias?.(route, family, alias) : undefined;
    if (problem) throw new AliasKeyError(problem.path, problem.message);

    let region: string | undefined;
    if (info.arn) {
      if (alias?.region !== undefined && alias.region !== info.arn.region) {
        throw new AliasKeyError(['region'], `region "${alias.region}" disagrees with the ARN's own region "${info.arn.region}"`);
      }
      region = info.arn.region;
    } else {
      region = alias?.region ?? this.env.AWS_REGION ?? this.env.AWS_DEFAULT_REGION;
    }
    if (!region) {
      throw new SidecarError(
        'invalid_request_error',
        `no AWS region for "${name}": set region: on the alias, or AWS_REGION in the environment`,
        { param: 'model' },
      );
    }
    const endpoint = (
      alias?.endpoint ??
      this.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ??
      this.env.AWS_ENDPOINT_URL ??
      defaultEndpoint(region)
    ).replace(/\/+$/, '');
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      // Only the alias's own endpoint: is a key of the file; one from the environment is not.
      throw new AliasKeyError(alias?.endpoint !== undefined ? ['endpoint'] : [], `endpoint "${endpoint}" is not an http(s) URL`);
    }

    let apiKey = this.env.AWS_BEARER_TOKEN_BEDROCK || undefined;
    rememberSecret('apiKey:AWS_BEARER_TOKEN_BEDROCK', apiKey);
    if (alias?.apiKeyEnv !== undefined) {
      const envName = alias.apiKeyEnv.replace(/^env:/, '');
      apiKey = this.env[envName];
      if (!apiKey) throw new AliasKeyError(['api_key'], `api_key names the environment variable ${envName}, which is not set`);
      rememberSecret(`apiKey:${envName}`, apiKey);
    }
    return { name, alias, route, modelId, family, region, endpoint, apiKey };
  }
}

function familyList(): string {
  return FAMILIES.join(', ');
}

/** Bedrock Runtime's public endpoint in `region` (what a target gets with no endpoint configured). */
export function defaultEndpoint(region: string): string {
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}
