/**
 * Guardrails (SPEC §7): defined once in sidecar.yaml, attached to aliases or asked for by name in a
 * request. `GuardrailSet` is built once per config; `forRequest` picks the guardrails of one request and
 * returns the hooks the chat handler calls at each point of the request's life.
 */
import { SidecarError } from '../errors.ts';
import type { GuardrailConfig, Route, SidecarConfig } from '../config/schema.ts';
import type { ModelTarget } from '../models/resolve.ts';
import type { OutputGuard } from '../pipeline/guardrail.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { ChatRequest } from '../providers/request.ts';
import type { BedrockClient } from '../upstream/client.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Logger } from '../ops/logger.ts';

export interface RequestGuards {
  /** Input stage: resolves to the block (a `guardrail_violation` SidecarError), or undefined to go on. */
  checkInput(request: ChatRequest, signal: AbortSignal): Promise<SidecarError | undefined>;
  /** bedrock_native on converse: adds `guardrailConfig` to the body (never anything else). */
  decorateBody(body: Record<string, unknown>, route: Route, stream: boolean): Record<string, unknown>;
  /** bedrock_native on invoke: the X-Amzn-Bedrock-Guardrail* headers. */
  upstreamHeaders(route: Route, stream: boolean): Record<string, string>;
  /** Output stage for a stream, or undefined when no output guardrail applies. */
  outputGuard(includeUsage: boolean): OutputGuard | undefined;
  /** Output stage for a whole (non-streaming) answer: the events to send, possibly ending in an error. */
  checkOutputWhole(events: StreamEvent[], signal: AbortSignal): Promise<{ events: StreamEvent[]; outcome: string }>;
  /** After a stream: `none`, `passed`, or `<stage>:<guardrail>:<action>` for the log line. */
  streamOutcome(): string;
}

export interface GuardrailSet {
  forRequest(target: ModelTarget, requested: readonly string[]): RequestGuards;
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
  decorateBody: (body) => body,
  upstreamHeaders: () => ({}),
  outputGuard: () => undefined,
  checkOutputWhole: async (events) => ({ events, outcome: 'none' }),
  streamOutcome: () => 'none',
};

export function createGuardrailSet(deps: GuardrailDeps): GuardrailSet {
  const byName = new Map<string, GuardrailConfig>(deps.config.guardrails.map((g) => [g.name, g]));
  if (byName.size > 0) throw new Error('guardrails: are not available in this build yet (issue #4)');
  return {
    forRequest(_target, requested) {
      for (const name of requested) {
        if (!byName.has(name)) {
          throw new SidecarError('invalid_request_error', `guardrails: no guardrail named "${name}" is defined in sidecar.yaml`, { param: 'guardrails' });
        }
      }
      return NONE;
    },
  };
}
