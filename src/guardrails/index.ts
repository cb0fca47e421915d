/**
 * Guardrails (docs/contract.md#guardrails): defined once in sidecar.yaml, attached to aliases or asked for by name in a
 * request. `GuardrailSet` is built once per config; `forRequest` picks the guardrails of one request and
 * returns the hooks the chat handler calls at each point of the request's life.
 *
 * One module per guardrail type: `regex.ts` and `bedrock.ts` implement `TextGuardrail` (types.ts) — a
 * new checking type (a webhook, say) is one more such module and one line in `checker()` below —
 * and `native.ts` decorates the model call. `judge.ts` runs several guardrails over the same text,
 * `stream.ts` is the streaming output guard, `request.ts` the per-request hooks, `recorder.ts` the
 * logs, metric and outcome. README.md beside this file describes the behaviour for operators.
 */
import { SidecarError } from '../errors.ts';
import type { GuardrailConfig, SidecarConfig } from '../config/schema.ts';
import { defaultEndpoint, type ModelTarget } from '../models/resolve.ts';
import type { BedrockClient } from '../upstream/client.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Logger } from '../ops/logger.ts';
import { createBedrockGuardrail, type GuardrailEndpoint } from './bedrock.ts';
import { GuardrailRecorder } from './recorder.ts';
import { createRegexGuardrail } from './regex.ts';
import { createRequestGuards } from './request.ts';
import type { RequestGuards, TextGuardrail } from './types.ts';

export interface GuardrailSet {
  /**
   * `surface`: the request's client protocol (the label of the intervention and retry metrics); `log`: the request's
   * logger (guardrail log lines then carry its request id), default the app's.
   */
  forRequest(target: ModelTarget, requested: readonly string[], surface: string, log?: Logger): RequestGuards;
}

export interface GuardrailDeps {
  config: SidecarConfig;
  /** Signs and sends ApplyGuardrail calls through the same pool as model calls. */
  client: BedrockClient;
  metrics: Metrics;
  log: Logger;
}

const NONE: RequestGuards = {
  checkInput: async () => undefined,
  checkInputTexts: async (texts) => ({ texts }),
  decorateBody: (body) => body,
  upstreamHeaders: () => ({}),
  outputGuard: () => undefined,
  checkOutputWhole: async (events) => ({ events, outcome: 'none' }),
  streamOutcome: () => 'none',
};

export function createGuardrailSet(deps: GuardrailDeps): GuardrailSet {
  const byName = new Map<string, GuardrailConfig>(deps.config.guardrails.map((g) => [g.name, g]));
  // Local guardrails are built once; Bedrock ones depend on the request's model target (region, endpoint).
  const regex = new Map<string, TextGuardrail>();
  for (const g of deps.config.guardrails) {
    if (g.type === 'regex') regex.set(g.name, createRegexGuardrail(g));
    if (g.endpoint !== undefined && !/^https?:\/\/[^/]/.test(g.endpoint)) {
      throw new Error(`guardrails[${g.name}].endpoint: "${g.endpoint}" is not an http(s) URL`);
    }
  }
  for (const alias of deps.config.models) {
    const natives = alias.guardrails.filter((name) => byName.get(name)?.type === 'bedrock_native');
    if (natives.length > 1) {
      throw new Error(
        `models[${alias.name}].guardrails: at most one bedrock_native guardrail can apply to a model call ` +
          `(Bedrock takes one per call), got ${natives.join(', ')}`,
      );
    }
  }

  function checker(g: GuardrailConfig, target: ModelTarget, surface: string): TextGuardrail | undefined {
    switch (g.type) {
      case 'regex':
        return regex.get(g.name);
      case 'bedrock':
        return createBedrockGuardrail(g, deps.client, guardrailEndpoint(g, target), surface);
      case 'bedrock_native':
        return undefined;
    }
  }

  return {
    forRequest(target, requested, surface, log) {
      for (const name of requested) {
        if (!byName.has(name)) {
          throw new SidecarError('invalid_request_error', `guardrails: no guardrail named "${name}" is defined in sidecar.yaml`, {
            param: 'guardrails',
          });
        }
      }
      const names = [...new Set([...(target.alias?.guardrails ?? []), ...requested])];
      if (names.length === 0) return NONE;
      const configs = names.map((name) => byName.get(name)!);
      const natives = configs.filter((g) => g.type === 'bedrock_native');
      if (natives.length > 1) {
        throw new SidecarError(
          'invalid_request_error',
          `guardrails: at most one bedrock_native guardrail can apply to a request (Bedrock takes one per call), got ${natives.map((g) => `"${g.name}"`).join(', ')}`,
          { param: 'guardrails' },
        );
      }
      const guards = configs.flatMap((g) => checker(g, target, surface) ?? []);
      const recorder = new GuardrailRecorder(deps.metrics, log ?? deps.log, deps.config.logging.content, surface);
      return createRequestGuards({ guards, native: natives[0], recorder });
    },
  };
}

/**
 * Where ApplyGuardrail goes: the guardrail's own `endpoint`, else the model's endpoint — unless the
 * guardrail names another region and the model's endpoint is just the default one of its region, in which
 * case the default endpoint of the guardrail's region. An endpoint override (alias `endpoint`,
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME) is kept for every region: set the guardrail's `endpoint` otherwise.
 */
export function guardrailEndpoint(g: GuardrailConfig, target: ModelTarget): GuardrailEndpoint {
  const region = g.region ?? target.region;
  let endpoint = g.endpoint?.replace(/\/+$/, '');
  if (endpoint === undefined) {
    const isDefault = target.endpoint === defaultEndpoint(target.region);
    endpoint = isDefault && region !== target.region ? defaultEndpoint(region) : target.endpoint;
  }
  return { endpoint, region, apiKey: target.apiKey };
}
