// The chat-shaped families' own InvokeModel bodies on the native surface (docs/contract.md#bedrock-native): OpenAI's
// models (gpt-oss, OpenAI's own) through the AWS SDK's BedrockRuntimeClient, whole and streamed, text, reasoning and
// tool use, answers parsed as OpenAI's Chat Completions objects; the exact body Bedrock receives; Bedrock's 400
// for a member the body does not take, before any call; a converse alias given the neutral reading; guardrail
// blocks before and after the commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { chunkPayload, eventFrame } from '../../src/emulator/frames.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { EVENT_STREAM, startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { assertBlockedLast, decodeFrames, invokeJson, invokeStreamJson } from './bedrock-native-helpers.ts';

const GPT_OSS = { name: 'gpt-oss', model: 'bedrock/invoke/openai.gpt-oss-20b-1:0', region: 'us-west-2' };
const GPT_OSS_CONVERSE = { name: 'gpt-oss-converse', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', region: 'us-west-2' };

type Json = Record<string, unknown>;

const invoke = invokeJson;
const stream = invokeStreamJson;

async function withRig(config: Json, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [GPT_OSS, GPT_OSS_CONVERSE], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const lastLine = (h: Harness): Json => h.logs.filter((l) => l.msg === 'request completed').at(-1)!;

function chatBody(text: string, extra: Json = {}): Json {
  return {
    messages: [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: text },
    ],
    max_completion_tokens: 300,
    temperature: 0.5,
    top_p: 0.9,
    ...extra,
  };
}

type Choice = { message: Json; finish_reason: string; delta: Json };
const choice = (c: Json): Choice => (c.choices as Choice[])[0]!;
const contentOf = (chunks: Json[]): string => chunks.map((c) => (choice(c)?.delta?.content as string | undefined) ?? '').join('');

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

test("invokeModel with OpenAI's body on gpt-oss: a chat.completion, reasoning inline, and Bedrock receives the app's body", () =>
  withRig({}, async (h) => {
    const body = chatBody('hello oss', { reasoning_effort: 'low', frequency_penalty: 0.1, logprobs: false });
    const answer = await invoke(h, 'gpt-oss', body);
    assert.equal(answer.object, 'chat.completion');
    assert.match(String(answer.id), /^chatcmpl-/);
    assert.equal(choice(answer).message.content, defaultReplyText('hello oss'));
    assert.equal(choice(answer).finish_reason, 'stop');
    const usage = answer.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.deepEqual(h.emu.requests.at(-1)!.json, body, 'as the app wrote it, penalties and logprobs too');
    assert.equal(h.emu.requests.at(-1)!.operation, 'InvokeModel');
    const line = lastLine(h);
    assert.deepEqual([line.surface, line.alias, line.status, line.route], ['native', 'gpt-oss', 200, 'invoke']);

    // gpt-oss's reasoning goes back where InvokeModel puts it: inline, ahead of the text.
    h.emu.script({ type: 'text', text: 'Four.', reasoning: 'Two and two.' });
    const reasoned = await invoke(h, 'gpt-oss', chatBody('2+2?'));
    assert.equal(choice(reasoned).message.content, '<reasoning>Two and two.</reasoning>Four.');
    assert.equal(choice(reasoned).message.reasoning_content, undefined);
  }));

test('invokeModelWithResponseStream on gpt-oss: chat.completion.chunks, the last with the finish, usage and metrics', () =>
  withRig({}, async (h) => {
    h.emu.script({ type: 'text', text: 'one two three', reasoning: 'counting', usage: { inputTokens: 7, outputTokens: 3 } });
    const chunks = await stream(h, 'gpt-oss', chatBody('count', { stream: true, stream_chunk_size: 64 }));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id));
    assert.deepEqual(choice(chunks[0]!).delta, { role: 'assistant', content: '' });
    assert.equal(contentOf(chunks), '<reasoning>counting</reasoning>one two three');
    assert.ok(chunks.slice(0, -1).every((c) => choice(c).finish_reason === null));
    const last = chunks.at(-1)!;
    assert.equal(choice(last).finish_reason, 'stop');
    assert.deepEqual([(last.usage as Json).prompt_tokens, (last.usage as Json).completion_tokens], [7, 3]);
    const metrics = last['amazon-bedrock-invocationMetrics'] as Json;
    assert.deepEqual([metrics.inputTokenCount, metrics.outputTokenCount], [7, 3]);
    const sent = h.emu.requests.at(-1)!;
    assert.equal(sent.operation, 'InvokeModelWithResponseStream');
    assert.deepEqual(sent.json, chatBody('count'), 'the sidecar parameter and `stream` left the body');
  }));

test('gpt-oss tool use on invoke, whole and streamed: tool_calls, finish tool_calls, the result turned back', () =>
  withRig({}, async (h) => {
    const call = { type: 'tool_use' as const, calls: [{ id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] };
    h.emu.script(call);
    const body = chatBody('weather?', { tools: [WEATHER], tool_choice: 'auto' });
    const whole = await invoke(h, 'gpt-oss', body);
    assert.equal(choice(whole).finish_reason, 'tool_calls');
    assert.deepEqual(choice(whole).message.tool_calls, [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);

    h.emu.script(call);
    const chunks = await stream(h, 'gpt-oss', body);
    const calls = chunks.flatMap((c) => (choice(c).delta?.tool_calls as Json[] | undefined) ?? []);
    assert.deepEqual(calls[0], { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } });
    assert.deepEqual(JSON.parse(calls.map((c) => (c.function as Json).arguments as string).join('')), { city: 'Paris' });
    assert.equal(choice(chunks.at(-1)!).finish_reason, 'tool_calls');

    const next = chatBody('ok', {
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"clear"}' },
      ],
    });
    await invoke(h, 'gpt-oss', next);
    assert.deepEqual(h.emu.requests.at(-1)!.json, next);
  }));

test("a member OpenAI's body does not take is Bedrock's 400 naming it, before any call; so is a stream flag against the operation", () =>
  withRig({}, async (h) => {
    for (const [body, message] of [
      [chatBody('x', { max_gen_len: 5 }), /#: extraneous key \[max_gen_len\] is not permitted/],
      [{ max_tokens: 5 }, /#: required key \[messages\] not found/],
      [chatBody('x', { stream: true }), /stream field in the request body must be false/],
      [chatBody('x', { messages: [] }), /messages/],
    ] as const) {
      await assert.rejects(
        invoke(h, 'gpt-oss', body),
        (error: unknown) => error instanceof ValidationException && message.test(error.message),
        JSON.stringify(body),
      );
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test("a converse alias of gpt-oss gets the neutral reading of OpenAI's body; the answer is still a chat.completion", () =>
  withRig({}, async (h) => {
    const answer = await invoke(h, 'gpt-oss-converse', chatBody('via converse', { reasoning_effort: 'high' }));
    const sent = h.emu.requests.at(-1)!;
    assert.equal(sent.operation, 'Converse');
    const json = sent.json as Json;
    assert.deepEqual(json.system, [{ text: 'Be brief.' }]);
    assert.deepEqual(json.inferenceConfig, { maxTokens: 300, temperature: 0.5, topP: 0.9 });
    assert.deepEqual(json.additionalModelRequestFields, { reasoning_effort: 'high' });
    assert.equal(choice(answer).message.content, defaultReplyText('via converse'));
    const chunks = await stream(h, 'gpt-oss-converse', chatBody('streamed'));
    assert.equal(contentOf(chunks), defaultReplyText('streamed'));
    assert.ok(chunks.at(-1)!['amazon-bedrock-invocationMetrics']);
  }));

test('the exact body Bedrock receives: the app’s, sidecar parameters, model and stream out, the alias’s extra fields merged', async () => {
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': EVENT_STREAM });
    const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'openai.gpt-oss-20b-1:0' };
    for (const event of [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: '<reasoning>hm</reasoning>Hi' }, finish_reason: null }] },
      {
        ...base,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 2 },
      },
    ])
      res.write(eventFrame('chunk', chunkPayload(JSON.stringify(event), '')));
    res.end();
  });
  const alias = { ...GPT_OSS, additional_model_request_fields: { seed: 7 } };
  const h = await startHarness({ models: [alias] }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    const body = chatBody('hi', { model: 'gpt-oss', stream: true, stream_chunk_size: 64, guardrails: [], presence_penalty: 0.2 });
    const res = await fetch(`${h.url}/model/gpt-oss/invoke-with-response-stream`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), EVENT_STREAM);
    const chunks = decodeFrames(Buffer.from(await res.arrayBuffer())).map(
      (f) => JSON.parse(Buffer.from((f.payload as Json).bytes as string, 'base64').toString('utf8')) as Json,
    );
    assert.equal(contentOf(chunks), '<reasoning>hm</reasoning>Hi');
    const seen = upstream.requests[0]!;
    assert.equal(seen.path, '/model/openai.gpt-oss-20b-1%3A0/invoke-with-response-stream');
    assert.deepEqual(JSON.parse(seen.body.toString('utf8')), { ...chatBody('hi', { presence_penalty: 0.2 }), seed: 7 });
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('guardrails on gpt-oss: a block before the commit is the 400, after it the exception frame; a mask is sent masked', () =>
  withRig(
    {
      guardrails: [
        { name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] },
        { name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' },
      ],
      models: [{ ...GPT_OSS, name: 'guarded', guardrails: ['no-birds', 'mask-ids'] }],
    },
    async (h) => {
      await assert.rejects(
        invoke(h, 'guarded', chatBody('tell me of the Nightingale')),
        (error: unknown) => error instanceof ValidationException && error.message === 'Violated guardrail policy',
      );
      assert.equal(h.emu.requests.length, 0);

      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, {
        method: 'POST',
        body: JSON.stringify(chatBody('sing')),
      });
      assert.equal(res.status, 200);
      assertBlockedLast(decodeFrames(Buffer.from(await res.arrayBuffer())), 'no-birds');

      await invoke(h, 'guarded', chatBody('my id is 123-45-6789'));
      const sent = h.emu.requests.at(-1)!.json as { messages: Json[] };
      assert.deepEqual(sent.messages.at(-1), { role: 'user', content: 'my id is [REDACTED]' });
    },
  ));

// ---------------------------------------------------------------------------------------------------------
// AI21 Jamba: an OpenAI-like body, answered in Jamba's own shapes.

const JAMBA = { name: 'jamba', model: 'bedrock/invoke/ai21.jamba-1-5-mini-v1:0', region: 'us-east-1' };
const JAMBA_CONVERSE = { name: 'jamba-converse', model: 'bedrock/converse/ai21.jamba-1-5-mini-v1:0', region: 'us-east-1' };

function jambaBody(text: string, extra: Json = {}): Json {
  return {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: text },
    ],
    max_tokens: 100,
    temperature: 0.7,
    ...extra,
  };
}

test("AI21 Jamba's own body: Jamba's answer and chunks, Bedrock receives the app's body, a member it does not take is the 400", () =>
  withRig({ models: [JAMBA, JAMBA_CONVERSE] }, async (h) => {
    const body = jambaBody('hello jamba', { top_p: 0.9, stop: ['\n\n'], presence_penalty: 0.1 });
    const answer = await invoke(h, 'jamba', body);
    assert.deepEqual(Object.keys(answer).sort(), ['choices', 'id', 'model', 'usage']);
    assert.deepEqual(choice(answer).message, { role: 'assistant', content: defaultReplyText('hello jamba'), tool_calls: null });
    assert.equal(choice(answer).finish_reason, 'stop');
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);

    h.emu.script({ type: 'text', text: 'one two three', usage: { inputTokens: 5, outputTokens: 3 } });
    const chunks = await stream(h, 'jamba', body);
    assert.equal(contentOf(chunks), 'one two three');
    assert.ok(chunks.every((c) => c.object === undefined && c.id === chunks[0]!.id));
    const last = chunks.at(-1)!;
    assert.equal(choice(last).finish_reason, 'stop');
    assert.deepEqual([(last.usage as Json).prompt_tokens, (last.usage as Json).completion_tokens], [5, 3]);
    assert.ok(last['amazon-bedrock-invocationMetrics']);
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);

    h.emu.script({ type: 'tool_use', calls: [{ id: 'call_9', name: 'get_weather', input: { city: 'Oslo' } }] });
    const called = await invoke(h, 'jamba', jambaBody('weather?', { tools: [WEATHER] }));
    assert.equal(choice(called).finish_reason, 'tool_calls');
    assert.deepEqual(choice(called).message.tool_calls, [
      { id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ]);

    const requests = h.emu.requests.length;
    await assert.rejects(
      invoke(h, 'jamba', jambaBody('x', { max_completion_tokens: 5 })),
      (error: unknown) =>
        error instanceof ValidationException && /#: extraneous key \[max_completion_tokens\] is not permitted/.test(error.message),
    );
    // A converse alias gets the neutral reading; Jamba's documents only its own body carries.
    await invoke(h, 'jamba-converse', jambaBody('via converse'));
    assert.equal(h.emu.requests.at(-1)!.operation, 'Converse');
    await assert.rejects(
      invoke(h, 'jamba-converse', jambaBody('x', { documents: [{ content: 'a doc' }] })),
      (error: unknown) => error instanceof ValidationException && /documents: only AI21 Jamba on invoke reads it/.test(error.message),
    );
    assert.equal(h.emu.requests.length, requests + 1);
  }));

// ---------------------------------------------------------------------------------------------------------
// Cohere Command R: Cohere Chat v1, answered in Cohere's own shapes.

const COHERE = { name: 'command-r', model: 'bedrock/invoke/cohere.command-r-v1:0', region: 'us-east-1' };
const COHERE_CONVERSE = { name: 'command-r-converse', model: 'bedrock/converse/cohere.command-r-plus-v1:0', region: 'us-east-1' };

const COHERE_WEATHER = {
  name: 'get_weather',
  description: 'the weather in a city',
  parameter_definitions: { city: { description: 'the city', type: 'str', required: true } },
};

test("Cohere Command R's own body: Cohere's answer and chunks, Bedrock receives the app's body", () =>
  withRig({ models: [COHERE, COHERE_CONVERSE] }, async (h) => {
    const body = {
      message: 'hello cohere',
      chat_history: [
        { role: 'USER', message: 'hi' },
        { role: 'CHATBOT', message: 'hello' },
      ],
      preamble: 'Be brief.',
      max_tokens: 100,
      temperature: 0.8,
      p: 0.99,
      k: 5,
      stop_sequences: ['|'],
    };
    const answer = await invoke(h, 'command-r', body);
    assert.equal(answer.text, defaultReplyText('hello cohere'));
    assert.equal(answer.finish_reason, 'COMPLETE');
    assert.equal(typeof answer.generation_id, 'string');
    assert.deepEqual(answer.chat_history, [
      ...body.chat_history,
      { role: 'USER', message: 'hello cohere' },
      { role: 'CHATBOT', message: defaultReplyText('hello cohere') },
    ]);
    assert.deepEqual(h.emu.requests.at(-1)!.json, body);

    h.emu.script({ type: 'text', text: 'one two three', usage: { inputTokens: 5, outputTokens: 3 } });
    const chunks = await stream(h, 'command-r', { ...body, stream_chunk_size: 64 });
    assert.deepEqual(
      chunks.slice(0, -1).map((c) => [c.is_finished, c.event_type]),
      chunks.slice(0, -1).map(() => [false, 'text-generation']),
    );
    assert.equal(chunks.map((c) => (c.event_type === 'text-generation' ? c.text : '')).join(''), 'one two three');
    const last = chunks.at(-1)!;
    assert.deepEqual([last.is_finished, last.event_type, last.finish_reason], [true, 'stream-end', 'COMPLETE']);
    const response = last.response as Json;
    assert.equal(response.text, 'one two three');
    assert.deepEqual((response.meta as Json).billed_units, { input_tokens: 5, output_tokens: 3 });
    assert.deepEqual(
      [
        (last['amazon-bedrock-invocationMetrics'] as Json).inputTokenCount,
        (last['amazon-bedrock-invocationMetrics'] as Json).outputTokenCount,
      ],
      [5, 3],
    );
    assert.deepEqual(h.emu.requests.at(-1)!.json, body, 'the sidecar parameter left the body');
  }));

test('Cohere tool use on invoke: the calls whole, the results of the next turn paired with them', () =>
  withRig({ models: [COHERE, COHERE_CONVERSE] }, async (h) => {
    const call = { type: 'tool_use' as const, calls: [{ name: 'get_weather', input: { city: 'Paris' } }] };
    h.emu.script(call);
    const body = { message: 'weather in Paris?', tools: [COHERE_WEATHER] };
    const whole = await invoke(h, 'command-r', body);
    assert.deepEqual(whole.tool_calls, [{ name: 'get_weather', parameters: { city: 'Paris' } }]);
    assert.equal(whole.finish_reason, 'COMPLETE');

    h.emu.script(call);
    const chunks = await stream(h, 'command-r', body);
    const generated = chunks.find((c) => c.event_type === 'tool-calls-generation')!;
    assert.deepEqual(generated.tool_calls, [{ name: 'get_weather', parameters: { city: 'Paris' } }]);
    assert.equal(chunks.at(-1)!.event_type, 'stream-end');

    // Cohere's next turn: the results at the top level, `message` empty; as the app wrote it to Cohere…
    const next = {
      message: '',
      chat_history: [{ role: 'USER', message: 'weather in Paris?' }],
      tools: [COHERE_WEATHER],
      tool_results: [{ call: { name: 'get_weather', parameters: { city: 'Paris' } }, outputs: [{ sky: 'clear' }] }],
    };
    await invoke(h, 'command-r', next);
    assert.deepEqual(h.emu.requests.at(-1)!.json, next);
    // … and read for a converse alias: the call the results answer, then the results, paired by id.
    await invoke(h, 'command-r-converse', next);
    const sent = h.emu.requests.at(-1)!.json as { messages: Array<{ role: string; content: Json[] }> };
    assert.equal(h.emu.requests.at(-1)!.operation, 'Converse');
    const use = sent.messages[1]!.content[0]!.toolUse as Json;
    assert.deepEqual([use.name, use.input], ['get_weather', { city: 'Paris' }]);
    const result = sent.messages[2]!.content[0]!.toolResult as Json;
    assert.equal(result.toolUseId, use.toolUseId);
  }));

test("a member Cohere's body does not take is Bedrock's 400; documents only Cohere on invoke reads; guardrails", () =>
  withRig(
    {
      guardrails: [{ name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] }],
      models: [COHERE, COHERE_CONVERSE, { ...COHERE, name: 'guarded', guardrails: ['no-birds'] }],
    },
    async (h) => {
      for (const [modelId, body, message] of [
        ['command-r', { message: 'x', top_p: 0.5 }, /#: extraneous key \[top_p\] is not permitted/],
        ['command-r', { chat_history: [] }, /#: required key \[message\] not found/],
        ['command-r-converse', { message: 'x', documents: [{ title: 't', snippet: 's' }] }, /documents: only Cohere Command R on invoke/],
        ['guarded', { message: 'tell me of the nightingale' }, /^Violated guardrail policy$/],
      ] as const) {
        await assert.rejects(
          invoke(h, modelId, body),
          (error: unknown) => error instanceof ValidationException && message.test(error.message),
          `${modelId} ${JSON.stringify(body)}`,
        );
      }
      assert.equal(h.emu.requests.length, 0);

      h.emu.script({ type: 'text', text: 'a song of the nightingale' });
      const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, {
        method: 'POST',
        body: JSON.stringify({ message: 'sing' }),
      });
      assert.equal(res.status, 200);
      assertBlockedLast(decodeFrames(Buffer.from(await res.arrayBuffer())), 'no-birds');
    },
  ));

test('the exact bodies Bedrock receives for Jamba and Cohere: the app’s, sidecar parameters out, the alias’s extra fields merged', async () => {
  const upstream = await startHostileUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        req.url?.includes('cohere')
          ? { response_id: 'r', text: 'Hi', generation_id: 'g', chat_history: [], finish_reason: 'COMPLETE' }
          : {
              id: 'j',
              choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', tool_calls: null }, finish_reason: 'stop' }],
              usage: {},
            },
      ),
    );
  });
  const models = [
    { ...JAMBA, additional_model_request_fields: { documents: [{ content: 'from the alias' }] } },
    { ...COHERE, additional_model_request_fields: { prompt_truncation: 'AUTO_PRESERVE_ORDER' } },
  ];
  const h = await startHarness({ models }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    const jamba = jambaBody('hi', { n: 1, stream_chunk_size: 64, guardrails: [] });
    const cohere = { message: 'hi', chat_history: [{ role: 'USER', message: 'before' }], p: 0.5, k: 3, stream_chunk_size: 64 };
    for (const [alias, body] of [
      ['jamba', jamba],
      ['command-r', cohere],
    ] as const) {
      const res = await fetch(`${h.url}/model/${alias}/invoke`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.text());
    }
    const [seenJamba, seenCohere] = upstream.requests;
    assert.equal(seenJamba!.path, '/model/ai21.jamba-1-5-mini-v1%3A0/invoke');
    assert.deepEqual(JSON.parse(seenJamba!.body.toString('utf8')), {
      ...jambaBody('hi', { n: 1 }),
      documents: [{ content: 'from the alias' }],
    });
    assert.equal(seenCohere!.path, '/model/cohere.command-r-v1%3A0/invoke');
    const { stream_chunk_size: _size, ...sent } = cohere;
    assert.deepEqual(JSON.parse(seenCohere!.body.toString('utf8')), { ...sent, prompt_truncation: 'AUTO_PRESERVE_ORDER' });
  } finally {
    await h.close();
    await upstream.close();
  }
});

test("an app's own OpenAI body goes as written: its open response_format schema is not closed, and Bedrock's 400 comes back", () =>
  withRig({}, async (h) => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const body = chatBody('Where?', { response_format: { type: 'json_schema', json_schema: { name: 'place', schema } } });
    await assert.rejects(
      invoke(h, 'gpt-oss', body),
      (error: unknown) =>
        error instanceof ValidationException &&
        // Bedrock's own words, unchanged (no "Bedrock: ValidationException: " in front).
        error.message === "For 'object' type, 'additionalProperties' must be explicitly set to false",
    );
    assert.equal(h.emu.requests.length, 1);
    assert.deepEqual(h.emu.requests[0]!.json, body, 'the schema as the app wrote it');
    assert.equal(lastLine(h).status, 400);
  }));
