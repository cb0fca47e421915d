// SigV4 verifier (server side), written from the AWS Signature Version 4 documentation, independent of
// @smithy/signature-v4. Input: the request exactly as received (raw path, raw query, raw header pairs,
// SHA-256 of the received body). Output: ok, or the AWS error type + message a real endpoint would give.
//
// Rules (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html,
// docs/bedrock-wire.md#model-ids-in-the-path, #sigv4):
// - canonical URI = the raw received path, `.`/`..`/empty segments normalised, then URI-encoded once more
//   (every byte but unreserved A-Za-z0-9-._~ and `/`), so `%3A` becomes `%253A`;
// - canonical query = pairs sorted by encoded key then value, each RFC 3986 encoded;
// - canonical headers = the signed header names, lower-cased, values trimmed with inner whitespace runs
//   collapsed, repeated headers joined with `,`;
// - payload hash = hex SHA-256 of the received body, which must equal `x-amz-content-sha256` when sent.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EmulatorCredential } from './types.ts';

export interface ReceivedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Header pairs as received (`req.rawHeaders` shape, name/value alternating is flattened by caller). */
  headers: [string, string][];
  payloadSha256Hex: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export type VerifyOutcome =
  { ok: true; accessKeyId: string; region: string } | { ok: false; status: number; errorType: string; message: string; problem: string };

export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
export const UNKNOWN_KEY_MESSAGE = 'The security token included in the request is invalid.';
export const MISSING_AUTH_MESSAGE = 'Missing Authentication Token';

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding of every byte outside the unreserved set (and outside `/` when keepSlash). */
export function uriEncode(value: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  const normalized = (rawPath.startsWith('/') ? '/' : '') + segments.join('/') + trailing;
  return uriEncode(normalized, true);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? '' : p.slice(eq + 1);
      return [uriEncode(safeDecode(key), false), uriEncode(safeDecode(value), false)] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerMap(headers: [string, string][]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const list = map.get(key) ?? [];
    list.push(value.trim().replace(/\s+/g, ' '));
    map.set(key, list);
  }
  return map;
}

export function canonicalRequest(req: ReceivedRequest, signedHeaders: string[]): string {
  const map = headerMap(req.headers);
  const lines = signedHeaders.map((name) => {
    const values = map.get(name) ?? (name === ':authority' ? map.get('host') : undefined) ?? [];
    return `${name}:${values.join(',')}\n`;
  });
  return [
    req.method.toUpperCase(),
    canonicalUri(req.rawPath),
    canonicalQuery(req.rawQuery),
    lines.join(''),
    signedHeaders.join(';'),
    req.payloadSha256Hex,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret)
    .update(date)
    .digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function computeSignature(
  req: ReceivedRequest,
  auth: Pick<ParsedAuthorization, 'date' | 'region' | 'service' | 'signedHeaders'>,
  amzDate: string,
  secret: string,
): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const sts = stringToSign(amzDate, scope, canonicalRequest(req, auth.signedHeaders));
  return createHmac('sha256', signingKey(secret, auth.date, auth.region, auth.service))
    .update(sts)
    .digest('hex');
}

/** Parses `AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(value: string): ParsedAuthorization | { error: string } {
  const trimmed = value.trim();
  if (!trimmed.startsWith(ALGORITHM + ' ')) return { error: `unsupported algorithm in "${trimmed.split(' ')[0]}"` };
  const params = new Map<string, string>();
  for (const part of trimmed.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  const missing = [
    credential ? '' : "Authorization header requires 'Credential' parameter.",
    signedHeaders ? '' : "Authorization header requires 'SignedHeaders' parameter.",
    signature ? '' : "Authorization header requires 'Signature' parameter.",
  ].filter(Boolean);
  if (missing.length > 0 || !credential || !signedHeaders || !signature) return { error: missing.join(' ') };
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return { error: `Credential should be scoped to a valid Region, not '${scope[2] ?? ''}'. ` };
  }
  const [accessKeyId, date, region, service] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

function parseAmzDate(v: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function fmtAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface VerifyConfig {
  credentials: EmulatorCredential[];
  service: string;
  nowMs: number;
  /** 0 disables the clock-skew check. */
  maxClockSkewMs: number;
}

export function verifySigV4(req: ReceivedRequest, authorization: string, config: VerifyConfig): VerifyOutcome {
  const fail = (status: number, errorType: string, message: string, problem: string): VerifyOutcome => ({
    ok: false,
    status,
    errorType,
    message,
    problem,
  });
  const parsed = parseAuthorization(authorization);
  if ('error' in parsed) return fail(400, 'IncompleteSignatureException', parsed.error, parsed.error);
  const map = headerMap(req.headers);
  const amzDate = map.get('x-amz-date')?.[0];
  if (!amzDate) {
    const msg = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
    return fail(400, 'IncompleteSignatureException', msg, 'no x-amz-date header');
  }
  const credential = config.credentials.find((c) => c.accessKeyId === parsed.accessKeyId);
  if (!credential) {
    return fail(403, 'UnrecognizedClientException', UNKNOWN_KEY_MESSAGE, `unknown access key ${parsed.accessKeyId}`);
  }
  if (parsed.service !== config.service) {
    return fail(
      403,
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${config.service}'. `,
      `service in scope is ${parsed.service}`,
    );
  }
  if (!amzDate.startsWith(parsed.date)) {
    const msg = `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`;
    return fail(403, 'InvalidSignatureException', msg, 'scope date differs from x-amz-date');
  }
  if (!parsed.signedHeaders.includes('host') && !parsed.signedHeaders.includes(':authority')) {
    const msg = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
    return fail(403, 'InvalidSignatureException', msg, 'host not signed');
  }
  if (config.maxClockSkewMs > 0) {
    const t = parseAmzDate(amzDate);
    if (t === undefined) return fail(403, 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE, `bad x-amz-date ${amzDate}`);
    const skewMin = Math.round(config.maxClockSkewMs / 60000);
    if (t < config.nowMs - config.maxClockSkewMs) {
      const msg = `Signature expired: ${amzDate} is now earlier than ${fmtAmzDate(config.nowMs - config.maxClockSkewMs)} (${fmtAmzDate(config.nowMs)} - ${skewMin} min.)`;
      return fail(403, 'InvalidSignatureException', msg, 'signature expired');
    }
    if (t > config.nowMs + config.maxClockSkewMs) {
      const msg = `Signature not yet current: ${amzDate} is still later than ${fmtAmzDate(config.nowMs + config.maxClockSkewMs)} (${fmtAmzDate(config.nowMs)} + ${skewMin} min.)`;
      return fail(403, 'InvalidSignatureException', msg, 'signature not yet current');
    }
  }
  const sentHash = map.get('x-amz-content-sha256')?.[0];
  if (sentHash !== undefined && sentHash !== req.payloadSha256Hex) {
    return fail(403, 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE, 'x-amz-content-sha256 does not match the received body');
  }
  for (const name of parsed.signedHeaders) {
    if (!map.has(name) && !(name === ':authority' && map.has('host'))) {
      return fail(403, 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE, `signed header ${name} is absent`);
    }
  }
  if (credential.sessionToken !== undefined && map.get('x-amz-security-token')?.[0] !== credential.sessionToken) {
    return fail(403, 'UnrecognizedClientException', UNKNOWN_KEY_MESSAGE, 'session token mismatch');
  }
  const expected = computeSignature(req, parsed, amzDate, credential.secretAccessKey);
  if (!equalHex(expected, parsed.signature)) {
    return fail(403, 'InvalidSignatureException', SIGNATURE_MISMATCH_MESSAGE, 'signature mismatch');
  }
  return { ok: true, accessKeyId: parsed.accessKeyId, region: parsed.region };
}
