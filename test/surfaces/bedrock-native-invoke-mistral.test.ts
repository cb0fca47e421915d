// Mistral's chat-completion body on the native surface (docs/contract.md#bedrock-native): Mistral Large 2 (24.07)
// through the AWS SDK's BedrockRuntimeClient, whole and streamed, text and tool use, answered in Mistral's own
// `choices[].message` shapes; the exact body Bedrock receives; Bedrock's 400 for a member the body does not take,
// before any call; a converse alias given the neutral reading; guardrail blocks before and after the commit; the
// Mistral chat models whose invoke body no AWS page shows (Large 3) still refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { chunkPayload, eventFrame } from '../../src/emulator/frames.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { EVENT_STREAM, startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { assertBlockedLast, decodeFrames, invokeJson, invokeStreamJson } from './bedrock-native-helpers.ts';

type Json = Record<string, unknown>;

const invoke = invokeJson;
const stream = invokeStreamJson;

const LARGE = { name: 'large', model: 'bedrock/invoke/mistral.mistral-large-2407-v1:0', region: 'us-west-2' };
const LARGE_CONVERSE = { name: 'large-converse', model: 'bedrock/converse/mistral.mistral-large-2407-v1:0', region: 'us-west-2' };
const LARGE_3 = { name: 'large-3', model: 'bedrock/invoke/mistral.mistral-large-3-675b-instruct', region: 'us-west-2' };

async function withRig(config: Json, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [LARGE, LARGE_CONVERSE, LARGE_3], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

function mistralBody(text: string, extra: Json = {}): Json {
  return {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: text },
    ],
    max_tokens: 200,
    temperature: 0.5,
    top_p: 0.9,
    ...extra,
  };
}

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

type Choice = { index: number; message: Json; stop_reason: string | null; finish_reason: string | null };
const choice = (c: Json): Choice => (c.choices as Choice[])[0]!;
const textOf = (chunks: Json[]): string => chunks.map((c) => (choice(c).message.content as string | undefined) ?? '').join('');

test("invokeModel with Mistral's chat body on Large 2407: Mistral's answer, and Bedrock receives the app's body", () =>
  withRig({}, async (h) => {
    const body = mistralBody('hello mistral');
    const answer = await invoke(h, 'large', body);
    assert.deepEqual(answer, {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: defaultReplyText('hello mistral') },
          stop_reason: 'stop',
          finish_reason: 'stop',
        },
      ],
    });
    const sent = h.emu.requests.at(-1)!;
    assert.equal(sent.operation, 'InvokeModel');
    assert.deepEqual(sent.json, body);
    const line = h.logs.filter((l) => l.msg === 'request completed').at(-1)!;
    assert.deepEqual([line.surface, line.alias, line.status, line.route], ['native', 'large', 200, 'invoke']);
  }));

test('invokeModelWithResponseStream on Large 2407: message chunks, the last with the stop reason and the metrics', () =>
  withRig({}, async (h) => {
    h.emu.script({ type: 'text', text: 'one two three', usage: { inputTokens: 7, outputTokens: 3 } });
    const chunks = await stream(h, 'large', mistralBody('count', { stream_chunk_size: 64 }));
    assert.equal(textOf(chunks), 'one two three');
    assert.ok(chunks.slice(0, -1).every((c) => choice(c).stop_reason === null && choice(c).message.role === 'assistant'));
    const last = chunks.at(-1)!;
    assert.deepEqual([choice(last).stop_reason, choice(last).finish_reason], ['stop', 'stop']);
    const metrics = last['amazon-bedrock-invocationMetrics'] as Json;
    assert.deepEqual([metrics.inputTokenCount, metrics.outputTokenCount], [7, 3]);
    const sent = h.emu.requests.at(-1)!;
    assert.equal(sent.operation, 'InvokeModelWithResponseStream');
    assert.deepEqual(sent.json, mistralBody('count'), 'the sidecar parameter left the body');
  }));

test('Large 2407 tool use on invoke, whole and streamed: the calls whole, stop reason tool_calls, the result turned back', () =>
  withRig({}, async (h) => {
    const call = { type: 'tool_use' as const, calls: [{ id: 'abcDEF123', name: 'get_weather', input: { city: 'Paris' } }] };
    const expected = [{ id: 'abcDEF123', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }];
    h.emu.script(call);
    const body = mistralBody('weather?', { tools: [WEATHER], tool_choice: 'any' });
    const whole = await invoke(h, 'large', body);
    assert.equal(choice(whole).stop_reason, 'tool_calls');
    assert.deepEqual(choice(whole).message.tool_calls, expected);
    assert.deepEqual(h.emu.requests.at(-1)!.json, body, "Mistral's `any` goes as the app wrote it");

    h.emu.script(call);
    const chunks = await stream(h, 'large', body);
    const withCalls = chunks.filter((c) => choice(c).message.tool_calls !== undefined);
    assert.equal(withCalls.length, 1, 'the calls come whole, in one chunk');
    assert.deepEqual(choice(withCalls[0]!).message.tool_calls, expected);
    assert.equal(choice(chunks.at(-1)!).stop_reason, 'tool_calls');

    const next = mistralBody('ok', {
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'abcDEF123', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'abcDEF123', content: '{"sky":"clear"}' },
      ],
    });
    await invoke(h, 'large', next);
    assert.deepEqual(h.emu.requests.at(-1)!.json, next);
  }));

test("a member Mistral's chat body does not take is Bedrock's 400 naming it, before any call; Large 3's body is still refused", () =>
  withRig({}, async (h) => {
    for (const [model, body, message] of [
      ['large', mistralBody('x', { stop: ['\n'] }), /#: extraneous key \[stop\] is not permitted/],
      ['large', mistralBody('x', { top_k: 5 }), /#: extraneous key \[top_k\] is not permitted/],
      ['large', mistralBody('x', { stream: true }), /#: extraneous key \[stream\] is not permitted/],
      ['large', { prompt: '<s>[INST] hi [/INST]' }, /#: extraneous key \[prompt\] is not permitted/],
      ['large', { max_tokens: 5 }, /#: required key \[messages\] not found/],
      ['large', mistralBody('x', { tools: [WEATHER], tool_choice: 'required' }), /tool_choice: must be "auto", "any" or "none"/],
      ['large-3', mistralBody('x'), /Mistral Large 2 \(24\.07\) and Pixtral Large.*mistral\.mistral-large-3-675b-instruct.*Converse/],
    ] as const) {
      await assert.rejects(
        invoke(h, model, body),
        (error: unknown) => error instanceof ValidationException && message.test(error.message),
        `${model} ${JSON.stringify(body)}`,
      );
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test("a converse alias of Large 2407 gets the neutral reading of Mistral's body; the answer is still Mistral's", () =>
  withRig({}, async (h) => {
    const answer = await invoke(h, 'large-converse', mistralBody('via converse', { tools: [WEATHER], tool_choice: 'any' }));
    const sent = h.emu.requests.at(-1)!;
    assert.equal(sent.operation, 'Converse');
    const json = sent.json as Json;
    assert.deepEqual(json.system, [{ text: 'Be brief.' }]);
    assert.deepEqual(json.inferenceConfig, { maxTokens: 200, temperature: 0.5, topP: 0.9 });
    assert.deepEqual((json.toolConfig as Json).toolChoice, { any: {} });
    assert.equal(choice(answer).message.content, defaultReplyText('via converse'));
    const chunks = await stream(h, 'large-converse', mistralBody('streamed'));
    assert.equal(textOf(chunks), defaultReplyText('streamed'));
    assert.ok(chunks.at(-1)!['amazon-bedrock-invocationMetrics']);
  }));

test('the exact body Bedrock receives: the app’s, the sidecar parameters out; its stream read, finish_reason or stop_reason', async () => {
  const upstream = await startHostileUpstream((req, res) => {
    if (req.url?.endsWith('/invoke')) {
      // What callers that met real answers read: the reason as `finish_reason`.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    for (const event of [
      { choices: [{ index: 0, message: { role: 'assistant', content: 'Bon' }, stop_reason: null }] },
      { choices: [{ index: 0, message: { role: 'assistant', content: 'jour' }, stop_reason: null }] },
      {
        choices: [{ index: 0, message: { role: 'assistant', content: '' }, stop_reason: 'length' }],
        'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 2 },
      },
    ])
      res.write(eventFrame('chunk', chunkPayload(JSON.stringify(event), '')));
    res.end();
  });
  const h = await startHarness({ models: [LARGE] }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    const body = mistralBody('hi', { tools: [WEATHER], tool_choice: 'none', stream_chunk_size: 64, guardrails: [] });
    const whole = await fetch(`${h.url}/model/large/invoke`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(whole.status, 200);
    assert.deepEqual(choice((await whole.json()) as Json).message, { role: 'assistant', content: 'Hi' });
    const res = await fetch(`${h.url}/model/large/invoke-with-response-stream`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    const chunks = decodeFrames(Buffer.from(await res.arrayBuffer())).map(
      (f) => JSON.parse(Buffer.from((f.payload as Json).bytes as string, 'base64').toString('utf8')) as Json,
    );
    assert.equal(textOf(chunks), 'Bonjour');
    assert.equal(choice(chunks.at(-1)!).stop_reason, 'length');
    const sent = mistralBody('hi', { tools: [WEATHER], tool_choice: 'none' });
    assert.deepEqual(
      upstream.requests.map((r) => [r.path, JSON.parse(r.body.toString('utf8')) as unknown]),
      [
        ['/model/mistral.mistral-large-2407-v1%3A0/invoke', sent],
        ['/model/mistral.mistral-large-2407-v1%3A0/invoke-with-response-stream', sent],
      ],
    );
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('guardrails on Large 2407: a block before the commit is the 400, after it the exception frame; a mask is sent masked', () =>
  withRig(
    {
      guardrails: [
        { name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] },
        { name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' },
      ],
      models: [{ ...LARGE, name: 'guarded', guardrails: ['no-birds', 'mask-ids'] }],
    },
    async (h) => {
      await assert.rejects(
        invoke(h, 'guarded', mistralBody('tell me of the Nightingale')),
        (error: unknown) => error instanceof ValidationException && error.message === 'Violated guardrail policy',
      );
      assert.equal(h.emu.requests.length, 0);

      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, {
        method: 'POST',
        body: JSON.stringify(mistralBody('sing')),
      });
      assert.equal(res.status, 200);
      assertBlockedLast(decodeFrames(Buffer.from(await res.arrayBuffer())), 'no-birds');

      await invoke(h, 'guarded', mistralBody('my id is 123-45-6789'));
      const sent = h.emu.requests.at(-1)!.json as { messages: Json[] };
      assert.deepEqual(sent.messages.at(-1), { role: 'user', content: 'my id is [REDACTED]' });
    },
  ));

test("Pixtral Large through a profile takes Mistral's chat body too; a fallback to a prompt model gets the neutral reading", async () => {
  const other = await startTestEmulator();
  const PIXTRAL = { name: 'pixtral', model: 'bedrock/invoke/us.mistral.pixtral-large-2502-v1:0', region: 'us-east-1' };
  const SMALL = { name: 'small', model: 'bedrock/invoke/mistral.mistral-7b-instruct-v0:2', region: 'us-east-1', endpoint: other.url };
  const h = await startHarness({ upstream: { max_attempts: 1 }, models: [PIXTRAL, { ...LARGE, fallbacks: ['small'] }, SMALL] });
  try {
    const body = mistralBody('hello pixtral');
    const answer = await invoke(h, 'pixtral', body);
    assert.equal(choice(answer).message.content, defaultReplyText('hello pixtral'));
    assert.deepEqual(
      [h.emu.requests.at(-1)!.operation, h.emu.requests.at(-1)!.modelId],
      ['InvokeModel', 'us.mistral.pixtral-large-2502-v1:0'],
    );
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);

    // Large 2407 throttled: Mistral 7B, a prompt model, is sent a prompt in its template, not the chat body.
    h.emu.setBehavior({ kind: 'throttle' });
    const failedOver = await invoke(h, 'large', mistralBody('fail over'));
    assert.match(String(choice(failedOver).message.content), /fail over/);
    assert.equal(choice(failedOver).stop_reason, 'stop', "the prompt model's answer, told in Mistral's chat shape");
    const sent = other.requests.at(-1)!.json as Json;
    assert.deepEqual(Object.keys(sent).sort(), ['max_tokens', 'prompt', 'temperature', 'top_p']);
    assert.match(String(sent.prompt), /\[INST\][\s\S]*fail over[\s\S]*\[\/INST\]/);
  } finally {
    await h.close();
    await other.close();
  }
});
