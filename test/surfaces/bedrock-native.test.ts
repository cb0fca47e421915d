// The Bedrock Runtime native surface (docs/contract.md#bedrock-native) driven by the AWS SDK's own
// BedrockRuntimeClient, unchanged but for its endpoint (and credentials the sidecar must never forward),
// against the sidecar in front of the emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApplyGuardrailCommand,
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  ResourceNotFoundException,
  ValidationException,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { defaultReplyText, type ScriptedReply } from '../../src/emulator/index.ts';
import { startHarness, TEST_CREDENTIALS, type Harness } from '../helpers/harness.ts';
import { otherCredentials } from '../helpers/credentials.ts';

/** The app's own credentials: they must never reach Bedrock. */
/** The app's own AWS key: the sidecar must not pass it on. */
const CLIENT_KEY = otherCredentials('app-client');

const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' };
const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };

function client(h: Harness, extra: Partial<ConstructorParameters<typeof BedrockRuntimeClient>[0]> = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: h.url,
    credentials: CLIENT_KEY,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
    ...extra,
  });
}

async function collect(stream: AsyncIterable<ConverseStreamOutput> | undefined): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream ?? []) events.push(event);
  return events;
}

async function withRig(config: Record<string, unknown>, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [NOVA, CLAUDE], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

test('converse and converse-stream through the SDK: text, usage, the alias and the model id both name the model', async () => {
  await withRig({}, async (h) => {
    const sdk = client(h);
    for (const modelId of ['nova', 'us.amazon.nova-lite-v1:0', 'claude']) {
      const answer = await sdk.send(
        new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hello 🌍' }] }], inferenceConfig: { maxTokens: 50 } }),
      );
      assert.equal(answer.output?.message?.content?.[0]?.text, defaultReplyText('hello 🌍'), modelId);
      assert.equal(answer.stopReason, 'end_turn');
      assert.equal(answer.usage!.totalTokens, answer.usage!.inputTokens! + answer.usage!.outputTokens!);
      assert.equal(typeof answer.metrics?.latencyMs, 'number');

      const out = await sdk.send(new ConverseStreamCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'stream me' }] }] }));
      const events = await collect(out.stream);
      assert.equal(events[0]?.messageStart?.role, 'assistant');
      assert.equal(events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join(''), defaultReplyText('stream me'));
      assert.equal(events.at(-2)?.messageStop?.stopReason, 'end_turn');
      assert.equal(typeof events.at(-1)?.metadata?.usage?.outputTokens, 'number');
    }
    const lines = h.logs.filter((l) => l.msg === 'request completed');
    assert.ok(lines.length >= 6 && lines.every((l) => l.surface === 'native' && l.status === 200));
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    assert.match(metrics, /sidecar_requests_total\{model="nova",route="converse",status="200",surface="native"\} 4/);
    assert.match(metrics, /sidecar_requests_total\{model="claude",route="invoke",status="200",surface="native"\} 2/);
  });
});

test('converse-stream: tool use with its input in pieces, and a tool result turned back into the next request', async () => {
  await withRig({}, async (h) => {
    h.emu.script({ type: 'tool_use', text: 'Checking.', calls: [{ name: 'get_weather', input: { city: 'Zürich' } }] });
    const sdk = client(h);
    const toolConfig = {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'weather',
            inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        },
      ],
    };
    const out = await sdk.send(
      new ConverseStreamCommand({ modelId: 'claude', messages: [{ role: 'user', content: [{ text: 'weather?' }] }], toolConfig }),
    );
    const events = await collect(out.stream);
    const start = events.find((e) => e.contentBlockStart)?.contentBlockStart;
    assert.equal(start?.start?.toolUse?.name, 'get_weather');
    const input = events
      .filter((e) => e.contentBlockDelta?.delta?.toolUse)
      .map((e) => e.contentBlockDelta!.delta!.toolUse!.input)
      .join('');
    assert.deepEqual(JSON.parse(input), { city: 'Zürich' });
    assert.equal(events.find((e) => e.messageStop)?.messageStop?.stopReason, 'tool_use');

    const id = start.start.toolUse.toolUseId!;
    const answer = await sdk.send(
      new ConverseCommand({
        modelId: 'nova',
        toolConfig,
        messages: [
          { role: 'user', content: [{ text: 'weather?' }] },
          { role: 'assistant', content: [{ toolUse: { toolUseId: id, name: 'get_weather', input: { city: 'Zürich' } } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ json: { sky: 'clear' } }] } }] },
        ],
      }),
    );
    assert.equal(answer.stopReason, 'end_turn');
    const upstream = h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> };
    assert.deepEqual(upstream.messages[2]!.content[0], { toolResult: { toolUseId: id, content: [{ text: '{"sky":"clear"}' }] } });
  });
});

test("errors are Bedrock's: an unknown key and an unknown model are the SDK's named exceptions, before any call", async () => {
  await withRig({ routing: { allow_direct_models: false } }, async (h) => {
    const sdk = client(h);
    const raw = await fetch(`${h.url}/model/nova/converse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x' }] }], temperature: 1 }),
    });
    assert.equal(raw.status, 400);
    assert.equal(raw.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.deepEqual(Object.keys((await raw.json()) as object), ['message']);
    await assert.rejects(
      sdk.send(
        new ConverseCommand({
          modelId: 'nova',
          messages: [{ role: 'user', content: [{ text: 'x' }] }],
          additionalModelRequestFields: { frobnicate: 1 },
        }),
      ),
      (error: unknown) => error instanceof ValidationException && /frobnicate/.test(error.message),
    );
    await assert.rejects(
      sdk.send(new ConverseCommand({ modelId: 'no-such-model', messages: [{ role: 'user', content: [{ text: 'x' }] }] })),
      (error: unknown) => error instanceof ResourceNotFoundException && /no-such-model/.test(error.message),
    );
    assert.equal(h.emu.requests.length, 0);
  });
});

test("an operation the sidecar does not serve is Bedrock's 404 UnknownOperationException, never OpenAI's error body", async () => {
  await withRig({}, async (h) => {
    const unknownOperation = (error: unknown): boolean =>
      error instanceof BedrockRuntimeServiceException &&
      error.name === 'UnknownOperationException' &&
      error.$fault === 'client' &&
      error.$metadata.httpStatusCode === 404 &&
      /no route for POST \/(model|guardrail)\//.test(error.message);
    const sdk = client(h);
    // An operation the SDK has and the sidecar does not serve (ApplyGuardrail: /guardrail/{id}/version/{v}/apply).
    await assert.rejects(
      sdk.send(new ApplyGuardrailCommand({ guardrailIdentifier: 'g1', guardrailVersion: '1', source: 'INPUT', content: [] })),
      unknownOperation,
    );
    // An operation the SDK does not have: its own Converse request, signed, on /model/nova/frob.
    const frob = new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'x' }] }] });
    frob.middlewareStack.add(
      (next) => (args) => {
        (args.request as { path: string }).path = '/model/nova/frob';
        return next(args);
      },
      { step: 'build' },
    );
    await assert.rejects(sdk.send(frob), unknownOperation);

    for (const [method, path] of [
      ['POST', '/model/nova/frob'],
      ['GET', '/model/nova/frob'],
      ['POST', '/model/nova'],
      ['POST', '/model/'],
      ['POST', '/model/nova/converse/extra'],
      ['GET', '/inference-profiles/'],
      ['POST', '/async-invoke'],
      ['GET', '/async-invoke/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aasync-invoke%2Fx'],
    ] as const) {
      const answer = await fetch(`${h.url}${path}`, { method, headers: { 'content-type': 'application/json', 'x-request-id': 'rid-1' } });
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.headers.get('x-amzn-errortype'), 'UnknownOperationException', `${method} ${path}`);
      assert.equal(answer.headers.get('x-amzn-requestid'), 'rid-1');
      assert.deepEqual(await answer.json(), { message: `no route for ${method} ${path}` });
    }
    // Outside Bedrock's namespace an unknown path keeps OpenAI's shape.
    for (const path of ['/v1/frob', '/models-of-mine', '/modelx/nova/converse']) {
      const answer = await fetch(`${h.url}${path}`, { method: 'POST' });
      assert.equal(answer.status, 404, path);
      assert.equal(answer.headers.get('x-amzn-errortype'), null, path);
      assert.equal(((await answer.json()) as { error: { type: string } }).error.type, 'not_found', path);
    }
    assert.equal(h.emu.requests.length, 0);
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    assert.match(metrics, /sidecar_requests_total\{model="unknown",route="none",status="404",surface="native"\} 10/);
    const lines = h.logs.filter((l) => l.msg === 'request completed' && l.status === 404 && l.surface === 'native');
    assert.equal(lines.length, 10);
  });
});

test("the inference-profile lookups refuse in Bedrock's shape too: 405, and 401 with server.auth_token", async () => {
  await withRig({ server: { auth_token: 'sidecar-token-1' } }, async (h) => {
    const auth = { authorization: 'Bearer sidecar-token-1' };
    const wrongMethod = await fetch(`${h.url}/inference-profiles`, { method: 'POST', headers: auth });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
    assert.match(((await wrongMethod.json()) as { message: string }).message, /POST is not allowed on \/inference-profiles/);
    const noToken = await fetch(`${h.url}/inference-profiles`);
    assert.equal(noToken.status, 401);
    assert.equal(noToken.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
    assert.deepEqual(Object.keys((await noToken.json()) as object), ['message']);
    const missing = await fetch(`${h.url}/inference-profiles/p1`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-amzn-errortype'), 'ResourceNotFoundException', 'a missing profile is a missing resource');
    assert.ok(missing.headers.get('x-amzn-requestid'));
    // An unknown operation is answered before authentication, as every unknown path is.
    const unknown = await fetch(`${h.url}/model/nova/frob`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  });
});

test("a wrong method on an operation's path is a 405 in Bedrock's shape, with allow: POST, before any call (README Decisions)", async () => {
  await withRig({}, async (h) => {
    for (const operation of ['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream', 'count-tokens']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const path = `/model/nova/${operation}`;
        const answer = await fetch(`${h.url}${path}`, { method, headers: { 'x-request-id': `rid-${method}-${operation}` } });
        assert.equal(answer.status, 405, `${method} ${path}`);
        assert.equal(answer.headers.get('allow'), 'POST');
        assert.equal(answer.headers.get('x-amzn-errortype'), 'ValidationException');
        assert.equal(answer.headers.get('x-amzn-requestid'), `rid-${method}-${operation}`);
        assert.deepEqual(await answer.json(), { message: `${method} is not allowed on ${path} (allowed: POST)` });
      }
    }
    assert.equal(h.emu.requests.length, 0);
    const lines = h.logs.filter((l) => l.msg === 'request completed' && l.status === 405 && l.surface === 'native');
    assert.equal(lines.length, 15);
  });
});

test('converse and converse-stream: several reasoning blocks in one answer each keep their own signature and place', async () => {
  await withRig({}, async (h) => {
    const sdk = client(h);
    const answer: ScriptedReply = {
      type: 'tool_use',
      reasoning: 'First thought.',
      calls: [
        { id: 't1', name: 'lookup', input: { q: 'a' } },
        { id: 't2', name: 'lookup', input: { q: 'b' }, reasoning: 'Second thought.' },
      ],
    };
    const ask = { modelId: 'claude', messages: [{ role: 'user' as const, content: [{ text: 'look both up' }] }] };
    h.emu.script(answer);
    const out = await sdk.send(new ConverseStreamCommand(ask));
    const blocks = new Map<number, { text: string; signature?: string; tool?: string }>();
    for (const event of await collect(out.stream)) {
      const start = event.contentBlockStart;
      if (start?.start?.toolUse) blocks.set(start.contentBlockIndex!, { text: '', tool: start.start.toolUse.toolUseId });
      const delta = event.contentBlockDelta;
      if (delta?.delta?.reasoningContent) {
        const block = blocks.get(delta.contentBlockIndex!) ?? { text: '' };
        block.text += delta.delta.reasoningContent.text ?? '';
        if (delta.delta.reasoningContent.signature) block.signature = delta.delta.reasoningContent.signature;
        blocks.set(delta.contentBlockIndex!, block);
      }
    }
    const streamed = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
    assert.deepEqual(
      streamed.map((b) => b.tool ?? b.text),
      ['First thought.', 't1', 'Second thought.', 't2'],
    );
    assert.ok(streamed[0]!.signature && streamed[2]!.signature && streamed[0]!.signature !== streamed[2]!.signature);

    h.emu.script(answer);
    const whole = await sdk.send(new ConverseCommand(ask));
    const content = whole.output?.message?.content ?? [];
    assert.deepEqual(
      content.map((b) => b.reasoningContent?.reasoningText?.text ?? b.toolUse?.toolUseId),
      ['First thought.', 't1', 'Second thought.', 't2'],
    );
    const signatures = content.flatMap((b) => b.reasoningContent?.reasoningText?.signature ?? []);
    assert.equal(new Set(signatures).size, 2, 'two blocks, two signatures');
  });
});

test("the client's credentials never reach Bedrock: the upstream request carries the sidecar's own signature", async () => {
  await withRig({}, async (h) => {
    await client(h).send(new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    const upstream = h.emu.requests[0]!;
    assert.equal(upstream.signature, 'valid'); // verified by the emulator against the sidecar's key
    const headers = JSON.stringify(upstream.headers);
    assert.ok(headers.includes(TEST_CREDENTIALS.accessKeyId));
    assert.ok(!headers.includes(CLIENT_KEY.accessKeyId));
    assert.ok(!headers.includes('amz-sdk-invocation-id') && !headers.includes('amz-sdk-request'));
  });
});

test("with server.auth_token the SDK authenticates with AWS_BEARER_TOKEN_BEDROCK; SigV4 alone is refused in Bedrock's shape", async () => {
  await withRig({ server: { auth_token: 'sidecar-token-1' } }, async (h) => {
    const bearer = client(h, { token: { token: 'sidecar-token-1' }, authSchemePreference: ['httpBearerAuth'] });
    const answer = await bearer.send(new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    assert.equal(answer.stopReason, 'end_turn');
    assert.ok(!JSON.stringify(h.emu.requests[0]!.headers).includes('sidecar-token-1'));
    await assert.rejects(
      client(h).send(new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'x' }] }] })),
      (error: unknown) =>
        (error as { name?: string }).name === 'UnrecognizedClientException' &&
        (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode === 401,
    );
  });
});

test("a Bedrock exception in the stream reaches the SDK by its own name: ConverseStream's and InvokeModelWithResponseStream's", async () => {
  await withRig({ upstream: { max_attempts: 1 } }, async (h) => {
    const sdk = client(h);
    // Each exception frame Bedrock sends after the commit is one the operation declares: the sidecar passes
    // it on under the same name (the SDK raises it by that name), not as an internal error.
    for (const [exceptionType, name] of [
      ['modelStreamErrorException', 'ModelStreamErrorException'],
      ['serviceUnavailableException', 'ServiceUnavailableException'],
      ['throttlingException', 'ThrottlingException'],
    ] as const) {
      h.emu.script({ type: 'text', text: 'a long enough answer to be cut', fault: { afterFrames: 3, kind: 'exception', exceptionType } });
      const out = await sdk.send(new ConverseStreamCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'go' }] }] }));
      const seen: ConverseStreamOutput[] = [];
      await assert.rejects(
        async () => {
          for await (const event of out.stream ?? []) seen.push(event);
        },
        (error: unknown) => (error as Error).name === name,
        exceptionType,
      );
      assert.ok(seen.some((e) => e.contentBlockDelta) && !seen.some((e) => e.messageStop), exceptionType);
    }
    h.emu.script({
      type: 'text',
      text: 'a long enough answer to be cut',
      fault: { afterFrames: 3, kind: 'exception', exceptionType: 'modelTimeoutException' },
    });
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: 'go' }] });
    const out = await sdk.send(new InvokeModelWithResponseStreamCommand({ modelId: 'claude', body: new TextEncoder().encode(body) }));
    await assert.rejects(
      async () => {
        for await (const event of out.body ?? []) assert.ok(event.chunk);
      },
      (error: unknown) => (error as Error).name === 'ModelTimeoutException',
    );
  });
});

test("Bedrock's own error message reaches the SDK word for word, before the commit and in the stream", async () => {
  await withRig({ upstream: { max_attempts: 1 } }, async (h) => {
    const sdk = client(h);
    const converse = new ConverseCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'go' }] }] });
    // An app written against Bedrock matches on Bedrock's words (a max-tokens limit, a quota): the sidecar in
    // between must not reword them, as the other surfaces do ("Bedrock: ThrottlingException: …").
    const refusals = [
      { status: 429, errorType: 'ThrottlingException', message: 'Too many tokens, please wait before trying again.' },
      { status: 400, errorType: 'ValidationException', message: 'Input is too long for requested model.' },
      { status: 424, errorType: 'ModelErrorException', message: 'The model returned an error.' },
    ];
    for (const { status, errorType, message } of refusals) {
      h.emu.script({ type: 'error', status, errorType, message });
      await assert.rejects(
        sdk.send(converse),
        (error: unknown) => (error as Error).name === errorType && (error as Error).message === message,
      );
    }
    h.emu.script({
      type: 'text',
      text: 'a long enough answer to be cut',
      fault: { afterFrames: 3, kind: 'exception', exceptionType: 'modelStreamErrorException', message: 'The model stream broke.' },
    });
    const out = await sdk.send(new ConverseStreamCommand({ modelId: 'nova', messages: [{ role: 'user', content: [{ text: 'go' }] }] }));
    await assert.rejects(
      collect(out.stream),
      (error: unknown) => (error as Error).name === 'ModelStreamErrorException' && (error as Error).message === 'The model stream broke.',
    );
  });
});

test('converse: a document block the SDK sends (inline bytes) reaches Bedrock as it was; other sources are a 400 naming them', async () => {
  await withRig({}, async (h) => {
    const sdk = client(h);
    const bytes = new TextEncoder().encode('%PDF-1.4 a very small report');
    const answer = await sdk.send(
      new ConverseCommand({
        modelId: 'nova',
        messages: [
          {
            role: 'user',
            content: [{ text: 'Summarise the report.' }, { document: { format: 'pdf', name: 'Q3 report', source: { bytes } } }],
          },
        ],
      }),
    );
    assert.equal(answer.stopReason, 'end_turn');
    const upstream = h.emu.requests.at(-1)!.json as { messages: Array<{ content: unknown[] }> };
    assert.deepEqual(upstream.messages[0]!.content, [
      { text: 'Summarise the report.' },
      { document: { format: 'pdf', name: 'Q3 report', source: { bytes: Buffer.from(bytes).toString('base64') } } },
    ]);
    const before = h.emu.requests.length;
    await assert.rejects(
      sdk.send(
        new ConverseCommand({
          modelId: 'nova',
          messages: [
            {
              role: 'user',
              content: [{ text: 'Read it.' }, { document: { format: 'pdf', name: 'r', source: { s3Location: { uri: 's3://b/r.pdf' } } } }],
            },
          ],
        }),
      ),
      (error: unknown) => error instanceof ValidationException && /messages\.0\.content\.1\.document\.source/.test(error.message),
    );
    assert.equal(h.emu.requests.length, before, 'no call for a refused document');
  });
});

test("converse-stream: an output guardrail block after the commit is an exception the SDK raises; before it, Bedrock's 400", async () => {
  const guarded = { ...NOVA, name: 'guarded', guardrails: ['no-birds'] };
  await withRig({ models: [guarded], guardrails: [{ name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] }] }, async (h) => {
    const sdk = client(h);
    h.emu.script({ type: 'text', text: 'a song of the nightingale in the night' });
    const out = await sdk.send(
      new ConverseStreamCommand({ modelId: 'guarded', messages: [{ role: 'user', content: [{ text: 'sing' }] }] }),
    );
    const seen: ConverseStreamOutput[] = [];
    await assert.rejects(
      async () => {
        for await (const event of out.stream ?? []) seen.push(event);
      },
      (error: unknown) => error instanceof ValidationException && /Violated guardrail policy/.test(error.message),
    );
    assert.ok(!seen.some((e) => e.messageStop));

    h.emu.script({ type: 'text', text: 'the nightingale' });
    await assert.rejects(
      sdk.send(new ConverseCommand({ modelId: 'guarded', messages: [{ role: 'user', content: [{ text: 'sing' }] }] })),
      (error: unknown) =>
        error instanceof ValidationException &&
        /Violated guardrail policy/.test(error.message) &&
        (error as { guardrail?: string }).guardrail === 'no-birds',
    );
  });
});

test("converse: the members Bedrock takes go on under the sidecar's rules; those it cannot carry are a 400 naming them", async () => {
  const sonnet = { name: 'sonnet', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
  await withRig({ models: [NOVA, CLAUDE, sonnet] }, async (h) => {
    const post = (model: string, body: Record<string, unknown>): Promise<Response> =>
      fetch(`${h.url}/model/${model}/converse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Closed, as Bedrock's structured outputs take it (an open one is closed on the way: json-schema.ts).
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const body = {
      system: [{ text: 'Be brief.' }, { cachePoint: { type: 'default' } }],
      messages: [
        { role: 'user', content: [{ text: 'Look it up.' }, { cachePoint: { type: 'default' } }] },
        {
          role: 'assistant',
          content: [
            { reasoningContent: { reasoningText: { text: 'I need the tool.', signature: 'c2ln' } } },
            { reasoningContent: { redactedContent: Buffer.from('REDACTED-DATA').toString('base64') } },
            { toolUse: { toolUseId: 't1', name: 'lookup', input: { q: 'x' } } },
          ],
        },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'found' }] } }] },
      ],
      inferenceConfig: { maxTokens: 2048 },
      toolConfig: {
        tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object' } } } }, { cachePoint: { type: 'default' } }],
      },
      additionalModelRequestFields: { top_k: 50, anthropic_beta: ['context-1m-2025-08-07', 'claude-code-20250219'] },
      serviceTier: { type: 'priority' },
      performanceConfig: { latency: 'optimized' },
      requestMetadata: { team: 'search' },
      outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'answer' } } } },
      guardrailConfig: { guardrailIdentifier: 'ignored', guardrailVersion: '1' },
    };
    h.emu.script({ type: 'text', text: '{"answer":"found"}' });
    const res = await post('sonnet', body);
    assert.equal(res.status, 200, await res.clone().text());
    const sent = h.emu.requests.at(-1)!.json as Record<string, unknown>;
    assert.deepEqual(sent.system, body.system);
    assert.deepEqual(sent.messages, body.messages, 'cache points, signed and redacted reasoning as the client sent them');
    assert.deepEqual(sent.toolConfig, body.toolConfig);
    assert.deepEqual(
      sent.additionalModelRequestFields,
      { top_k: 50, anthropic_beta: ['context-1m-2025-08-07'] },
      'betas Bedrock takes only',
    );
    assert.deepEqual(sent.serviceTier, { type: 'priority' });
    assert.deepEqual(sent.performanceConfig, { latency: 'optimized' });
    assert.deepEqual(sent.requestMetadata, { team: 'search' });
    assert.deepEqual(sent.outputConfig, body.outputConfig);
    assert.ok(!('guardrailConfig' in sent), "the alias's guardrails apply, not the client's");

    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'sonnet',
        { additionalModelResponseFieldPaths: ['/stop_sequence'] },
        /^additionalModelResponseFieldPaths: not supported by the sidecar/,
      ],
      ['sonnet', { promptVariables: { a: { text: 'b' } } }, /^promptVariables: not supported/],
      [
        'nova',
        { additionalModelRequestFields: { thinking: { type: 'enabled' } } },
        /^additionalModelRequestFields\.thinking: not a field the sidecar passes to amazon-nova/,
      ],
      [
        'claude',
        { additionalModelRequestFields: { thinking: { type: 'enabled' } } },
        /^additionalModelRequestFields: "claude" is served on the invoke route/,
      ],
      ['nova', { serviceTier: { type: 'gold' } }, /^serviceTier\.type: must be one of default, flex, priority, reserved/],
      ['nova', { performanceConfig: { latency: 'fast' } }, /^performanceConfig\.latency/],
      ['nova', { outputConfig: { effort: 'high' } }, /^outputConfig\.effort: not supported/],
    ];
    const seen = h.emu.requests.length;
    for (const [model, extra, message] of refused) {
      const answer = await post(model, { messages: [{ role: 'user', content: [{ text: 'x' }] }], ...extra });
      assert.equal(answer.status, 400, JSON.stringify(extra));
      assert.equal(answer.headers.get('x-amzn-errortype'), 'ValidationException');
      assert.match(((await answer.json()) as { message: string }).message, message);
    }
    assert.equal(h.emu.requests.length, seen, 'nothing refused reached Bedrock');
  });
});
