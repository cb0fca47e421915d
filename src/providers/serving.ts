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

/** The latency setting Bedrock says served a call: converse `performanceConfig.latency`, or the invoke response header. */
export function servedLatency(
  body: Record<string, unknown> | undefined,
  headers?: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const fromBody = (body?.performanceConfig as Record<string, unknown> | undefined)?.latency;
  if (typeof fromBody === 'string') return fromBody;
  const header = headers?.['x-amzn-bedrock-performanceconfig-latency'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** The tier Bedrock says served a call: converse `serviceTier.type`, or the invoke response header. */
export function servedTier(
  body: Record<string, unknown> | undefined,
  headers?: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const fromBody = (body?.serviceTier as Record<string, unknown> | undefined)?.type;
  if (typeof fromBody === 'string') return fromBody;
  const header = headers?.['x-amzn-bedrock-service-tier'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}
