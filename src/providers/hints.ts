/**
 * What an OpenAI-style request may carry that is a hint, a no-op value, or a request rule rather than a
 * sampling parameter (docs/contract.md#request-rules), read the same way by every OpenAI surface:
 *
 * - hints with no Bedrock meaning (`store`, `verbosity`, `prompt_cache_key`, `safety_identifier`) and no-op
 *   values (`logprobs: false`, `n: 1`, a client's `service_tier: "auto"`) are accepted and dropped: the reader
 *   records them in `ChatRequest.hints` and the parameter policy logs them at debug;
 * - `seed`, and `presence_penalty` / `frequency_penalty` of 0, are hints too where a family cannot take them
 *   (parameter policy); a non-zero penalty such a family cannot honour stays a 400;
 * - `cache_control: {type: "ephemeral", ttl?}` marks (on a part, a message, a tool) become `CacheMark`s;
 * - so does OpenAI's `prompt_cache_breakpoint: {mode: "explicit", ttl?: "30m" | "12h"}` on a part (its lifetime
 *   is mapped per model in caching.ts). Of the request's `prompt_cache_options`, `mode: "explicit"` keeps an
 *   alias's automatic points off the request and `ttl` is the lifetime of the breakpoints that name none; its
 *   other members (`prewarm`, `comparison_response_id`, what OpenAI adds next) and the deprecated
 *   `prompt_cache_retention` are hints.
 */
import { SidecarError } from '../errors.ts';
import { SERVICE_TIERS } from '../config/schema.ts';
import type { CacheMark, PromptCacheOptions, ServiceTier } from './request.ts';

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

function refused(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

const LIFETIMES: readonly string[] = ['30m', '12h'];

/** Reads an OpenAI `prompt_cache_breakpoint` (`where` names it in the 400), or undefined when absent. */
export function readCacheBreakpoint(value: unknown, where: string): CacheMark | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof value !== 'object' || Array.isArray(value) || v.mode !== 'explicit') {
    throw refused(where, `${where} must be {"mode": "explicit"} with an optional "ttl" of "30m" or "12h"`);
  }
  const extra = Object.keys(v).find((k) => k !== 'mode' && k !== 'ttl');
  if (extra !== undefined) throw refused(`${where}.${extra}`, `${where}.${extra} is not a prompt_cache_breakpoint field (mode, ttl)`);
  if (v.ttl === undefined || v.ttl === null) return { breakpoint: {} };
  if (!LIFETIMES.includes(v.ttl as string)) {
    throw refused(`${where}.ttl`, `${where}.ttl must be "30m" or "12h", got ${JSON.stringify(v.ttl)}`);
  }
  return { breakpoint: { lifetime: v.ttl as '30m' | '12h' } };
}

/** A content part's cache mark: its `cache_control`, else its `prompt_cache_breakpoint`. */
export function readPartCache(part: Record<string, unknown> | null | undefined, where: string): CacheMark | undefined {
  const control = readCacheControl(part?.cache_control, `${where}.cache_control`);
  const breakpoint = readCacheBreakpoint(part?.prompt_cache_breakpoint, `${where}.prompt_cache_breakpoint`);
  return control ?? breakpoint;
}

/**
 * Reads `prompt_cache_options` and `prompt_cache_retention`: what they ask (`ChatRequest.promptCache`; absent
 * when nothing), and the notes of what was dropped.
 */
export function readPromptCacheOptions(options: unknown, retention: unknown): { asked?: PromptCacheOptions; hints: string[] } {
  const out: PromptCacheOptions & { hints: string[] } = { explicit: false, hints: [] };
  if (retention !== undefined && retention !== null) {
    out.hints.push('"prompt_cache_retention" dropped: deprecated, and Bedrock\'s cache lifetime is the cache point\'s ttl');
  }
  if (options === undefined || options === null) return { hints: out.hints };
  const o = options as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw refused('prompt_cache_options', '"prompt_cache_options" must be an object (mode, ttl; other members are dropped hints)');
  }
  for (const [key, value] of Object.entries(o)) {
    if (value === undefined || value === null) continue;
    switch (key) {
      case 'mode':
        if (value !== 'implicit' && value !== 'explicit') {
          throw refused(
            'prompt_cache_options.mode',
            `prompt_cache_options.mode must be "implicit" or "explicit", got ${JSON.stringify(value)}`,
          );
        }
        out.explicit = value === 'explicit';
        break;
      case 'ttl':
        if (!LIFETIMES.includes(value as string)) {
          throw refused('prompt_cache_options.ttl', `prompt_cache_options.ttl must be "30m" or "12h", got ${JSON.stringify(value)}`);
        }
        out.lifetime = value as '30m' | '12h';
        break;
      default:
        // prewarm, comparison_response_id, and what OpenAI adds next: caching hints, which change no answer.
        out.hints.push(`"prompt_cache_options.${key}" dropped: a client hint with no meaning on Bedrock`);
    }
  }
  const { hints, ...asked } = out;
  return asked.explicit || asked.lifetime !== undefined ? { asked, hints } : { hints };
}
