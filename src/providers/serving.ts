/**
 * Service tiers, latency-optimized inference and the Bedrock project (docs/contract.md#request-rules): the tier a
 * request asks for (`service_tier`, else its alias's; `auto` = none), the latency (a native Converse client's
 * `performanceConfig`, else the alias's `performance`) and the project a native client named, as converse body
 * fields (`serviceTier: {type}`, `performanceConfig: {latency}`, `projectIdentifier`) or invoke request headers
 * (`X-Amzn-Bedrock-Service-Tier`, `X-Amzn-Bedrock-PerformanceConfig-Latency`,
 * `X-Amzn-Bedrock-ProjectIdentifier`), for every family.
 */
import type { ModelTarget } from '../models/resolve.ts';
import { SidecarError } from '../errors.ts';
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
  if (request.project !== undefined) out.projectIdentifier = request.project;
  return out;
}

/** InvokeModel request headers for the tier, latency and project (the converse route sends none). */
export function servingHeaders(request: ChatRequest, target: ModelTarget): Record<string, string> {
  if (target.route !== 'invoke') return {};
  const out: Record<string, string> = {};
  const tier = serviceTierOf(request, target);
  if (tier !== undefined) out['x-amzn-bedrock-service-tier'] = tier;
  const latency = request.performance ?? target.alias?.performance;
  if (latency !== undefined) out['x-amzn-bedrock-performanceconfig-latency'] = latency;
  return { ...out, ...projectHeader(request.project) };
}

/** The InvokeModel header naming the project, or none. */
export function projectHeader(project: string | undefined): Record<string, string> {
  return project === undefined ? {} : { 'x-amzn-bedrock-projectidentifier': project };
}

/**
 * A project ARN names its region, and the project must belong to "the AWS Region to which you send the request"
 * (the SDK's `projectIdentifier` doc): a target in another region cannot be sent it. A 400 naming
 * `projectIdentifier` before any call; for a fallback, the reason it is skipped (upstream/failover.ts). A bare id
 * (`default`) is the account's in every region; anything else is left to Bedrock.
 */
export function checkProjectRegion(project: string | undefined, target: ModelTarget): void {
  const parts = project?.split(':');
  if (parts === undefined || parts.length < 6 || parts[0] !== 'arn' || parts[2] !== 'bedrock') return;
  const region = parts[3];
  if (region === target.region) return;
  throw new SidecarError(
    'invalid_request_error',
    `projectIdentifier: the project ${project} is in ${region}, and "${target.name}" is served in ${target.region}: ` +
      'Bedrock takes only a project of the region the request is sent to',
    { param: 'projectIdentifier' },
  );
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
