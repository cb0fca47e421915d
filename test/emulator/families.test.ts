// Every invoke family: a valid body streams and answers in its native shape with invocation metrics on the
// last chunk; an unknown key is a 400 in the family's dialect; tool calls where the family has them.
// Nova and Llama streams are also read through the real SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText, type Emulator } from '../../src/emulator/index.ts';
import { chunkEvents, decodeFrames, post, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

type Json = Record<string, unknown>;

interface FamilyCase {
  family: string;
  modelId: string;
  body: Json;
  /** The text a stream carries, from its native events. */
  streamText(events: Json[]): string;
  /** The text of a non-stream response. */
  responseText(res: Json): string;
  /** Tool calls, when the family has them: name + parsed arguments from stream events. */
  streamTools?(events: Json[]): { name: string; args: unknown }[];
}

const choices = (e: Json): Json[] => (e.choices as Json[]) ?? [];
const joinArgs = (parts: string[]): unknown => JSON.parse(parts.join(''));
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const CASES: FamilyCase[] = [
  {
    family: 'nova',
    modelId: 'us.amazon.nova-micro-v1:0',
    body: {
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: 'hi nova' }] }],
      inferenceConfig: { maxTokens: 50, topP: 0.9 },
    },
    streamText: (ev) => ev.map((e) => text(((e.contentBlockDelta as Json)?.delta as Json)?.text)).join(''),
    responseText: (r) => (((r.output as Json).message as Json).content as Json[]).map((c) => text(c.text)).join(''),
    streamTools(ev) {
      const start = ev.find((e) => e.contentBlockStart)!.contentBlockStart as Json;
      const idx = start.contentBlockIndex;
      const args = ev
        .filter((e) => (e.contentBlockDelta as Json)?.contentBlockIndex === idx)
        .map((e) => (((e.contentBlockDelta as Json).delta as Json).toolUse as Json).input as string);
      return [{ name: ((start.start as Json).toolUse as Json).name as string, args: joinArgs(args) }];
    },
  },
  {
    family: 'titan',
    modelId: 'amazon.titan-text-express-v1',
    body: { inputText: 'User: hi titan\nBot:', textGenerationConfig: { maxTokenCount: 100, temperature: 0.2 } },
    streamText: (ev) => ev.map((e) => e.outputText as string).join(''),
    responseText: (r) => (r.results as Json[])[0]!.outputText as string,
  },
  {
    family: 'llama',
    modelId: 'us.meta.llama3-1-8b-instruct-v1:0',
    body: {
      prompt:
        '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi llama<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 100,
    },
    streamText: (ev) => ev.map((e) => e.generation as string).join(''),
    responseText: (r) => r.generation as string,
  },
  {
    family: 'mistral-text',
    modelId: 'mistral.mistral-7b-instruct-v0:2',
    body: { prompt: '<s>[INST] hi mistral [/INST]', max_tokens: 100, top_k: 5 },
    streamText: (ev) => ev.map((e) => (e.outputs as Json[])[0]!.text as string).join(''),
    responseText: (r) => (r.outputs as Json[])[0]!.text as string,
  },
  {
    family: 'mistral-chat',
    modelId: 'mistral.mistral-large-2407-v1:0',
    body: {
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'hi mistral' },
      ],
      max_tokens: 100,
      tool_choice: 'auto',
    },
    streamText: (ev) => ev.map((e) => (choices(e)[0]!.message as Json).content as string).join(''),
    responseText: (r) => (choices(r)[0]!.message as Json).content as string,
    streamTools: (ev) =>
      ev
        .flatMap((e) => ((choices(e)[0]!.message as Json).tool_calls as Json[] | undefined) ?? [])
        .map((c) => ({ name: (c.function as Json).name as string, args: JSON.parse((c.function as Json).arguments as string) })),
  },
  {
    family: 'cohere',
    modelId: 'cohere.command-r-plus-v1:0',
    body: {
      message: 'hi cohere',
      chat_history: [
        { role: 'USER', message: 'x' },
        { role: 'CHATBOT', message: 'y' },
      ],
      max_tokens: 100,
      p: 0.5,
    },
    streamText: (ev) =>
      ev
        .filter((e) => e.event_type === 'text-generation')
        .map((e) => e.text as string)
        .join(''),
    responseText: (r) => r.text as string,
    streamTools: (ev) =>
      (ev.find((e) => e.event_type === 'tool-calls-generation')!.tool_calls as Json[]).map((c) => ({
        name: c.name as string,
        args: c.parameters,
      })),
  },
  {
    family: 'ai21',
    modelId: 'ai21.jamba-1-5-mini-v1:0',
    body: { messages: [{ role: 'user', content: 'hi ai21' }], max_tokens: 100, n: 1 },
    streamText: (ev) => ev.map((e) => ((choices(e)[0]!.delta as Json).content as string) ?? '').join(''),
    responseText: (r) => (choices(r)[0]!.message as Json).content as string,
    streamTools: (ev) =>
      ev
        .flatMap((e) => ((choices(e)[0]!.delta as Json).tool_calls as Json[] | undefined) ?? [])
        .map((c) => ({ name: (c.function as Json).name as string, args: JSON.parse((c.function as Json).arguments as string) })),
  },
  {
    family: 'deepseek',
    modelId: 'us.deepseek.r1-v1:0',
    body: { prompt: '<｜begin▁of▁sentence｜><｜User｜>hi deepseek<｜Assistant｜><think>\n', max_tokens: 100 },
    streamText: (ev) => ev.map((e) => choices(e)[0]!.text as string).join(''),
    responseText: (r) => choices(r)[0]!.text as string,
  },
  ...(['openai', 'qwen'] as const).map((family): FamilyCase => ({
    family,
    modelId: family === 'openai' ? 'openai.gpt-oss-20b-1:0' : 'qwen.qwen3-32b-v1:0',
    body: {
      messages: [
        { role: 'developer', content: 'd' },
        { role: 'user', content: `hi ${family}` },
      ],
      max_completion_tokens: 100,
    },
    streamText: (ev) => ev.map((e) => ((choices(e)[0]?.delta as Json | undefined)?.content as string) ?? '').join(''),
    responseText: (r) => (choices(r)[0]!.message as Json).content as string,
    streamTools(ev) {
      const calls = new Map<number, { name: string; parts: string[] }>();
      for (const e of ev) {
        for (const tc of ((choices(e)[0]?.delta as Json | undefined)?.tool_calls as Json[] | undefined) ?? []) {
          const i = tc.index as number;
          const fn = tc.function as Json;
          if (!calls.has(i)) calls.set(i, { name: fn.name as string, parts: [] });
          calls.get(i)!.parts.push((fn.arguments as string) ?? '');
        }
      }
      return [...calls.values()].map((c) => ({ name: c.name, args: joinArgs(c.parts) }));
    },
  })),
];

async function withEmu(fn: (emu: Emulator) => Promise<void>): Promise<void> {
  await withEmulator(async (emu) => {
    await fn(emu);
  });
}

const path = (modelId: string, op: string): string => `/model/${encodeURIComponent(modelId)}/${op}`;

for (const c of CASES) {
  test(`family ${c.family}: stream carries the default reply and ends with invocation metrics`, () =>
    withEmu(async (emu) => {
      const res = await post(emu.url, path(c.modelId, 'invoke-with-response-stream'), JSON.stringify(c.body));
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(res.headers['x-amzn-bedrock-content-type'], 'application/json');
      const events = chunkEvents(decodeFrames(res.body));
      assert.equal(c.streamText(events), defaultReplyText(`hi ${c.family.replace(/-.*/, '')}`));
      const metrics = events.at(-1)!['amazon-bedrock-invocationMetrics'] as Json;
      assert.equal(typeof metrics.inputTokenCount, 'number');
      assert.equal(typeof metrics.outputTokenCount, 'number');
      assert.ok(events.slice(0, -1).every((e) => !('amazon-bedrock-invocationMetrics' in e)));
    }));

  test(`family ${c.family}: non-stream answer and token-count headers`, () =>
    withEmu(async (emu) => {
      emu.script({ type: 'text', text: 'plain — answer' });
      const res = await post(emu.url, path(c.modelId, 'invoke'), JSON.stringify(c.body));
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(c.responseText(JSON.parse(res.body.toString()) as Json), 'plain — answer');
      assert.ok(Number(res.headers['x-amzn-bedrock-input-token-count']) > 0);
      assert.ok(Number(res.headers['x-amzn-bedrock-output-token-count']) > 0);
    }));

  test(`family ${c.family}: an unknown key is a 400 extraneous-key ValidationException`, () =>
    withEmu(async (emu) => {
      const res = await post(emu.url, path(c.modelId, 'invoke'), JSON.stringify({ ...c.body, stream_chunk_size: 4 }));
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body.toString()), {
        message:
          'Malformed input request: #: extraneous key [stream_chunk_size] is not permitted, please reformat your input and try again.',
      });
      assert.equal(emu.requests[0]!.status, 400);
    }));

  if (c.streamTools) {
    test(`family ${c.family}: tool calls in native form`, () =>
      withEmu(async (emu) => {
        emu.script({ type: 'tool_use', calls: [{ name: 'get_weather', input: { city: 'Paris', days: 2 } }] });
        const res = await post(emu.url, path(c.modelId, 'invoke-with-response-stream'), JSON.stringify(c.body));
        const events = chunkEvents(decodeFrames(res.body));
        assert.deepEqual(c.streamTools!(events), [{ name: 'get_weather', args: { city: 'Paris', days: 2 } }]);
      }));
  } else {
    test(`family ${c.family}: a scripted tool_use reply is refused (the family has no tool calls)`, () =>
      withEmu(async (emu) => {
        emu.script({ type: 'tool_use', calls: [{ name: 'f', input: {} }] });
        const res = await post(emu.url, path(c.modelId, 'invoke'), JSON.stringify(c.body));
        assert.equal(res.status, 500);
      }));
  }
}

test('family nova: stream read through the SDK', () =>
  withEmu(async (emu) => {
    const out = await sdkClient(emu.url).send(
      new InvokeModelWithResponseStreamCommand({ modelId: CASES[0]!.modelId, body: JSON.stringify(CASES[0]!.body) }),
    );
    const events: Json[] = [];
    for await (const part of out.body ?? []) events.push(JSON.parse(new TextDecoder().decode(part.chunk!.bytes)) as Json);
    assert.deepEqual(Object.keys(events[0]!), ['messageStart']);
    assert.ok(events.some((e) => e.messageStop));
    assert.ok((events.at(-1)!.metadata as Json).usage);
    assert.equal(CASES[0]!.streamText(events), defaultReplyText('hi nova'));
  }));

test('family llama: stream read through the SDK; stop_reason only on the last chunk', () =>
  withEmu(async (emu) => {
    const c = CASES.find((x) => x.family === 'llama')!;
    const out = await sdkClient(emu.url).send(
      new InvokeModelWithResponseStreamCommand({ modelId: c.modelId, body: JSON.stringify(c.body) }),
    );
    const events: Json[] = [];
    for await (const part of out.body ?? []) events.push(JSON.parse(new TextDecoder().decode(part.chunk!.bytes)) as Json);
    assert.ok(events.slice(0, -1).every((e) => e.stop_reason === null));
    assert.equal(events.at(-1)!.stop_reason, 'stop');
    assert.equal(c.streamText(events), defaultReplyText('hi llama'));
  }));

test('families: Titan and Nova report every problem in one sentence; openai checks model/stream', () =>
  withEmu(async (emu) => {
    const titan = await post(emu.url, path('amazon.titan-text-express-v1', 'invoke'), JSON.stringify({ stream: true, model: 'x' }));
    assert.equal(
      JSON.parse(titan.body.toString()).message,
      'Malformed input request: #: extraneous key [stream] is not permitted#: extraneous key [model] is not permitted#: required key [inputText] not found, please reformat your input and try again.',
    );
    const nova = await post(
      emu.url,
      path('amazon.nova-lite-v1:0', 'invoke'),
      JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'a', foo: 1 }] }] }),
    );
    assert.equal(nova.status, 400);
    assert.match(JSON.parse(nova.body.toString()).message, /^Malformed input request: #\/messages\/0\/content\/0: /);
    const oa = await post(
      emu.url,
      path('openai.gpt-oss-120b-1:0', 'invoke'),
      JSON.stringify({ messages: [{ role: 'user', content: 'a' }], stream: true }),
    );
    assert.equal(oa.status, 400);
    const oaModel = await post(
      emu.url,
      path('openai.gpt-oss-120b-1:0', 'invoke-with-response-stream'),
      JSON.stringify({ messages: [{ role: 'user', content: 'a' }], model: 'openai.gpt-oss-120b-1:0', stream: true }),
    );
    assert.equal(oaModel.status, 200);
  }));

test('families: an application-inference-profile ARN accepts any family body', () =>
  withEmu(async (emu) => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz';
    for (const c of CASES) {
      const res = await post(emu.url, path(arn, 'invoke'), JSON.stringify(c.body));
      assert.equal(res.status, 200, `${c.family}: ${res.body.toString()}`);
    }
  }));

test('families: openai puts reasoning inline in <reasoning> tags, deepseek closes it with </think>', () =>
  withEmu(async (emu) => {
    emu.script({ type: 'text', text: 'answer', reasoning: 'why' }, { type: 'text', text: 'answer', reasoning: 'why' });
    const oa = await post(
      emu.url,
      path('openai.gpt-oss-20b-1:0', 'invoke'),
      JSON.stringify(CASES.find((c) => c.family === 'openai')!.body),
    );
    assert.equal((choices(JSON.parse(oa.body.toString()))[0]!.message as Json).content, '<reasoning>why</reasoning>answer');
    const ds = await post(emu.url, path('us.deepseek.r1-v1:0', 'invoke'), JSON.stringify(CASES.find((c) => c.family === 'deepseek')!.body));
    assert.equal(choices(JSON.parse(ds.body.toString()))[0]!.text, 'why\n</think>\n\nanswer');
  }));

test("families: an OpenAI-shaped body's json_schema response_format takes only closed object schemas, refused as Converse refuses one", () =>
  withEmu(async (emu) => {
    const open = {
      type: 'object',
      properties: { city: { type: 'string' }, where: { type: 'object', properties: { lat: { type: 'number' } } } },
    };
    const nestedOpen = { ...open, additionalProperties: false };
    const closed = {
      ...open,
      additionalProperties: false,
      properties: { ...open.properties, where: { ...open.properties.where, additionalProperties: false } },
    };
    const invoke = (modelId: string, schema: Json) =>
      post(
        emu.url,
        path(modelId, 'invoke'),
        JSON.stringify({
          messages: [{ role: 'user', content: 'Where?' }],
          max_completion_tokens: 50,
          response_format: { type: 'json_schema', json_schema: { name: 'place', schema } },
        }),
      );
    const converse = await post(
      emu.url,
      path('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'converse'),
      JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'Where?' }] }],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'place', schema: JSON.stringify(open) } } } },
      }),
    );
    assert.equal(converse.status, 400);
    const refusal = JSON.parse(converse.body.toString()) as Json;
    for (const modelId of ['openai.gpt-oss-120b-1:0', 'qwen.qwen3-32b-v1:0']) {
      for (const schema of [open, nestedOpen]) {
        const res = await invoke(modelId, schema);
        assert.equal(res.status, 400, `${modelId}: ${res.body.toString()}`);
        assert.equal(res.headers['x-amzn-errortype'], converse.headers['x-amzn-errortype']);
        assert.deepEqual(JSON.parse(res.body.toString()), refusal);
      }
      const ok = await invoke(modelId, closed);
      assert.equal(ok.status, 200, `${modelId}: ${ok.body.toString()}`);
    }
  }));
