// Nova's own InvokeModel body on the native surface (docs/contract.md#bedrock-native): an AWS SDK app's
// invokeModel / invokeModelWithResponseStream with `schemaVersion: "messages-v1"` to Nova micro / lite / Nova 2
// (an alias, SPEC's own `eu.amazon.nova-micro-v1:0` as a direct id, a converse alias of Nova), text and tool
// use, answers parsed as AWS's Nova guide says; the exact body Bedrock receives; Bedrock's 400 for a member
// Nova's body does not take, before any call; guardrail blocks before and after the commit; a fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { EVENT_STREAM, startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { chunkPayload, eventFrame } from '../../src/emulator/frames.ts';
import { assertBlockedLast, decodeFrames, invokeJson, invokeStreamJson } from './bedrock-native-helpers.ts';

const NOVA = { name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-micro-v1:0', region: 'us-east-1' };
const NOVA_CONVERSE = { name: 'nova-converse', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' };
const NOVA2 = { name: 'nova2', model: 'bedrock/invoke/us.amazon.nova-2-lite-v1:0', region: 'us-east-1' };

type Json = Record<string, unknown>;

const invoke = invokeJson;
const stream = invokeStreamJson;

function novaBody(text: string, extra: Json = {}): Json {
  return {
    schemaVersion: 'messages-v1',
    system: [{ text: 'Be brief.' }],
    messages: [{ role: 'user', content: [{ text }] }],
    inferenceConfig: { maxTokens: 200, temperature: 0.5, topP: 0.9, topK: 20 },
    ...extra,
  };
}

const textOf = (chunks: Json[]): string =>
  chunks.map((c) => (c.contentBlockDelta as { delta?: { text?: string } } | undefined)?.delta?.text ?? '').join('');

async function withRig(config: Json, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [NOVA, NOVA_CONVERSE, NOVA2], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const lastLine = (h: Harness): Json => h.logs.filter((l) => l.msg === 'request completed').at(-1)!;

test("invokeModel with Nova's body: Nova's answer, and the app's body reaches Bedrock as it was", () =>
  withRig({}, async (h) => {
    const answer = await invoke(h, 'nova-invoke', novaBody('hello 🌍'));
    assert.deepEqual(answer.output, { message: { role: 'assistant', content: [{ text: defaultReplyText('hello 🌍') }] } });
    assert.equal(answer.stopReason, 'end_turn');
    const usage = answer.usage as { inputTokens: number; outputTokens: number; totalTokens: number };
    assert.equal(usage.totalTokens, usage.inputTokens + usage.outputTokens);
    assert.equal(answer.metrics, undefined, "Converse's metrics are not Nova's");
    assert.deepEqual(h.emu.requests.at(-1)!.json, novaBody('hello 🌍'));
    assert.equal(h.emu.requests.at(-1)!.operation, 'InvokeModel');
    const line = lastLine(h);
    assert.deepEqual([line.surface, line.alias, line.status, line.route], ['native', 'nova-invoke', 200, 'invoke']);

    // SPEC's own example id, direct (allow_direct_models), with the spelling many callers use.
    const direct = await invoke(h, 'eu.amazon.nova-micro-v1:0', {
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      inferenceConfig: { max_new_tokens: 10 },
    });
    assert.equal(((direct.output as Json).message as { content: Array<{ text: string }> }).content[0]!.text, defaultReplyText('hi'));
    assert.equal(h.emu.requests.at(-1)!.modelId, 'eu.amazon.nova-micro-v1:0');
  }));

test("invokeModelWithResponseStream with Nova's body: Nova's chunks, metadata last with the invocation metrics", () =>
  withRig({}, async (h) => {
    h.emu.script({ type: 'text', text: 'one two three', usage: { inputTokens: 9, outputTokens: 4 } });
    const chunks = await stream(h, 'nova-invoke', novaBody('count'));
    assert.deepEqual(chunks[0], { messageStart: { role: 'assistant' } });
    assert.equal(textOf(chunks), 'one two three');
    assert.deepEqual(chunks.at(-2), { messageStop: { stopReason: 'end_turn' } });
    const last = chunks.at(-1)!;
    assert.deepEqual((last.metadata as Json).usage, {
      inputTokens: 9,
      outputTokens: 4,
      cacheReadInputTokenCount: 0,
      cacheWriteInputTokenCount: 0,
    });
    const metrics = last['amazon-bedrock-invocationMetrics'] as Json;
    assert.deepEqual([metrics.inputTokenCount, metrics.outputTokenCount], [9, 4]);
    assert.equal(typeof metrics.invocationLatency, 'number');
    for (const c of chunks) assert.equal(Object.keys(c).filter((k) => k !== 'amazon-bedrock-invocationMetrics').length, 1);
    assert.equal(h.emu.requests.at(-1)!.operation, 'InvokeModelWithResponseStream');
    assert.deepEqual(h.emu.requests.at(-1)!.json, novaBody('count'));
  }));

test('Nova tool use on invoke, whole and streamed: toolUse blocks, stopReason tool_use, the result turned back', () =>
  withRig({}, async (h) => {
    const toolConfig = {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'the weather in a city today',
            inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        },
      ],
      toolChoice: { auto: {} },
    };
    const call = { type: 'tool_use' as const, text: 'Checking.', calls: [{ id: 't-1', name: 'get_weather', input: { city: 'Paris' } }] };
    h.emu.script(call);
    const whole = await invoke(h, 'nova-invoke', novaBody('weather?', { toolConfig }));
    assert.equal(whole.stopReason, 'tool_use');
    const content = ((whole.output as Json).message as { content: Json[] }).content;
    assert.deepEqual(content.at(-1), { toolUse: { toolUseId: 't-1', name: 'get_weather', input: { city: 'Paris' } } });

    h.emu.script(call);
    const chunks = await stream(h, 'nova-invoke', novaBody('weather?', { toolConfig }));
    const start = chunks.find((c) => c.contentBlockStart)!.contentBlockStart as { start: { toolUse: Json }; contentBlockIndex: number };
    assert.deepEqual(start.start.toolUse, { toolUseId: 't-1', name: 'get_weather' });
    const input = chunks
      .map((c) => c.contentBlockDelta as { delta: { toolUse?: { input: string } }; contentBlockIndex: number } | undefined)
      .filter((d) => d?.contentBlockIndex === start.contentBlockIndex && d.delta.toolUse)
      .map((d) => d!.delta.toolUse!.input)
      .join('');
    assert.deepEqual(JSON.parse(input), { city: 'Paris' });
    assert.deepEqual(
      chunks.find((c) => c.messageStop),
      { messageStop: { stopReason: 'tool_use' } },
    );

    // The next turn: the assistant's toolUse and the user's toolResult, as Nova's body carries them.
    const next = novaBody('ok', {
      toolConfig,
      messages: [
        { role: 'user', content: [{ text: 'weather?' }] },
        {
          role: 'assistant',
          content: [{ text: 'Checking.' }, { toolUse: { toolUseId: 't-1', name: 'get_weather', input: { city: 'Paris' } } }],
        },
        { role: 'user', content: [{ toolResult: { toolUseId: 't-1', content: [{ json: { sky: 'clear' } }], status: 'success' } }] },
      ],
    });
    await invoke(h, 'nova-invoke', next);
    assert.deepEqual(h.emu.requests.at(-1)!.json, next);
  }));

test('a converse alias of Nova and Nova 2 on invoke: the neutral reading goes to Converse, the answer is still Nova’s', () =>
  withRig({}, async (h) => {
    const answer = await invoke(h, 'nova-converse', novaBody('via converse'));
    assert.equal(h.emu.requests.at(-1)!.operation, 'Converse');
    const sent = h.emu.requests.at(-1)!.json as Json;
    assert.deepEqual(sent.inferenceConfig, { maxTokens: 200, temperature: 0.5, topP: 0.9 });
    assert.deepEqual(sent.additionalModelRequestFields, { inferenceConfig: { topK: 20 } });
    assert.deepEqual(answer.output, { message: { role: 'assistant', content: [{ text: defaultReplyText('via converse') }] } });
    assert.equal(answer.metrics, undefined);
    const chunks = await stream(h, 'nova-converse', novaBody('streamed'));
    assert.equal(textOf(chunks), defaultReplyText('streamed'));
    assert.ok(chunks.at(-1)!.metadata);

    // Nova 2's reasoningConfig rides in the app's body as it was.
    const reasoning = novaBody('think', {
      inferenceConfig: { maxTokens: 500, reasoningConfig: { type: 'enabled', maxReasoningEffort: 'low' } },
    });
    await invoke(h, 'nova2', reasoning);
    assert.deepEqual(h.emu.requests.at(-1)!.json, reasoning);
  }));

test("a member Nova's body does not take is Bedrock's 400 ValidationException naming it, before any call", () =>
  withRig({}, async (h) => {
    for (const [body, message] of [
      [novaBody('x', { stream: true }), /#: extraneous key \[stream\] is not permitted/],
      [
        novaBody('x', { anthropic_version: 'bedrock-2023-05-31', max_tokens: 5 }),
        /extraneous key \[anthropic_version\].*extraneous key \[max_tokens\]/,
      ],
      [novaBody('x', { inferenceConfig: { maxTokens: 5, max_tokens: 5 } }), /#\/inferenceConfig: extraneous key \[max_tokens\]/],
    ] as const) {
      await assert.rejects(
        invoke(h, 'nova-invoke', body),
        (error: unknown) => error instanceof ValidationException && message.test(error.message),
      );
    }
    const res = await fetch(`${h.url}/model/nova-invoke/invoke-with-response-stream`, {
      method: 'POST',
      body: JSON.stringify(novaBody('x', { model: 'm' })),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.equal(h.emu.requests.length, 0);
  }));

test('the exact body Bedrock receives: the app’s, sidecar parameters out, the alias’s extra fields merged', async () => {
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    for (const event of [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { text: 'Hi' }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'end_turn' } },
      {
        metadata: { usage: { inputTokens: 3, outputTokens: 1 }, metrics: {}, trace: {} },
        'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 1 },
      },
    ])
      res.write(eventFrame('chunk', chunkPayload(JSON.stringify(event), '')));
    res.end();
  });
  const alias = { ...NOVA, additional_model_request_fields: { inferenceConfig: { topK: 5 } } };
  const h = await startHarness({ models: [alias] }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    const body = novaBody('hi', { stream_chunk_size: 64, guardrails: [] });
    const res = await fetch(`${h.url}/model/nova-invoke/invoke-with-response-stream`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), EVENT_STREAM);
    const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
    assert.ok(frames.every((f) => f.headers[':event-type'] === 'chunk'));
    const seen = upstream.requests[0]!;
    assert.equal(seen.path, '/model/us.amazon.nova-micro-v1%3A0/invoke-with-response-stream');
    const text = seen.body.toString('utf8');
    assert.ok(!text.includes('stream_chunk_size') && !text.includes('guardrails'));
    assert.deepEqual(JSON.parse(text), { ...novaBody('hi'), inferenceConfig: { maxTokens: 200, temperature: 0.5, topP: 0.9, topK: 5 } });
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('guardrails on Nova: a block before the commit is the 400, after it the exception frame the SDK raises', () =>
  withRig(
    {
      guardrails: [{ name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] }],
      models: [{ ...NOVA, name: 'guarded', guardrails: ['no-birds'] }],
    },
    async (h) => {
      await assert.rejects(
        invoke(h, 'guarded', novaBody('tell me of the Nightingale')),
        (error: unknown) => error instanceof ValidationException && error.message === 'Violated guardrail policy',
      );
      assert.equal(h.emu.requests.length, 0);

      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      await assert.rejects(
        stream(h, 'guarded', novaBody('sing')),
        (error: unknown) => error instanceof ValidationException && error.message.includes('Violated guardrail policy'),
      );
      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, {
        method: 'POST',
        body: JSON.stringify(novaBody('sing')),
      });
      assert.equal(res.status, 200);
      const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
      assertBlockedLast(frames, 'no-birds');
    },
  ));

test('a throttled Nova invoke alias fails over to its fallback, a converse alias of Nova in another region', async () => {
  const west = await startTestEmulator();
  const h = await startHarness({
    upstream: { max_attempts: 1 },
    models: [
      { ...NOVA, fallbacks: ['nova-west'] },
      { name: 'nova-west', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-west-2', endpoint: west.url },
    ],
  });
  try {
    h.emu.setBehavior({ kind: 'throttle' });
    const chunks = await stream(h, 'nova-invoke', novaBody('fail over'));
    assert.equal(textOf(chunks), defaultReplyText('fail over'));
    assert.equal(west.requests.length, 1);
    assert.equal(west.requests[0]!.operation, 'ConverseStream');
    assert.deepEqual([lastLine(h).alias, lastLine(h).servedBy], ['nova-invoke', 'nova-west']);
  } finally {
    await h.close();
    await west.close();
  }
});
