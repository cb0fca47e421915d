// Bedrock's project on the native surface (docs/contract.md#request-rules, #bedrock-native): the AWS SDK
// (@aws-sdk/client-bedrock-runtime 3.1178.0 on) sends `projectIdentifier` as a Converse / ConverseStream body
// member and as InvokeModel's `X-Amzn-Bedrock-ProjectIdentifier` header. It goes on to Bedrock as it came, in the
// form the target's route takes; a project ARN of another region than the target's is a 400 naming it, and a
// fallback in another region is skipped rather than sent it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import type { Emulator } from '../../src/emulator/index.ts';
import { startHarness, type Harness, withSecondRegion } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CLAUDE = { name: 'claude', model: `bedrock/invoke/${SONNET}`, region: 'us-east-1' };
const CLAUDE_CONVERSE = { name: 'claude-converse', model: `bedrock/converse/${SONNET}`, region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' };
const TITAN = { name: 'titan', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' };
const DEFAULT_ARN = 'arn:aws:bedrock:us-east-1:123456789012:project/default';
const HEADER = 'x-amzn-bedrock-projectidentifier';

const claudeBody = Buffer.from(
  JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
);
const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];

async function withRig(config: Record<string, unknown>, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [CLAUDE, CLAUDE_CONVERSE, NOVA, TITAN], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const sentJson = (h: Harness): Record<string, unknown> =>
  JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, unknown>;

test('native converse: projectIdentifier "default" is served and reaches Bedrock in the body, on both operations', () =>
  withRig({}, async (h) => {
    const client = nativeClient(h);
    const out = await client.send(new ConverseCommand({ modelId: 'nova', messages, projectIdentifier: 'default' }));
    assert.equal(out.stopReason, 'end_turn');
    assert.equal(sentJson(h).projectIdentifier, 'default');

    const stream = await client.send(new ConverseStreamCommand({ modelId: 'nova', messages, projectIdentifier: DEFAULT_ARN }));
    for await (const _event of stream.stream ?? []);
    assert.equal(sentJson(h).projectIdentifier, DEFAULT_ARN, 'an ARN goes on as it came');

    await client.send(new ConverseCommand({ modelId: 'nova', messages }));
    assert.equal('projectIdentifier' in sentJson(h), false, 'none asked, none sent');

    // Claude on invoke asked through Converse: InvokeModel's header.
    await client.send(new ConverseCommand({ modelId: 'claude', messages, projectIdentifier: 'default' }));
    const seen = h.emu.requests.at(-1)!;
    assert.equal(seen.headers[HEADER], 'default');
    assert.equal('projectIdentifier' in sentJson(h), false, "not in Claude's own body");
  }));

test("native converse: a projectIdentifier no header can carry is a 400 naming it, and leaves the alias's circuit breaker closed", () =>
  withRig({}, async (h) => {
    const client = nativeClient(h);
    // Before: Claude on invoke is sent it as a header, the call failed in the sidecar as Bedrock's failure (502), and
    // the fifth such request opened the breaker for every client of the alias.
    for (const project of ['日本', 'default\nx', 'a\u0000b']) {
      for (let i = 0; i < 6; i++) {
        const error = await client.send(new ConverseCommand({ modelId: 'claude', messages, projectIdentifier: project })).then(
          () => assert.fail('expected a 400'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ValidationException, String(error));
        assert.equal(error.message, 'projectIdentifier: must be a project id or ARN, in printable ASCII');
      }
    }
    assert.equal(h.emu.requests.length, 0);
    const out = await client.send(new ConverseCommand({ modelId: 'claude', messages, projectIdentifier: 'default' }));
    assert.equal(out.stopReason, 'end_turn');
  }));

test('native invoke: the SDK’s projectIdentifier reaches Bedrock as the header, or in a converse alias’s body', () =>
  withRig({}, async (h) => {
    const client = nativeClient(h);
    await client.send(new InvokeModelCommand({ modelId: 'claude', body: claudeBody, projectIdentifier: 'default' }));
    assert.equal(h.emu.requests.at(-1)!.headers[HEADER], 'default');

    const stream = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: 'claude', body: claudeBody, projectIdentifier: DEFAULT_ARN }),
    );
    for await (const _part of stream.body ?? []);
    assert.equal(h.emu.requests.at(-1)!.headers[HEADER], DEFAULT_ARN);

    await client.send(new InvokeModelCommand({ modelId: 'claude-converse', body: claudeBody, projectIdentifier: 'default' }));
    assert.equal(sentJson(h).projectIdentifier, 'default', 'a converse alias of Claude gets the body member');
    assert.equal(h.emu.requests.at(-1)!.headers[HEADER], undefined);

    await client.send(
      new InvokeModelCommand({ modelId: 'titan', body: Buffer.from(JSON.stringify({ inputText: 'hi' })), projectIdentifier: 'default' }),
    );
    assert.equal(h.emu.requests.at(-1)!.headers[HEADER], 'default', 'an embedding model’s InvokeModel carries it too');
  }));

test('native converse: a projectIdentifier that is not a string is a 400 naming it, before any call', () =>
  withRig({}, async (h) => {
    const before = h.emu.requests.length;
    const res = await fetch(`${h.url}/model/nova/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages, projectIdentifier: 7 }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype')?.split(':')[0], 'ValidationException');
    assert.match(((await res.json()) as { message: string }).message, /projectIdentifier: must be a string/);
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
  }));

test('native surface: a project ARN of another region than the target’s is a 400 naming projectIdentifier', () =>
  withRig({}, async (h) => {
    const client = nativeClient(h);
    const before = h.emu.requests.length;
    const west = 'arn:aws:bedrock:us-west-2:123456789012:project/default';
    await assert.rejects(
      client.send(new ConverseCommand({ modelId: 'nova', messages, projectIdentifier: west })),
      (error: unknown) =>
        error instanceof ValidationException && /projectIdentifier: .*us-west-2.*"nova" is served in us-east-1/.test(error.message),
    );
    await assert.rejects(
      client.send(new InvokeModelCommand({ modelId: 'claude', body: claudeBody, projectIdentifier: west })),
      (error: unknown) => error instanceof ValidationException && /projectIdentifier/.test(error.message),
    );
    await assert.rejects(
      client.send(
        new InvokeModelCommand({ modelId: 'titan', body: Buffer.from(JSON.stringify({ inputText: 'hi' })), projectIdentifier: west }),
      ),
      (error: unknown) => error instanceof ValidationException && /projectIdentifier/.test(error.message),
    );
    assert.equal(h.emu.requests.length, before, 'nothing reached Bedrock');
  }));

function withFallbackRig(run: (h: Harness, west: Emulator) => Promise<void>): Promise<void> {
  return withSecondRegion(
    (westUrl) => ({
      upstream: { max_attempts: 1 },
      models: [
        { ...NOVA, name: 'nova-east', fallbacks: ['nova-west'] },
        { ...NOVA, name: 'nova-west', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-west-2', endpoint: westUrl },
      ],
    }),
    run,
  );
}

test('native converse failover: "default" goes to a fallback in another region; a project ARN skips it', () =>
  withFallbackRig(async (h, west) => {
    h.emu.setBehavior({ kind: 'throttle' });
    const client = nativeClient(h);
    await client.send(new ConverseCommand({ modelId: 'nova-east', messages, projectIdentifier: 'default' }));
    assert.equal(west.requests.length, 1, 'served by the fallback');
    assert.equal((JSON.parse(west.requests[0]!.body.toString('utf8')) as Record<string, unknown>).projectIdentifier, 'default');

    await assert.rejects(
      client.send(new ConverseCommand({ modelId: 'nova-east', messages, projectIdentifier: DEFAULT_ARN })),
      (error: unknown) => error instanceof ThrottlingException,
      "the primary's own failure: the fallback in us-west-2 cannot take a us-east-1 project",
    );
    assert.equal(west.requests.length, 1, 'the fallback was never called');
    const skipped = h.logs.find((l) => l.msg === 'fallback skipped');
    assert.equal(skipped?.alias, 'nova-west');
    assert.match(String(skipped?.why), /^projectIdentifier: the project .* is in us-east-1, and "nova-west" is served in us-west-2/);
  }));
