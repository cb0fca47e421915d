/**
 * Checks shared by the embedding families: a vector is a non-empty array of finite numbers, and a count
 * comes from the `X-Amzn-Bedrock-Input-Token-Count` header or the body; a native body's members are the
 * ones Bedrock's schema takes, refused in Bedrock's own words (docs/bedrock-wire.md#unknown-keys).
 */
import { SidecarError } from '../../errors.ts';
import { isRecord } from '../answer.ts';
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

/**
 * `value` as an object whose members are among `allowed` and include `required`, else Bedrock's 400 in its
 * JSON-schema validator's words (`#/pointer: extraneous key [k] is not permitted`), every problem named.
 */
export function members(value: unknown, at: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
  if (!isRecord(value)) throw malformedInput([`${at}: expected type: JSONObject, found: ${jsonType(value)}`], at);
  const problems = [
    ...Object.keys(value)
      .filter((key) => !allowed.includes(key))
      .map((key) => [`${at}: extraneous key [${key}] is not permitted`, key] as const),
    ...required.filter((key) => value[key] === undefined).map((key) => [`${at}: required key [${key}] not found`, key] as const),
  ];
  if (problems.length > 0)
    throw malformedInput(
      problems.map(([problem]) => problem),
      problems[0]![1],
    );
  return value;
}

/** `value` as a string (a text to embed), else Bedrock's 400 naming where. */
export function textAt(value: unknown, at: string): string {
  if (typeof value !== 'string') throw malformedInput([`${at}: expected type: String, found: ${jsonType(value)}`], at);
  return value;
}

/** `value` as a list, else Bedrock's 400 naming where. */
export function listAt(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw malformedInput([`${at}: expected type: JSONArray, found: ${jsonType(value)}`], at);
  return value;
}

/** Bedrock's 400 for a body its schema refuses (`param`: the member named first). */
export function malformedInput(problems: readonly string[], param: string): SidecarError {
  return new SidecarError(
    'invalid_request_error',
    `Malformed input request: ${problems.join('')}, please reformat your input and try again.`,
    { param: param.replace(/^#\/?/, '') || null },
  );
}

function jsonType(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'JSONArray';
  if (typeof value === 'object') return 'JSONObject';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Number';
  return typeof value === 'string' ? 'String' : typeof value === 'boolean' ? 'Boolean' : typeof value;
}

export { isRecord };
