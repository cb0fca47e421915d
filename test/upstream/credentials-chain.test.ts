/**
 * The pod's AWS identity through the sidecar's default credential chain, with the environment variables
 * EKS injects and loopback fakes of the services behind them:
 *
 *  - IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE → STS AssumeRoleWithWebIdentity (a fake STS, reached
 *    through AWS_ENDPOINT_URL_STS);
 *  - EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE → the
 *    node agent's credentials endpoint (a fake on 127.0.0.1);
 *  - IMDSv2 (the node role), through AWS_EC2_METADATA_SERVICE_ENDPOINT.
 *
 * The chain reads process.env, so each case runs the sidecar (an `App` with no credentials option, i.e.
 * the production default) in a child process: this file, started again with CREDENTIALS_CHAIN_CHILD set.
 * The child sends chat requests through its sidecar to the emulator, which accepts only the temporary
 * keys the fakes issued, with their session token in x-amz-security-token. The first credentials expire
 * within the refresh window, so the chain must fetch new ones before they expire, re-reading the
 * (rotated) token file, while requests keep succeeding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';

const CHILD_FLAG = 'CREDENTIALS_CHAIN_CHILD';
const MODEL = 'bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0';
const REQUESTS = 3;

interface ChildResult {
  ready: boolean;
  statuses: number[];
  error?: string;
}

/** The child: the sidecar as production builds it (default chain), three chat requests, a JSON report. */
async function runChild(): Promise<void> {
  const { App } = await import('../../src/app.ts');
  const { validateConfig } = await import('../../src/config/load.ts');
  const { createLogger } = await import('../../src/ops/logger.ts');
  const { REFRESH_WINDOW_MS } = await import('../../src/upstream/credentials.ts');
  const config = validateConfig({ server: { port: 0, admin_port: 0 }, models: [{ name: 'claude', model: MODEL, region: 'us-east-1' }] });
  const app = new App({ config, logger: createLogger('warn', process.stderr), processMetrics: false });
  const result: ChildResult = { ready: false, statuses: [] };
  try {
    const { proxy } = await app.start();
    const waitMs = Number(process.env.CHAIN_READY_WAIT_MS ?? 5000);
    for (let i = 0; i < waitMs / 25 && !app.ready; i++) await new Promise((r) => setTimeout(r, 25));
    result.ready = app.ready;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`http://127.0.0.1:${proxy.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: `request ${i}` }] }),
      });
      result.statuses.push(res.status);
      if (res.status !== 200) result.error = await res.text();
      else await res.arrayBuffer();
      // Until a background refresh started by this request has landed (the credentials held are then good
      // for more than the refresh window), bounded: a fixed 300 ms was not always enough on a loaded machine.
      // Asking here starts no refresh of its own: one was just started, and they are spaced BACKGROUND_RETRY_MS.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const held = await app.credentials.get().catch(() => undefined);
        const expires = held?.expiration?.getTime();
        if (expires === undefined || expires - Date.now() >= REFRESH_WINDOW_MS) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  } catch (error) {
    result.error = String((error as Error).stack ?? error);
  } finally {
    await app.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

interface Call {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Fake {
  url: string;
  calls: Call[];
  close(): Promise<void>;
}

/** A credentials endpoint (STS, the Pod Identity agent, IMDS) on test/helpers/hostile-upstream.ts. */
async function startFake(handle: (call: Call, res: ServerResponse, n: number) => void): Promise<Fake> {
  const calls: Call[] = [];
  const fake = await startHostileUpstream((req, res, body, n) => {
    const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') };
    calls.push(call);
    handle(call, res, n);
  });
  return { url: fake.url, calls, close: () => fake.close() };
}

interface Issued {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Issuance n: the first expires in 4 minutes (inside the 5-minute refresh window), later ones in an hour. */
function issue(kind: string, n: number): Issued {
  return {
    accessKeyId: `ASIA${kind.toUpperCase()}${n}EXAMPLE`,
    secretAccessKey: `${kind}-secret-${n}-wJalrXUtnFEMI/K7MDENG`,
    sessionToken: `${kind}-session-token-${n}`,
    expiration: new Date(Date.now() + (n === 1 ? 4 * 60_000 : 60 * 60_000)),
  };
}

function stsReply(c: Issued): string {
  return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:llm-app</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::111122223333:assumed-role/llm-app-bedrock/session</Arn>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${c.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>
      <SessionToken>${c.sessionToken}</SessionToken>
      <Expiration>${c.expiration.toISOString()}</Expiration>
    </Credentials>
    <Provider>arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
}

function containerReply(c: Issued): string {
  return JSON.stringify({
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.sessionToken,
    AccountId: '111122223333',
    Expiration: c.expiration.toISOString(),
  });
}

/** Runs the child with exactly `env` (plus PATH): no inherited AWS setting, no ~/.aws. */
async function runSidecarChild(env: Record<string, string>, dir: string): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      [CHILD_FLAG]: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `child exited ${code}: ${stderr}`);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    throw new Error(`child printed no result: ${stdout}\n${stderr}`);
  }
}

function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

if (process.env[CHILD_FLAG]) {
  await runChild();
} else {
  const { startTestEmulator } = await import('../helpers/emulator.ts');

  test('credentials chain: IRSA web identity from the injected env, refreshed before expiry with the rotated token, signs requests Bedrock accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.projected-sa-token-1');
    const issued: Issued[] = [];
    const sts = await startFake((_call, res, n) => {
      const c = issue('irsa', n);
      issued.push(c);
      // The kubelet rotates the projected token; the next refresh must read the new one.
      writeFileSync(tokenFile, `eyJhbGciOiJSUzI1NiJ9.projected-sa-token-${n + 1}`);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(stsReply(c));
    });
    const emu = await startTestEmulator({ credentials: [1, 2, 3].map((n) => issue('irsa', n)) });
    try {
      const result = await runSidecarChild(
        {
          // As the EKS pod identity webhook injects them for an annotated ServiceAccount:
          AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/llm-app-bedrock',
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_REGION: 'us-east-1',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_STS_REGIONAL_ENDPOINTS: 'regional',
          // The test's own: loopback fakes, and never IMDS.
          AWS_ENDPOINT_URL_STS: sts.url,
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        dir,
      );
      assert.deepEqual(result, { ready: true, statuses: [200, 200, 200] });

      assert.equal(sts.calls.length, 2, 'one resolution at start, one refresh before the first credentials expired');
      sts.calls.forEach((call, i) => {
        assert.equal(call.method, 'POST');
        assert.equal(call.headers.authorization, undefined, 'AssumeRoleWithWebIdentity is not signed');
        assert.match(String(call.headers['content-type']), /^application\/x-www-form-urlencoded/);
        const params = form(call.body);
        assert.equal(params.Action, 'AssumeRoleWithWebIdentity');
        assert.equal(params.Version, '2011-06-15');
        assert.equal(params.RoleArn, 'arn:aws:iam::111122223333:role/llm-app-bedrock');
        assert.equal(params.WebIdentityToken, `eyJhbGciOiJSUzI1NiJ9.projected-sa-token-${i + 1}`, 'the token file is re-read on refresh');
        assert.ok(params.RoleSessionName);
      });

      const models = emu.requests.filter((r) => r.operation === 'InvokeModel');
      assert.equal(models.length, REQUESTS);
      for (const r of models) assert.equal(r.signature, 'valid');
      // Request 1 used the first credentials (and started the refresh); the later ones the refreshed ones.
      assert.deepEqual(
        models.map((r) => r.headers['x-amz-security-token']),
        [issued[0]!.sessionToken, issued[1]!.sessionToken, issued[1]!.sessionToken],
      );
      assert.match(
        String(models[0]!.headers.authorization),
        new RegExp(`Credential=${issued[0]!.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request`),
      );
    } finally {
      await Promise.all([sts.close(), emu.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('credentials chain: EKS Pod Identity from the injected env, with the raw token file as Authorization, refreshed before expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pod-identity-'));
    const tokenFile = join(dir, 'eks-pod-identity-token');
    writeFileSync(tokenFile, 'pod-identity-token-1');
    const issued: Issued[] = [];
    const agent = await startFake((call, res, n) => {
      if (call.headers.authorization !== readFileSync(tokenFile, 'utf8')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad token"}');
        return;
      }
      const c = issue('podid', issued.length + 1);
      issued.push(c);
      writeFileSync(tokenFile, `pod-identity-token-${n + 1}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(containerReply(c));
    });
    const emu = await startTestEmulator({ credentials: [1, 2, 3].map((n) => issue('podid', n)) });
    try {
      const result = await runSidecarChild(
        {
          // As the EKS Pod Identity webhook injects them (the agent is at 169.254.170.23 on a real node):
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        dir,
      );
      assert.deepEqual(result, { ready: true, statuses: [200, 200, 200] });

      assert.equal(agent.calls.length, 2, 'one resolution at start, one refresh before the first credentials expired');
      agent.calls.forEach((call, i) => {
        assert.equal(call.method, 'GET');
        assert.equal(call.url, '/v1/credentials');
        assert.equal(call.headers.authorization, `pod-identity-token-${i + 1}`, 'the raw file contents, re-read on every call');
      });
      const models = emu.requests.filter((r) => r.operation === 'InvokeModel');
      for (const r of models) assert.equal(r.signature, 'valid');
      assert.deepEqual(
        models.map((r) => r.headers['x-amz-security-token']),
        [issued[0]!.sessionToken, issued[1]!.sessionToken, issued[1]!.sessionToken],
      );
    } finally {
      await Promise.all([agent.close(), emu.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('credentials chain: with both IRSA and Pod Identity injected, web identity wins (it comes first in the chain)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'both-'));
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'pod-token'), 'pod-token');
    const sts = await startFake((_call, res, n) =>
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(stsReply({ ...issue('irsa', n), expiration: new Date(Date.now() + 3_600_000) })),
    );
    const agent = await startFake((_call, res, n) => res.writeHead(200).end(containerReply(issue('podid', n))));
    const emu = await startTestEmulator({ credentials: [issue('irsa', 1), issue('podid', 1)] });
    try {
      const result = await runSidecarChild(
        {
          AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/llm-app-bedrock',
          AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, 'token'),
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, 'pod-token'),
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_STS: sts.url,
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        dir,
      );
      assert.deepEqual(result, { ready: true, statuses: [200, 200, 200] });
      assert.equal(sts.calls.length, 1);
      assert.equal(agent.calls.length, 0);
      assert.ok(emu.requests.every((r) => r.headers['x-amz-security-token'] === issue('irsa', 1).sessionToken));
    } finally {
      await Promise.all([sts.close(), agent.close(), emu.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('credentials chain: IMDSv2 (the node role) when nothing else is configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imds-'));
    const creds = { ...issue('imds', 1), expiration: new Date(Date.now() + 3_600_000) };
    const imds = await startFake((call, res) => {
      if (call.method === 'PUT' && call.url === '/latest/api/token') {
        if (call.headers['x-aws-ec2-metadata-token-ttl-seconds']) res.writeHead(200).end('imds-session-token');
        else res.writeHead(400).end();
        return;
      }
      if (call.headers['x-aws-ec2-metadata-token'] !== 'imds-session-token') {
        res.writeHead(401).end();
        return;
      }
      if (call.url === '/latest/meta-data/iam/security-credentials/') res.writeHead(200).end('node-role');
      else if (call.url === '/latest/meta-data/iam/security-credentials/node-role') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(
          JSON.stringify({
            Code: 'Success',
            LastUpdated: new Date().toISOString(),
            Type: 'AWS-HMAC',
            AccessKeyId: creds.accessKeyId,
            SecretAccessKey: creds.secretAccessKey,
            Token: creds.sessionToken,
            Expiration: creds.expiration.toISOString(),
          }),
        );
      } else res.writeHead(404).end();
    });
    const emu = await startTestEmulator({ credentials: [creds] });
    try {
      const result = await runSidecarChild(
        {
          AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
        },
        dir,
      );
      assert.deepEqual(result, { ready: true, statuses: [200, 200, 200] });
      assert.ok(
        imds.calls.some((c) => c.method === 'PUT' && c.url === '/latest/api/token'),
        'IMDSv2 session token first',
      );
      assert.ok(emu.requests.every((r) => r.signature === 'valid' && r.headers['x-amz-security-token'] === creds.sessionToken));
    } finally {
      await Promise.all([imds.close(), emu.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('credentials chain: with no source at all the sidecar stays unready and answers no request signed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'none-'));
    const emu = await startTestEmulator();
    try {
      const result = await runSidecarChild(
        {
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url,
          AWS_EC2_METADATA_DISABLED: 'true',
          CHAIN_READY_WAIT_MS: '1000',
        },
        dir,
      );
      assert.equal(result.ready, false);
      // 503: the sidecar cannot authenticate itself (not the client's fault; a retry may find it fixed).
      assert.ok(
        result.statuses.every((s) => s === 503),
        JSON.stringify(result),
      );
      assert.match(result.error ?? '', /AWS credentials could not be resolved from the AWS default chain/);
      assert.equal(emu.requests.length, 0, 'nothing unsigned reaches Bedrock');
    } finally {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
