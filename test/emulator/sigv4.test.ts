// SigV4 verifier: the worked example of docs/bedrock-wire.md#model-ids-in-the-path, the AWS SigV4 test suite (replayed
// through the verifier, which must accept each expected Authorization header), and the failure classes.
import { test } from 'node:test';
import { otherCredentials, TEST_CREDENTIALS } from '../helpers/credentials.ts';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  canonicalRequest,
  canonicalUri,
  computeSignature,
  SIGNATURE_MISMATCH_MESSAGE,
  sha256Hex,
  stringToSign,
  uriEncode,
  verifySigV4,
  type ReceivedRequest,
} from '../../src/emulator/sigv4.ts';

const CREDS = [{ ...TEST_CREDENTIALS }];

const EXAMPLE_BODY = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}';
const EXAMPLE_PATH = '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123xyz/invoke';
const EXAMPLE_HEADERS: [string, string][] = [
  ['host', 'bedrock-runtime.us-east-1.amazonaws.com'],
  ['content-type', 'application/json'],
  ['accept', 'application/json'],
  ['x-amz-date', '20240101T000000Z'],
  ['x-amz-content-sha256', '616eb59224eb795b641b4c541ad9ee8b939a1e8798f73b54fce66bb79ddbb992'],
];
const EXAMPLE_SIGNATURE = '6f9ab587b7d1f5a97f497848e7346fee0840033ecbfc6d1d048d399490f62b34';
const EXAMPLE_AUTH = `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, Signature=${EXAMPLE_SIGNATURE}`;

function exampleRequest(over: Partial<ReceivedRequest> = {}): ReceivedRequest {
  return {
    method: 'POST',
    rawPath: EXAMPLE_PATH,
    rawQuery: '',
    headers: EXAMPLE_HEADERS,
    payloadSha256Hex: sha256Hex(EXAMPLE_BODY),
    ...over,
  };
}

const at2024 = { credentials: CREDS, service: 'bedrock', nowMs: Date.UTC(2024, 0, 1), maxClockSkewMs: 15 * 60 * 1000 };

test('sigv4: the worked example of docs/bedrock-wire.md#model-ids-in-the-path reproduces canonical request, string to sign and signature', () => {
  const req = exampleRequest();
  assert.equal(req.payloadSha256Hex, '616eb59224eb795b641b4c541ad9ee8b939a1e8798f73b54fce66bb79ddbb992');
  const signed = ['accept', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date'];
  const canonical = canonicalRequest(req, signed);
  assert.equal(
    canonical,
    [
      'POST',
      '/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Aapplication-inference-profile%252Fabc123xyz/invoke',
      '',
      'accept:application/json',
      'content-type:application/json',
      'host:bedrock-runtime.us-east-1.amazonaws.com',
      'x-amz-content-sha256:616eb59224eb795b641b4c541ad9ee8b939a1e8798f73b54fce66bb79ddbb992',
      'x-amz-date:20240101T000000Z',
      '',
      'accept;content-type;host;x-amz-content-sha256;x-amz-date',
      '616eb59224eb795b641b4c541ad9ee8b939a1e8798f73b54fce66bb79ddbb992',
    ].join('\n'),
  );
  assert.equal(
    stringToSign('20240101T000000Z', '20240101/us-east-1/bedrock/aws4_request', canonical),
    'AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/bedrock/aws4_request\n57edf26a4b6954bef37460ccb9ade9ea4846b6b32522ddfdcb5cfc07d1410c5b',
  );
  const sig = computeSignature(
    req,
    { date: '20240101', region: 'us-east-1', service: 'bedrock', signedHeaders: signed },
    '20240101T000000Z',
    CREDS[0]!.secretAccessKey,
  );
  assert.equal(sig, EXAMPLE_SIGNATURE);
  assert.deepEqual(verifySigV4(req, EXAMPLE_AUTH, at2024), { ok: true, accessKeyId: TEST_CREDENTIALS.accessKeyId, region: 'us-east-1' });
});

test('sigv4: a literal ":" in the path gets a single %3A in the canonical URI', () => {
  assert.equal(
    canonicalUri('/model/anthropic.claude-3-haiku-20240307-v1:0/invoke'),
    '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke',
  );
  assert.equal(
    canonicalUri('/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke'),
    '/model/anthropic.claude-3-haiku-20240307-v1%253A0/invoke',
  );
});

test('sigv4: rejects a wrong secret, a changed body, a wrong service and an unsigned host', () => {
  const wrongSecret = { ...at2024, credentials: [{ accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'nope' }] };
  const r1 = verifySigV4(exampleRequest(), EXAMPLE_AUTH, wrongSecret);
  assert.equal(r1.ok, false);
  assert.equal(!r1.ok && r1.errorType, 'InvalidSignatureException');
  assert.equal(!r1.ok && r1.message, SIGNATURE_MISMATCH_MESSAGE);

  const r2 = verifySigV4(exampleRequest({ payloadSha256Hex: sha256Hex('{}') }), EXAMPLE_AUTH, at2024);
  assert.equal(!r2.ok && r2.problem, 'x-amz-content-sha256 does not match the received body');

  const r3 = verifySigV4(exampleRequest(), EXAMPLE_AUTH.replace('/bedrock/', '/bedrock-runtime/'), at2024);
  assert.equal(!r3.ok && r3.message, "Credential should be scoped to correct service: 'bedrock'. ");

  const r4 = verifySigV4(exampleRequest(), EXAMPLE_AUTH.replace('host;', ''), at2024);
  assert.equal(!r4.ok && r4.errorType, 'InvalidSignatureException');

  const r5 = verifySigV4(
    exampleRequest(),
    EXAMPLE_AUTH.replace(TEST_CREDENTIALS.accessKeyId, otherCredentials('unknown').accessKeyId),
    at2024,
  );
  assert.equal(!r5.ok && r5.errorType, 'UnrecognizedClientException');
  assert.equal(!r5.ok && r5.message, 'The security token included in the request is invalid.');

  const r6 = verifySigV4(exampleRequest(), EXAMPLE_AUTH, { ...at2024, nowMs: Date.UTC(2024, 0, 2) });
  assert.match(!r6.ok ? r6.message : '', /^Signature expired: 20240101T000000Z is now earlier than/);
});

interface SuiteCase {
  name: string;
  request: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body?: string };
  authorization: string;
}

const suite = JSON.parse(readFileSync(new URL('./fixtures/sigv4-test-suite.json', import.meta.url), 'utf8')) as {
  cases: SuiteCase[];
  credentials: { accessKeyId: string; secretAccessKey: string };
  service: string;
};

for (const c of suite.cases) {
  test(`sigv4: AWS test suite case ${c.name} verifies`, () => {
    const rawQuery = Object.entries(c.request.query)
      .map(([k, v]) => `${uriEncode(k, false)}=${uriEncode(v, false)}`)
      .join('&');
    const req: ReceivedRequest = {
      method: c.request.method,
      rawPath: c.request.path,
      rawQuery,
      headers: Object.entries(c.request.headers),
      payloadSha256Hex: sha256Hex(c.request.body ?? ''),
    };
    const outcome = verifySigV4(req, c.authorization, {
      credentials: [suite.credentials],
      service: suite.service,
      nowMs: 0,
      maxClockSkewMs: 0,
    });
    assert.deepEqual(outcome, { ok: true, accessKeyId: TEST_CREDENTIALS.accessKeyId, region: 'us-east-1' });
  });
}
