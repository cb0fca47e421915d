/**
 * Service tiers and latency-optimized inference (docs/contract.md#request-rules): the tier a request asks
 * for (`service_tier`, else its alias's; `auto` = none) and the latency (a native Converse client's
 * `performanceConfig`, else the alias's `performance`), as converse body
 * fields (`serviceTier: {type}`, `performanceConfig: {latency}`) or invoke request headers
 * (`X-Amzn-Bedrock-Service-Tier`, `X-Amzn-Bedrock-PerformanceConfig-Latency`), for every family.
 */
import type { ModelTarget } from '../models/resolve.ts';
import type { ChatRequest, ServiceTier } from './request.ts';

export function serviceTierOf(request: ChatRequest, target: ModelTarget): ServiceTier | undefined {
  const tier = request.params.service_tier ?? target.alias?.serviceTier;
  return tier === 'auto' ? undefined : tier;
}

/** Converse body fields for the tier and latency, or none. */
export function servingFields(request: ChatRequest, target: ModelTarget): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tier = serviceTierOf(request, target);
  if (tier !== undefined) out.serviceTier = { type: tier };
  const latency = request.performance ?? target.alias?.performance;
  if (latency !== undefined) out.performanceConfig = { latency };
  return out;
}

/** InvokeModel request headers for the tier and latency (the converse route sends none). */
export function servingHeaders(request: ChatRequest, target: ModelTarget): Record<string, string> {
  if (target.route !== 'invoke') return {};
  const out: Record<string, string> = {};
  const tier = serviceTierOf(request, target);
  if (tier !== undefined) out['x-amzn-bedrock-service-tier'] = tier;
  const latency = request.performance ?? target.alias?.performance;
  if (latency !== undefined) out['x-amzn-bedrock-performanceconfig-latency'] = latency;
  return out;
}

/**
 * What Bedrock says served a call — its tier and latency — where it says so: converse's `serviceTier.type`
 * and `performanceConfig.latency` in the answer, else the invoke response headers. Only what it names.
 */
export function servedSettings(
  body: Record<string, unknown> | undefined,
  headers?: Readonly<Record<string, string | string[] | undefined>>,
): { serviceTier?: string; latency?: string } {
  const serviceTier = reported(body, 'serviceTier', 'type', headers, 'x-amzn-bedrock-service-tier');
  const latency = reported(body, 'performanceConfig', 'latency', headers, 'x-amzn-bedrock-performanceconfig-latency');
  return { ...(serviceTier !== undefined ? { serviceTier } : {}), ...(latency !== undefined ? { latency } : {}) };
}

function reported(
  body: Record<string, unknown> | undefined,
  member: string,
  field: string,
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined,
  header: string,
): string | undefined {
  const fromBody = (body?.[member] as Record<string, unknown> | undefined)?.[field];
  if (typeof fromBody === 'string') return fromBody;
  const value = headers?.[header];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
