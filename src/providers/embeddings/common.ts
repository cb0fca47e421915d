/**
 * Checks shared by the embedding families' answer readers: a vector is a non-empty array of finite
 * numbers, and a count comes from the `X-Amzn-Bedrock-Input-Token-Count` header or the body.
 */
import { SidecarError } from '../../errors.ts';
import { usageFromHeaders } from '../usage.ts';
import type { ResponseHeaders } from '../types.ts';

export function malformed(label: string, why: string): SidecarError {
  return new SidecarError('upstream_protocol_error', `Bedrock answered 200 with an unexpected ${label} body: ${why}`);
}

/** `value` as a vector, or a protocol error naming where it was found. */
export function vectorOf(value: unknown, label: string, where: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw malformed(label, `${where} is not a non-empty array of numbers`);
  for (const x of value) {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw malformed(label, `${where} holds ${JSON.stringify(x)}, not a number`);
  }
  return value as number[];
}

/**
 * The input tokens of one answer: the `X-Amzn-Bedrock-Input-Token-Count` header, authoritative as for
 * every family, else the body's count (Titan's `inputTextTokenCount`, which real Bedrock may write as a
 * float: `28.0`).
 */
export function tokenCount(bodyCount: unknown, headers: ResponseHeaders): number | undefined {
  const header = usageFromHeaders(headers).inputTokens;
  if (header !== undefined) return header;
  return typeof bodyCount === 'number' && Number.isFinite(bodyCount) && bodyCount >= 0 ? Math.round(bodyCount) : undefined;
}

export { isRecord } from '../answer.ts';
