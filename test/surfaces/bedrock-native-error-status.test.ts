// The native surface answers an error Bedrock itself gave with Bedrock's own HTTP status, not the status the
// other surfaces use for it (docs/contract.md#bedrock-native). The AWS SDK decides whether to retry by the status
// as well as the name: it retries any 500, 502, 503 or 504, so Bedrock's 424 ModelErrorException or 408
// ModelTimeoutException answered as 502 / 504 was tried three times by an app that Bedrock's own answer stops
// after one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockRuntimeClient, BedrockRuntimeServiceException, ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { otherCredentials } from '../helpers/credentials.ts';

const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' };
const TITAN = { name: 'titan', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' };

/** The SDK as an app builds it: its default retry policy (three attempts), only the endpoint changed. */
function appClient(h: Harness, maxAttempts?: number): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: h.url,
    credentials: otherCredentials('app-client'),
    requestHandler: new NodeHttpHandler(),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

async function refusal(send: Promise<unknown>): Promise<BedrockRuntimeServiceException> {
  try {
    await send;
  } catch (error) {
    assert.ok(error instanceof BedrockRuntimeServiceException, `not a service exception: ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

const converse = (modelId: string) => new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hello' }] }] });

test("native: a model's own failure keeps Bedrock's status, and the AWS SDK tries it once, as against Bedrock", async () => {
  const h = await startHarness({ models: [NOVA, TITAN] });
  try {
    const cases = [
      { status: 424, errorType: 'ModelErrorException', send: (c: BedrockRuntimeClient) => c.send(converse('nova')) },
      { status: 408, errorType: 'ModelTimeoutException', send: (c: BedrockRuntimeClient) => c.send(converse('nova')) },
      {
        status: 424,
        errorType: 'ModelErrorException',
        send: (c: BedrockRuntimeClient) =>
          c.send(new InvokeModelCommand({ modelId: 'titan', body: Buffer.from(JSON.stringify({ inputText: 'hello' })) })),
      },
    ];
    for (const c of cases) {
      const before = h.emu.requests.length;
      h.emu.script({ type: 'error', status: c.status, errorType: c.errorType, message: `Bedrock's own ${c.errorType}` });
      const error = await refusal(c.send(appClient(h)));
      assert.equal(error.name, c.errorType);
      assert.equal(error.message, `Bedrock's own ${c.errorType}`);
      assert.equal(error.$metadata.httpStatusCode, c.status);
      assert.equal(error.$metadata.attempts, 1, `${c.errorType} was retried by the SDK`);
      assert.equal(h.emu.requests.length - before, 1);
    }
    const lines = h.logs.filter((l) => l.msg === 'request completed' && l.surface === 'native');
    assert.deepEqual(
      lines.map((l) => l.status),
      [424, 408, 424],
    );
  } finally {
    await h.close();
  }
});

test("native: Bedrock's 503 stays a 503 once the sidecar's own retries are spent", async () => {
  const h = await startHarness({ models: [NOVA], upstream: { max_attempts: 1 } });
  try {
    h.emu.script({ type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'Bedrock is unavailable' });
    const unavailable = await refusal(appClient(h, 1).send(converse('nova')));
    assert.equal(unavailable.name, 'ServiceUnavailableException');
    assert.equal(unavailable.message, 'Bedrock is unavailable');
    assert.equal(unavailable.$metadata.httpStatusCode, 503);
  } finally {
    await h.close();
  }
});
