/**
 * What an OpenAI-style request may carry that is a hint, a no-op value, or a request rule rather than a
 * sampling parameter (docs/contract.md#request-rules), read the same way by every OpenAI surface:
 *
 * - hints with no Bedrock meaning (`store`, `verbosity`, `prompt_cache_key`, `safety_identifier`) and no-op
 *   values (`logprobs: false`, `n: 1`, a client's `service_tier: "auto"`) are accepted and dropped: the reader
 *   records them in `ChatRequest.hints` and the parameter policy logs them at debug;
 * - `seed`, and `presence_penalty` / `frequency_penalty` of 0, are hints too where a family cannot take them
 *   (parameter policy); a non-zero penalty such a family cannot honour stays a 400;
 * - `cache_control: {type: "ephemeral", ttl?}` marks (on a part, a message, a tool) become `CacheMark`s.
 */
import { SidecarError } from '../errors.ts';
import { SERVICE_TIERS } from '../config/schema.ts';
import type { CacheMark, ServiceTier } from './request.ts';

/** Accepted, never sent: any value. */
export const DROPPED_HINTS: ReadonlySet<string> = new Set(['store', 'verbosity', 'prompt_cache_key', 'safety_identifier']);

/** Parameters a family without them takes as a hint when their value asks for nothing (0 penalties) or always (seed). */
export function isHintValue(key: string, value: unknown): boolean {
  if (key === 'seed') return true;
  return (key === 'presence_penalty' || key === 'frequency_penalty') && value === 0;
}

/**
 * Reads a hint or no-op value: returns the note to log when `key` is one (the reader then drops it),
 * undefined when it is not.
 */
export function readHint(key: string, value: unknown): string | undefined {
  if (DROPPED_HINTS.has(key)) return `"${key}" dropped: a client hint with no meaning on Bedrock`;
  if (key === 'logprobs' && value === false) return '"logprobs": false dropped (no log probabilities is what Bedrock gives)';
  if (key === 'n' && value === 1) return '"n": 1 dropped (one choice is what every answer has)';
  if (key === 'service_tier' && value === 'auto') return '"service_tier": "auto" dropped (Bedrock picks its default tier)';
  return undefined;
}

export function readServiceTier(value: unknown): ServiceTier {
  if (typeof value !== 'string' || !(SERVICE_TIERS as readonly string[]).includes(value)) {
    throw new SidecarError(
      'invalid_request_error',
      `"service_tier" must be auto, ${SERVICE_TIERS.join(', ')}; got ${JSON.stringify(value)}`,
      { param: 'service_tier' },
    );
  }
  return value as ServiceTier;
}

/** Reads a `cache_control` value (`where` names it in the 400), or undefined when absent. */
export function readCacheControl(value: unknown, where: string): CacheMark | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof value !== 'object' || Array.isArray(value) || v.type !== 'ephemeral') {
    throw new SidecarError('invalid_request_error', `${where} must be {"type": "ephemeral"} with an optional "ttl" of "5m" or "1h"`, {
      param: where,
    });
  }
  const extra = Object.keys(v).find((k) => k !== 'type' && k !== 'ttl');
  if (extra !== undefined)
    throw new SidecarError('invalid_request_error', `${where}.${extra} is not a cache_control field (type, ttl)`, {
      param: `${where}.${extra}`,
    });
  if (v.ttl === undefined || v.ttl === null) return {};
  if (v.ttl !== '5m' && v.ttl !== '1h') {
    throw new SidecarError('invalid_request_error', `${where}.ttl must be "5m" or "1h", got ${JSON.stringify(v.ttl)}`, {
      param: `${where}.ttl`,
    });
  }
  return { ttl: v.ttl };
}
