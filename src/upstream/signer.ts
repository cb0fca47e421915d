/**
 * Authentication of upstream Bedrock requests: SigV4 signing, Bedrock API-key (bearer) headers, and the
 * percent-encoding of model and guardrail ids into request paths (docs/bedrock-wire.md#model-ids-in-the-path, #sigv4).
 *
 * Input: an `UpstreamRequest` whose URL pathname is already percent-encoded (built with `encodeModelPath`),
 * the headers the caller wants signed (`content-type`, `accept`, its `x-amzn-bedrock-*`), and the body.
 * Output: the complete header set to send — the input headers plus `host`, `x-amz-date`,
 * `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and `authorization`.
 *
 * Invariants: signatures match the AWS SDK's byte for byte — signing name `bedrock`, the payload hash sent
 * and signed, and `uriEscapePath` so the canonical URI is the already-encoded path encoded once more
 * (`%3A` → `%253A`). Only the given headers are signed; hop-by-hop headers and the headers the signer owns
 * are dropped from the input. One `SignatureV4` per region (the library caches derived keys per
 * day/region/credentials). Hashes and HMACs are node:crypto's (the same digests as the pure-JavaScript
 * `@aws-crypto/sha256-js`, at a tenth of the cost per request). Time comes from the injected `now()`.
 *
 * Errors: a credential failure rejects with the credential source's `SidecarError`; any other signing
 * failure becomes `internal_error`. Nothing here logs; secrets never appear in an error message.
 */
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { SidecarError, isSidecarError } from '../errors.ts';
import type { CredentialSource } from './credentials.ts';

export interface UpstreamRequest {
  method: string;
  /** Absolute URL; `pathname` is the already percent-encoded path. */
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The body's SHA-256 (hex) when already known (a big body's, computed off the event loop). */
  bodySha256?: string;
}

export interface SignerOptions {
  credentials: CredentialSource;
  /** SigV4 signing name. Default `bedrock` (not `bedrock-runtime`). */
  service?: string;
  now?: () => Date;
  /** Send and sign `x-amz-content-sha256`, as the SDK does. Default true. */
  applyChecksum?: boolean;
}

export interface Signer {
  sign(request: UpstreamRequest, region: string): Promise<Record<string, string>>;
}

export type ModelOperation = 'invoke' | 'invoke-with-response-stream' | 'converse' | 'converse-stream' | 'count-tokens';

/** RFC 9110 §7.6.1 connection-specific headers: never forwarded, never signed. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Headers the signer computes; a caller's value would be stale or wrong. */
const SIGNER_OWNED = new Set(['host', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']);

type SourceData = string | ArrayBuffer | ArrayBufferView;

/**
 * SHA-256 (or, with a secret, HMAC-SHA256) behind the `Checksum` interface SignatureV4 takes, computed by
 * node:crypto. Mirrors `@aws-crypto/sha256-js`: strings are UTF-8, an empty secret means a plain hash.
 */
export class NodeSha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac | undefined;
  /** What an HMAC keyed by a string is fed, kept for `lastStringKeyed` (see there). */
  #data: Buffer | undefined;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    if (!isStringKey(secret)) this.#hash = this.#create();
  }

  update(data: SourceData): void {
    if (this.#hash) this.#hash.update(bytes(data));
    else this.#data = this.#data ? Buffer.concat([this.#data, bytes(data)]) : Buffer.from(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    const digest = this.#hash ? this.#hash.digest() : stringKeyed(this.#secret as string, this.#data ?? EMPTY);
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  reset(): void {
    this.#data = undefined;
    this.#hash = isStringKey(this.#secret) ? undefined : this.#create();
  }

  #create(): Hash | Hmac {
    const secret = this.#secret;
    // A string key here is the empty one (any other goes through `stringKeyed`): a plain hash, as no key is.
    if (secret === undefined || typeof secret === 'string') return createHash('sha256');
    const key = bytes(secret);
    return key.byteLength > 0 ? createHmac('sha256', secretKey(secret, key)) : createHash('sha256');
  }
}

/**
 * The `KeyObject` of an HMAC key given as bytes, remembered per key object. SignatureV4 hands the same
 * derived signing key (one per day, region and credentials, from its cache) to every request's HMAC, and
 * `createHmac` with raw bytes imports the key afresh each time: on Node 24 (OpenSSL 3.5) that import is
 * ~12 µs of the ~14 an HMAC costs; with the imported key it costs ~2.7, as on Node 20. The bytes are
 * compared on every use, so a key whose bytes changed is imported again.
 */
const importedKeys = new WeakMap<object, { bytes: Buffer; key: KeyObject }>();

function secretKey(holder: object, secret: Uint8Array): KeyObject {
  const known = importedKeys.get(holder);
  if (known && known.bytes.equals(secret)) return known.key;
  const key = createSecretKey(Buffer.from(secret));
  importedKeys.set(holder, { bytes: Buffer.from(secret), key });
  return key;
}

const EMPTY = Buffer.alloc(0);

function isStringKey(secret: SourceData | undefined): secret is string {
  return typeof secret === 'string' && secret !== '';
}

/**
 * The last HMAC keyed by a string. SignatureV4 keys its signing-key cache (one derived key per day, region
 * and credentials) by an HMAC of the access key id under the secret key, computed afresh on every request;
 * that HMAC is the same for as long as the credentials are, and is remembered here instead.
 */
let lastStringKeyed: { secret: string; data: Buffer; digest: Buffer } | undefined;

function stringKeyed(secret: string, data: Buffer): Buffer {
  const last = lastStringKeyed;
  if (last && last.secret === secret && last.data.equals(data)) return Buffer.from(last.digest);
  const digest = createHmac('sha256', secret).update(data).digest();
  lastStringKeyed = { secret, data, digest };
  return digest;
}

function bytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * The `SignatureV4` exactly as `createSigner` configures it for one region (exported so the SigV4 test suite
 * can be replayed through the same configuration).
 */
export function createSignatureV4(region: string, options: SignerOptions): SignatureV4 {
  const source = options.credentials;
  return new SignatureV4({
    service: options.service ?? 'bedrock',
    region,
    credentials: () => source.get(),
    sha256: NodeSha256,
    // Non-S3 services sign the path as sent, percent-encoded once more (%3A → %253A), as the SDK does.
    uriEscapePath: true,
    applyChecksum: options.applyChecksum ?? true,
  });
}

export function createSigner(options: SignerOptions): Signer {
  const now = options.now ?? (() => new Date());
  const applyChecksum = options.applyChecksum ?? true;
  const byRegion = new Map<string, SignatureV4>();

  function signerFor(region: string): SignatureV4 {
    let signer = byRegion.get(region);
    if (!signer) {
      signer = createSignatureV4(region, options);
      byRegion.set(region, signer);
    }
    return signer;
  }

  return {
    async sign(request, region) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower) || SIGNER_OWNED.has(lower)) continue;
        headers[lower] = value;
      }
      headers.host = request.url.host;
      // The payload hash, hex, in one call: given the header, SignatureV4 signs it as it is instead of
      // hashing the body through the Checksum interface and its JavaScript hex encoding.
      if (applyChecksum) headers['x-amz-content-sha256'] = request.bodySha256 ?? createHash('sha256').update(request.body).digest('hex');
      const query: Record<string, string | string[]> = {};
      for (const [key, value] of request.url.searchParams) {
        const previous = query[key];
        query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
      }
      try {
        const signed = await signerFor(region).sign(
          {
            method: request.method.toUpperCase(),
            protocol: request.url.protocol,
            hostname: request.url.hostname,
            port: request.url.port === '' ? undefined : Number(request.url.port),
            path: request.url.pathname,
            query,
            headers,
            body: request.body,
          },
          { signingDate: now() },
        );
        return { ...signed.headers };
      } catch (error) {
        if (isSidecarError(error)) throw error;
        throw new SidecarError('internal_error', `request signing failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    },
  };
}

/** Headers for a Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`), used instead of SigV4. */
export function bearerHeaders(token: string): Record<string, string> {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new SidecarError('internal_error', 'the Bedrock API key is empty or contains characters not allowed in a header');
  }
  return { authorization: `Bearer ${token}` };
}

/**
 * One path label encoded as the SDK's `extendedEncodeURIComponent` does: RFC 3986 unreserved characters
 * kept, everything else percent-encoded, `!'()*` included (so `:` → `%3A`, `/` → `%2F`).
 */
function encodeLabel(value: string, what: string): string {
  if (value === '') throw new SidecarError('invalid_request_error', `${what} must not be empty`);
  // Kept as they are by the encoding, they would be dot segments: the URL would leave its path.
  if (value === '.' || value === '..') throw new SidecarError('invalid_request_error', `${what} must not be "${value}"`);
  try {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  } catch {
    throw new SidecarError('invalid_request_error', `${what} is not well-formed Unicode`);
  }
}

/** `/model/{modelId}/{operation}` with the model id (base id, profile id or ARN) as one encoded segment. */
export function encodeModelPath(modelId: string, operation: ModelOperation): string {
  return `/model/${encodeLabel(modelId, 'model id')}/${operation}`;
}

/** `/guardrail/{id}/version/{version}/apply` (ApplyGuardrail). */
export function encodeGuardrailPath(id: string, version: string): string {
  return `/guardrail/${encodeLabel(id, 'guardrail id')}/version/${encodeLabel(version, 'guardrail version')}/apply`;
}
