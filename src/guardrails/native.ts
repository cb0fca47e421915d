/**
 * `type: bedrock_native` — Bedrock applies the guardrail inside the model call
 * (docs/bedrock-wire.md#guardrails-inside-invoke, #guardrails-inside-converse).
 *
 * - invoke route: the `X-Amzn-Bedrock-GuardrailIdentifier` / `-GuardrailVersion` headers (and
 *   `X-Amzn-Bedrock-Trace: ENABLED` with `trace: true`). Nothing goes into the model-native body, so the
 *   invoke body's `amazon-bedrock-guardrailConfig` (its only way to ask for asynchronous processing) is
 *   never sent: on invoke Bedrock always runs its default, synchronous mode.
 * - converse route: `guardrailConfig` `{guardrailIdentifier, guardrailVersion, trace?}` in the Converse
 *   body, plus `streamProcessingMode` (`sync` | `async`, from `stream_mode`) on ConverseStream.
 * - An intervention comes back in the answer: the provider mappers mark the `finish` event
 *   (`guardrailIntervened`); with a native guardrail attached, that finish becomes the guardrail's block.
 *
 * Bedrock takes one guardrail per call, so at most one bedrock_native guardrail applies to a request. Its
 * `stages` are Bedrock's business (the guardrail's own input/output policies), not the sidecar's.
 */
import type { GuardrailConfig, Route } from '../config/schema.ts';
import type { StreamEvent } from '../pipeline/events.ts';

export function nativeHeaders(config: GuardrailConfig, route: Route): Record<string, string> {
  if (route !== 'invoke') return {};
  return {
    'x-amzn-bedrock-guardrailidentifier': config.id,
    'x-amzn-bedrock-guardrailversion': config.version,
    ...(config.trace ? { 'x-amzn-bedrock-trace': 'ENABLED' } : {}),
  };
}

export function nativeBody(config: GuardrailConfig, body: Record<string, unknown>, route: Route, stream: boolean): Record<string, unknown> {
  if (route !== 'converse') return body;
  const guardrailConfig: Record<string, unknown> = { guardrailIdentifier: config.id, guardrailVersion: config.version };
  if (config.trace) guardrailConfig.trace = 'enabled';
  if (stream) guardrailConfig.streamProcessingMode = config.streamMode;
  return { ...body, guardrailConfig };
}

/** A finish that reports a guardrail intervention inside the model call. */
export function isNativeIntervention(event: StreamEvent): boolean {
  return event.kind === 'finish' && (event.guardrailIntervened === true || event.upstreamReason === 'guardrail_intervened');
}
