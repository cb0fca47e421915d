import { test } from 'node:test';
import { otherCredentials, TEST_CREDENTIALS } from '../helpers/credentials.ts';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { isSidecarError } from '../../src/errors.ts';
import {
  BACKGROUND_RETRY_MS,
  createCredentialSource,
  defaultCredentialProvider,
  type AwsCredentialIdentity,
  type CredentialSource,
} from '../../src/upstream/credentials.ts';
import {
  bearerHeaders,
  createSignatureV4,
  createSigner,
  encodeGuardrailPath,
  encodeModelPath,
  NodeSha256,
  type UpstreamRequest,
} from '../../src/upstream/signer.ts';

const KEY = { ...TEST_CREDENTIALS };
const HOST = 'bedrock-runtime.us-east-1.amazonaws.com';
const ARN_PROFILE = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz';

function staticSource(identity: AwsCredentialIdentity): CredentialSource {
  return { get: async () => identity, invalidate: () => undefined, usable: () => true, lastError: () => undefined };
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function signatureOf(authorization: string | undefined): string {
  return /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1] ?? '';
}

function signedHeadersOf(authorization: string | undefined): string[] {
  return /SignedHeaders=([^,]+),/.exec(authorization ?? '')?.[1]?.split(';') ?? [];
}

// --- (a) the AWS SigV4 test suite ----------------------------------------------------------------------

interface SuiteCase {
  name: string;
  request: {
    protocol: string;
    method: string;
    hostname: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body?: string;
  };
  authorization: string;
}
interface Suite {
  region: string;
  service: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  signingDate: string;
  cases: SuiteCase[];
}
const suite = JSON.parse(readFileSync(new URL('../fixtures/vectors/sigv4-test-suite.json', import.meta.url), 'utf8')) as Suite;

test('signer: every case of the AWS SigV4 test suite signs exactly (SignatureV4 as the signer configures it)', async () => {
  assert.equal(suite.cases.length, 24);
  const signer = createSignatureV4(suite.region, {
    credentials: staticSource(suite.credentials),
    service: suite.service,
    applyChecksum: false, // the suite does not sign x-amz-content-sha256
  });
  for (const { name, request, authorization } of suite.cases) {
    const signed = await signer.sign({ ...request, headers: { ...request.headers } }, { signingDate: new Date(suite.signingDate) });
    assert.equal(signed.headers.authorization, authorization, name);
  }
});

test('signer: the suite cases that fit in a URL sign exactly through createSigner too', async () => {
  let replayed = 0;
  for (const { name, request, authorization } of suite.cases) {
    // Our signer takes an already-encoded path; the suite's raw UTF-8 path would be encoded by URL first.
    if (name === 'get-utf8') continue;
    const url = new URL(`${request.protocol}//${request.hostname}${request.path}`);
    for (const [key, value] of Object.entries(request.query)) url.searchParams.append(key, value);
    const token = request.headers['x-amz-security-token'];
    const signer = createSigner({
      credentials: staticSource(token ? { ...suite.credentials, sessionToken: token } : suite.credentials),
      service: suite.service,
      now: () => new Date(suite.signingDate),
      applyChecksum: false,
    });
    const headers = await signer.sign(
      { method: request.method, url, headers: request.headers, body: bytes(request.body ?? '') },
      suite.region,
    );
    assert.equal(headers.authorization, authorization, name);
    replayed += 1;
  }
  assert.equal(replayed, 23);
});

// --- (b) the worked example of docs/bedrock-wire.md#model-ids-in-the-path
// ------------------------------------------------------

const WORKED_BODY = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}';

function workedRequest(): UpstreamRequest {
  return {
    method: 'POST',
    url: new URL(`https://${HOST}${encodeModelPath(ARN_PROFILE, 'invoke')}`),
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: bytes(WORKED_BODY),
  };
}

test('signer: the worked ARN example of docs/bedrock-wire.md#model-ids-in-the-path gives the documented signature', async () => {
  const signer = createSigner({ credentials: staticSource(KEY), now: () => new Date('2024-01-01T00:00:00Z') });
  const request = workedRequest();
  assert.equal(
    request.url.pathname,
    '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123xyz/invoke',
  );
  const headers = await signer.sign(request, 'us-east-1');
  assert.deepEqual(headers, {
    'content-type': 'application/json',
    accept: 'application/json',
    host: HOST,
    'x-amz-date': '20240101T000000Z',
    'x-amz-content-sha256': '616eb59224eb795b641b4c541ad9ee8b939a1e8798f73b54fce66bb79ddbb992',
    authorization:
      `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20240101/us-east-1/bedrock/aws4_request, ` +
      'SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, ' +
      'Signature=6f9ab587b7d1f5a97f497848e7346fee0840033ecbfc6d1d048d399490f62b34',
  });
  // The input is not modified.
  assert.deepEqual(request.headers, { 'content-type': 'application/json', accept: 'application/json' });
});

test('signer: a single-encoded canonical path would not match (the path is encoded again when signing)', async () => {
  const signer = createSigner({ credentials: staticSource(KEY), now: () => new Date('2024-01-01T00:00:00Z') });
  const literal = workedRequest();
  literal.url = new URL(`https://${HOST}/model/${ARN_PROFILE.replace('/', '%2F')}/invoke`); // literal ':'
  const headers = await signer.sign(literal, 'us-east-1');
  assert.notEqual(signatureOf(headers.authorization), '6f9ab587b7d1f5a97f497848e7346fee0840033ecbfc6d1d048d399490f62b34');
});

// --- (c) the same request signed by the AWS SDK --------------------------------------------------------

interface CapturedRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A Bedrock client whose transport records the signed request and answers with a canned response. */
function recordingClient(credentials: AwsCredentialIdentity): { client: BedrockRuntimeClient; sent: CapturedRequest[] } {
  const sent: CapturedRequest[] = [];
  const chunkFrame = Buffer.from(
    'AAAAhwAAAEuH6ivzCzpldmVudC10eXBlBwAFY2h1bmsNOmNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb24NOm1lc3NhZ2UtdHlwZQcABWV2ZW50eyJieXRlcyI6ImV5SjBlWEJsSWpvaWJXVnpjMkZuWlY5emRHOXdJbjA9In26SKsi',
    'base64',
  );
  const requestHandler = {
    async handle(request: CapturedRequest) {
      sent.push({ ...request, headers: { ...request.headers } });
      const stream = request.path.endsWith('-stream');
      const body = stream
        ? chunkFrame
        : Buffer.from(request.path.endsWith('/converse') ? '{"output":{},"stopReason":"end_turn","usage":{},"metrics":{}}' : '{}');
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': stream ? 'application/vnd.amazon.eventstream' : 'application/json' },
          body: Readable.from([body]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
  };
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: requestHandler,
  });
  return { client, sent };
}

/** Re-signs what the SDK sent with our signer: the same headers (minus the ones the signer owns) and date. */
async function resign(captured: CapturedRequest, credentials: AwsCredentialIdentity): Promise<Record<string, string>> {
  const amzDate = captured.headers['x-amz-date']!;
  const date = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const headers = { ...captured.headers };
  for (const owned of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token', 'host', 'user-agent']) {
    delete headers[owned];
  }
  const signer = createSigner({ credentials: staticSource(credentials), now: () => date });
  const port = captured.port === undefined ? '' : `:${captured.port}`;
  return signer.sign(
    {
      method: captured.method,
      url: new URL(`${captured.protocol}//${captured.hostname}${port}${captured.path}`),
      headers,
      body: captured.body,
    },
    'us-east-1',
  );
}

test('signer: signs exactly as the AWS SDK does, path encoding and authorization included', async () => {
  const withToken = { ...KEY, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN/+=' };
  for (const credentials of [KEY, withToken]) {
    const { client, sent } = recordingClient(credentials);
    const cases: Array<{ send: () => Promise<unknown>; path: string }> = [
      {
        send: () =>
          client.send(
            new InvokeModelCommand({
              modelId: ARN_PROFILE,
              body: bytes(WORKED_BODY),
              contentType: 'application/json',
              accept: 'application/json',
              trace: 'ENABLED',
              guardrailIdentifier: 'gr1abc',
              guardrailVersion: 'DRAFT',
              performanceConfigLatency: 'optimized',
            }),
          ),
        path: encodeModelPath(ARN_PROFILE, 'invoke'),
      },
      {
        send: () =>
          client.send(
            new InvokeModelWithResponseStreamCommand({
              modelId: 'eu.amazon.nova-micro-v1:0',
              body: bytes('{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'),
              contentType: 'application/json',
            }),
          ),
        path: encodeModelPath('eu.amazon.nova-micro-v1:0', 'invoke-with-response-stream'),
      },
      {
        send: () =>
          client.send(
            new ConverseCommand({
              modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
              messages: [{ role: 'user', content: [{ text: 'hi' }] }],
            }),
          ),
        path: encodeModelPath('anthropic.claude-3-haiku-20240307-v1:0', 'converse'),
      },
    ];
    for (const { send, path } of cases) {
      await send();
      const captured = sent.at(-1)!;
      assert.equal(captured.path, path);
      const ours = await resign(captured, credentials);
      assert.equal(ours.authorization, captured.headers.authorization, path);
      assert.equal(ours['x-amz-content-sha256'], captured.headers['x-amz-content-sha256']);
      assert.equal(ours['x-amz-security-token'], captured.headers['x-amz-security-token']);
      assert.equal(ours.host, captured.headers.host);
    }
    client.destroy();
  }
});

// --- (d) path encoding ---------------------------------------------------------------------------------

test('signer: encodeModelPath encodes the model id as one segment, as the SDK does', () => {
  const table: Array<[string, Parameters<typeof encodeModelPath>[1], string]> = [
    ['anthropic.claude-3-haiku-20240307-v1:0', 'invoke', '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke'],
    ['amazon.titan-text-express-v1', 'invoke', '/model/amazon.titan-text-express-v1/invoke'],
    ['eu.amazon.nova-micro-v1:0', 'invoke-with-response-stream', '/model/eu.amazon.nova-micro-v1%3A0/invoke-with-response-stream'],
    [
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'converse-stream',
      '/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream',
    ],
    [ARN_PROFILE, 'converse', '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123xyz/converse'],
    [
      'arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-8b-instruct-v1:0',
      'invoke',
      '/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A%3Afoundation-model%2Fmeta.llama3-8b-instruct-v1%3A0/invoke',
    ],
    ["odd!'()*~_.-id", 'invoke', '/model/odd%21%27%28%29%2A~_.-id/invoke'],
    ['a b+c', 'invoke', '/model/a%20b%2Bc/invoke'],
  ];
  for (const [modelId, operation, expected] of table) {
    assert.equal(encodeModelPath(modelId, operation), expected, modelId);
  }
  assert.throws(
    () => encodeModelPath('', 'invoke'),
    (error) => isSidecarError(error) && error.type === 'invalid_request_error',
  );
  assert.throws(
    () => encodeModelPath('\ud800', 'invoke'),
    (error) => isSidecarError(error) && error.type === 'invalid_request_error',
  );
});

test('signer: encodeGuardrailPath encodes the id and version as segments', () => {
  assert.equal(encodeGuardrailPath('abcd1234', 'DRAFT'), '/guardrail/abcd1234/version/DRAFT/apply');
  assert.equal(
    encodeGuardrailPath('arn:aws:bedrock:us-east-1:123456789012:guardrail/abcd1234', '3'),
    '/guardrail/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aguardrail%2Fabcd1234/version/3/apply',
  );
});

// --- (f) session tokens and header hygiene -------------------------------------------------------------

test('signer: a session token is sent and signed as x-amz-security-token', async () => {
  const signer = createSigner({
    credentials: staticSource({ ...KEY, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE' }),
    now: () => new Date('2024-01-01T00:00:00Z'),
  });
  const headers = await signer.sign(workedRequest(), 'us-east-1');
  assert.equal(headers['x-amz-security-token'], 'IQoJb3JpZ2luX2VjEXAMPLE');
  assert.deepEqual(signedHeadersOf(headers.authorization), [
    'accept',
    'content-type',
    'host',
    'x-amz-content-sha256',
    'x-amz-date',
    'x-amz-security-token',
  ]);
  const plain = await createSigner({ credentials: staticSource(KEY), now: () => new Date('2024-01-01T00:00:00Z') }).sign(
    workedRequest(),
    'us-east-1',
  );
  assert.equal(plain['x-amz-security-token'], undefined);
});

test('signer: credentials that change between requests sign with the new secret (nothing of the old key is reused)', async () => {
  // Reference: SignatureV4 with the pure-JavaScript SHA-256, which remembers nothing between requests.
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const now = new Date('2024-01-01T00:00:00Z');
  const rotated: AwsCredentialIdentity[] = [
    KEY,
    { accessKeyId: KEY.accessKeyId, secretAccessKey: `${KEY.secretAccessKey}2` },
    { ...KEY, sessionToken: 'tok' },
    KEY,
  ];
  let current = rotated[0]!;
  const signer = createSigner({ credentials: { ...staticSource(KEY), get: async () => current }, now: () => now });
  for (const credentials of rotated) {
    current = credentials;
    const request = workedRequest();
    const ours = await signer.sign(request, 'us-east-1');
    const reference = await new SignatureV4({
      service: 'bedrock',
      region: 'us-east-1',
      credentials,
      sha256: Sha256,
      uriEscapePath: true,
    }).sign(
      {
        method: 'POST',
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        path: request.url.pathname,
        query: {},
        headers: { ...request.headers, host: request.url.host },
        body: request.body,
      },
      { signingDate: now },
    );
    assert.equal(
      ours.authorization,
      reference.headers.authorization,
      `${credentials.secretAccessKey.slice(-4)} ${credentials.sessionToken ?? ''}`,
    );
  }
});

test("signer: an HMAC keyed by bytes equals node:crypto's, with its key reused and after the same key object changed", async () => {
  // The imported key is remembered per key object (SignatureV4 hands the same derived key to every
  // request): reused as long as its bytes are the same, imported again once they differ.
  const key = new Uint8Array(32).map((_, i) => i * 7);
  const hmac = async (data: string): Promise<string> => {
    const hash = new NodeSha256(key);
    hash.update(data);
    return Buffer.from(await hash.digest()).toString('hex');
  };
  const expected = (data: string): string => createHmac('sha256', Buffer.from(key)).update(data).digest('hex');
  assert.equal(await hmac('first'), expected('first'));
  assert.equal(await hmac('second'), expected('second'), 'the same key object again');
  key[0] = 255;
  assert.equal(await hmac('second'), expected('second'), 'the same key object with other bytes');
});

test('signer: hop-by-hop headers and stale signing headers are dropped, so the signature is unchanged', async () => {
  const signer = createSigner({ credentials: staticSource(KEY), now: () => new Date('2024-01-01T00:00:00Z') });
  const request = workedRequest();
  request.headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    Connection: 'keep-alive',
    'Keep-Alive': 'timeout=5',
    'Transfer-Encoding': 'chunked',
    TE: 'trailers',
    Upgrade: 'h2c',
    Host: 'evil.example',
    Authorization: 'Bearer stale',
    'X-Amz-Date': '20000101T000000Z',
    'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
  };
  const headers = await signer.sign(request, 'us-east-1');
  assert.deepEqual(Object.keys(headers).sort(), ['accept', 'authorization', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date']);
  assert.equal(headers.host, HOST);
  assert.equal(signatureOf(headers.authorization), '6f9ab587b7d1f5a97f497848e7346fee0840033ecbfc6d1d048d399490f62b34');
});

test('signer: the region goes into the scope, and the host keeps a non-default port', async () => {
  const signer = createSigner({ credentials: staticSource(KEY), now: () => new Date('2024-01-01T00:00:00Z') });
  const request = workedRequest();
  const east = await signer.sign(request, 'us-east-1');
  const west = await signer.sign(request, 'eu-west-1');
  assert.ok(west.authorization!.includes(`Credential=${TEST_CREDENTIALS.accessKeyId}/20240101/eu-west-1/bedrock/aws4_request`));
  assert.notEqual(signatureOf(east.authorization), signatureOf(west.authorization));
  request.url = new URL(`http://127.0.0.1:4010${request.url.pathname}`);
  assert.equal((await signer.sign(request, 'us-east-1')).host, '127.0.0.1:4010');
});

test('signer: bearerHeaders carries a Bedrock API key and rejects one that cannot be a header', () => {
  assert.deepEqual(bearerHeaders('ABSKQmVkcm9ja0FQSUtleS1example'), { authorization: 'Bearer ABSKQmVkcm9ja0FQSUtleS1example' });
  for (const bad of ['', 'two words', 'line\nbreak']) {
    assert.throws(
      () => bearerHeaders(bad),
      (error) => isSidecarError(error) && error.type === 'internal_error',
    );
  }
});

test('signer: a credential failure rejects with a 503 naming the credential source', async () => {
  const source = createCredentialSource(
    async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    },
    { description: 'the container credentials endpoint http://127.0.0.1:9/creds' },
  );
  const signer = createSigner({ credentials: source });
  await assert.rejects(signer.sign(workedRequest(), 'us-east-1'), (error) => {
    assert.ok(isSidecarError(error), 'a SidecarError');
    // Unavailable (503), not an internal error: the client is not at fault and may retry (issue 12, item 2).
    assert.equal(error.type, 'unavailable');
    assert.equal(error.status, 503);
    assert.equal(error.upstreamCode, 'CredentialsProviderError');
    assert.match(error.message, /from the container credentials endpoint http:\/\/127\.0\.0\.1:9\/creds: CredentialsProviderError/);
    return true;
  });
});

// --- (e) the credential source -------------------------------------------------------------------------

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A provider whose every call waits for the test to answer it. */
function scriptedProvider() {
  const calls: Array<{ properties: Record<string, unknown> | undefined; answer: Deferred<AwsCredentialIdentity> }> = [];
  const provider = (properties?: Record<string, unknown>) => {
    const answer = deferred<AwsCredentialIdentity>();
    calls.push({ properties, answer });
    return answer.promise;
  };
  return { provider, calls };
}

const MINUTE = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');

/** A temporary identity named `name` (test/helpers/credentials.ts), expiring at `expiresAtMs` if given. */
function identity(name: string, expiresAtMs?: number): AwsCredentialIdentity {
  return {
    ...otherCredentials(name, { session: true }),
    ...(expiresAtMs === undefined ? {} : { expiration: new Date(expiresAtMs) }),
  };
}

test('credentials: concurrent gets share one resolution and later gets reuse it', async () => {
  const { provider, calls } = scriptedProvider();
  const source = createCredentialSource(provider, { now: () => T0 });
  const pending = Array.from({ length: 10 }, () => source.get());
  await tick();
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.properties, { forceRefresh: true });
  const first = identity('one', T0 + 60 * MINUTE);
  calls[0]!.answer.resolve(first);
  for (const got of await Promise.all(pending)) assert.equal(got, first);
  assert.equal(await source.get(), first);
  assert.equal(calls.length, 1);
});

test('credentials: without an expiration they are kept until invalidated', async () => {
  const { provider, calls } = scriptedProvider();
  let now = T0;
  const source = createCredentialSource(provider, { now: () => now });
  const get = source.get();
  await tick();
  calls[0]!.answer.resolve(identity('static'));
  await get;
  now += 365 * 24 * 60 * MINUTE;
  assert.equal((await source.get()).accessKeyId, identity('static').accessKeyId);
  assert.equal(calls.length, 1);
});

test('credentials: inside the 5-minute window they refresh in the background without blocking', async () => {
  const { provider, calls } = scriptedProvider();
  let now = T0;
  const source = createCredentialSource(provider, { now: () => now });
  const expiry = T0 + 60 * MINUTE;
  const first = source.get();
  await tick();
  calls[0]!.answer.resolve(identity('old', expiry));
  await first;

  now = expiry - 6 * MINUTE; // outside the window: no refresh
  assert.equal((await source.get()).accessKeyId, identity('old').accessKeyId);
  assert.equal(calls.length, 1);

  now = expiry - 4 * MINUTE; // inside the window: old credentials now, refresh behind them
  assert.equal((await source.get()).accessKeyId, identity('old').accessKeyId);
  await tick();
  assert.equal(calls.length, 2);
  assert.equal((await source.get()).accessKeyId, identity('old').accessKeyId, 'still served while the refresh runs');
  assert.equal(calls.length, 2, 'one refresh at a time');
  calls[1]!.answer.resolve(identity('new', expiry + 60 * MINUTE));
  await tick();
  assert.equal((await source.get()).accessKeyId, identity('new').accessKeyId);
  assert.equal(calls.length, 2);
});

test('credentials: a failed background refresh keeps the current credentials and retries later', async () => {
  const { provider, calls } = scriptedProvider();
  let now = T0;
  const source = createCredentialSource(provider, { now: () => now });
  const expiry = T0 + 60 * MINUTE;
  const first = source.get();
  await tick();
  calls[0]!.answer.resolve(identity('old', expiry));
  await first;

  now = expiry - 4 * MINUTE;
  await source.get();
  await tick();
  calls[1]!.answer.reject(new Error('IMDS timed out'));
  await tick();
  assert.equal((await source.get()).accessKeyId, identity('old').accessKeyId);
  assert.equal(calls.length, 2, 'no immediate retry');
  now += BACKGROUND_RETRY_MS;
  assert.equal((await source.get()).accessKeyId, identity('old').accessKeyId);
  await tick();
  assert.equal(calls.length, 3, 'retried after the back-off');
});

test('credentials: once expired, get() waits for the refresh', async () => {
  const { provider, calls } = scriptedProvider();
  let now = T0;
  const source = createCredentialSource(provider, { now: () => now });
  const expiry = T0 + 60 * MINUTE;
  const first = source.get();
  await tick();
  calls[0]!.answer.resolve(identity('old', expiry));
  await first;

  now = expiry + 1;
  let settled: AwsCredentialIdentity | undefined;
  const waiting = [source.get(), source.get()];
  void waiting[0]!.then((value) => {
    settled = value;
  });
  await tick();
  assert.equal(calls.length, 2, 'one refresh for both callers');
  assert.equal(settled, undefined, 'expired credentials are not served');
  calls[1]!.answer.resolve(identity('new', now + 60 * MINUTE));
  const [a, b] = await Promise.all(waiting);
  assert.equal(a!.accessKeyId, identity('new').accessKeyId);
  assert.equal(b, a);
});

test('credentials: a failed blocking resolution rejects every waiter and the next get() tries again', async () => {
  const { provider, calls } = scriptedProvider();
  const source = createCredentialSource(provider, { now: () => T0 });
  const waiting = [source.get(), source.get()];
  await tick();
  calls[0]!.answer.reject(Object.assign(new Error('Token is expired'), { name: 'ExpiredTokenException' }));
  for (const result of await Promise.allSettled(waiting)) {
    assert.equal(result.status, 'rejected');
    const error = result.reason as unknown;
    // Each check on its own line, with a message: a failing bare assert.ok(a && b) spins forever in
    // Node 20's message generation under tsx instead of failing.
    assert.ok(isSidecarError(error), 'a SidecarError');
    assert.equal(error.type, 'unavailable');
    assert.equal(error.upstreamCode, 'ExpiredTokenException');
  }
  const retry = source.get();
  await tick();
  assert.equal(calls.length, 2);
  calls[1]!.answer.resolve(identity('ok'));
  assert.equal((await retry).accessKeyId, identity('ok').accessKeyId);
});

test('credentials: invalidate() makes the next get() resolve afresh', async () => {
  const { provider, calls } = scriptedProvider();
  const source = createCredentialSource(provider, { now: () => T0 });
  const first = source.get();
  await tick();
  calls[0]!.answer.resolve(identity('old', T0 + 60 * MINUTE));
  await first;
  source.invalidate();
  const second = source.get();
  await tick();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]!.properties, { forceRefresh: true });
  calls[1]!.answer.resolve(identity('new', T0 + 60 * MINUTE));
  assert.equal((await second).accessKeyId, identity('new').accessKeyId);
});

test('credentials: a provider answer without a key is rejected, named, and remembered for readiness', async () => {
  const source = createCredentialSource(async () => ({ accessKeyId: '', secretAccessKey: '' }), { description: 'the AWS profile "p"' });
  await assert.rejects(source.get(), (error) => {
    assert.ok(isSidecarError(error), 'a SidecarError');
    assert.equal(error.type, 'unavailable');
    assert.match(error.message, /from the AWS profile "p": it returned no key/);
    return true;
  });
  assert.equal(source.usable(), false);
  assert.match(source.lastError()?.message ?? '', /returned no key/);
});

test('credentials: the default chain reads the environment, and invalidate() sees it change', async () => {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CREDENTIAL_EXPIRATION'];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  try {
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_CREDENTIAL_EXPIRATION;
    process.env.AWS_ACCESS_KEY_ID = identity('FROMENV1').accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-env-1';
    process.env.AWS_SESSION_TOKEN = 'token-from-env-1';
    const source = createCredentialSource(defaultCredentialProvider());
    const first = await source.get();
    assert.equal(first.accessKeyId, identity('FROMENV1').accessKeyId);
    assert.equal(first.sessionToken, 'token-from-env-1');
    process.env.AWS_ACCESS_KEY_ID = identity('FROMENV2').accessKeyId;
    assert.equal((await source.get()).accessKeyId, identity('FROMENV1').accessKeyId, 'memoised');
    source.invalidate();
    assert.equal((await source.get()).accessKeyId, identity('FROMENV2').accessKeyId, 'the SDK cache is bypassed on refresh');
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});
