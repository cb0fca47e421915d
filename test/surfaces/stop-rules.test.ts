// Two Converse facts about stopping (docs/contract.md#request-rules):
// - a stop sequence of whitespace only ("\n", a title generator's) is refused by Converse for every model and by
//   Claude's own body: the parameter policy's 400 naming `stop` before any call, or left out with drop_params (the
//   other sequences kept); the Messages surface drops it;
// - Converse's stopReason does not always agree with the answer (OpenAI's models say `end_turn` after tool calls):
//   the client's finish follows the answer — `tool_calls` / `tool_use` when it called tools, `stop` when it did not —
//   and the native surface keeps Bedrock's word;
// - a stopReason saying Bedrock could not read the answer (`malformed_tool_use`, `malformed_model_output`) is a
//   failure, not a finish: a 502 before the commit, the surface's in-band error after it (never a finish a loop
//   takes for a complete answer); the native surface keeps Bedrock's word there too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { startHarness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';

const MODELS = [
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  { name: 'nova-lenient', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1', drop_params: true },
  { name: 'claude-lenient', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1', drop_params: true },
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'gpt-6', model: 'bedrock/converse/us.openai.gpt-6-sol', region: 'us-east-1' },
  { name: 'kimi', model: 'bedrock/converse/moonshotai.kimi-k2.5', region: 'us-east-1' },
];
type Json = Record<string, unknown>;
const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];

test('stop: a whitespace-only sequence is a 400 naming stop, left out with drop_params (others kept), dropped on Messages', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const before = h.emu.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'nova', stop: ['\n'], messages: [{ role: 'user', content: 'Title?' }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'stop' && /whitespace only/.test(err.message),
    );
    assert.equal(h.emu.requests.length, before, 'refused before any call');

    h.emu.script({ type: 'text', text: 'A title' });
    await client.chat.completions.create({ model: 'nova-lenient', stop: ['\n', 'END'], messages: [{ role: 'user', content: 'Title?' }] });
    assert.deepEqual((h.emu.requests.at(-1)!.json as { inferenceConfig?: Json }).inferenceConfig?.stopSequences, ['END']);

    h.emu.script({ type: 'text', text: 'A title' });
    await client.chat.completions.create({ model: 'claude-lenient', stop: [' '], messages: [{ role: 'user', content: 'Title?' }] });
    assert.equal((h.emu.requests.at(-1)!.json as Json).stop_sequences, undefined);

    h.emu.script({ type: 'text', text: 'A title' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'claude-converse',
        max_tokens: 50,
        stop_sequences: ['\n'],
        messages: [{ role: 'user', content: 'Title?' }],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal((h.emu.requests.at(-1)!.json as { inferenceConfig?: Json }).inferenceConfig?.stopSequences, undefined);
  } finally {
    await h.close();
  }
});

test('stop reason: GPT on Converse saying end_turn after its tool calls finishes with tool_calls (streamed and whole), tool_use on Messages', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'Look it up.' }];
  try {
    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: {} }], stopReason: 'end_turn' });
    const whole = await client.chat.completions.create({ model: 'gpt-6', tools, messages });
    assert.equal(whole.choices[0]!.finish_reason, 'tool_calls');

    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: {} }], stopReason: 'end_turn' });
    let finish: string | null | undefined;
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-6', tools, messages, stream: true }))
      finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, 'tool_calls');

    // A tool_use stop with no tool call is a plain stop.
    h.emu.script({ type: 'text', text: 'Nothing to look up.', stopReason: 'tool_use' });
    const plain = await client.chat.completions.create({ model: 'gpt-6', tools, messages });
    assert.equal(plain.choices[0]!.finish_reason, 'stop');

    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: {} }], stopReason: 'end_turn' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'gpt-6',
        max_tokens: 100,
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }],
        messages: [{ role: 'user', content: 'Look it up.' }],
      }),
    });
    assert.equal(((await res.json()) as Json).stop_reason, 'tool_use');
  } finally {
    await h.close();
  }
});

test('stop reason: the native Converse surface gives Bedrock’s own stopReason back as it was', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = nativeClient(h);
    h.emu.script({ type: 'tool_use', calls: [{ name: 'lookup', input: {} }], stopReason: 'end_turn' });
    const answer = await sdk.send(
      new ConverseCommand({
        modelId: 'gpt-6',
        toolConfig: { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: { type: 'object', properties: {} } } } }] },
        messages: [{ role: 'user', content: [{ text: 'Look it up.' }] }],
      }),
    );
    assert.equal(answer.stopReason, 'end_turn');
  } finally {
    await h.close();
  }
});

test('stop reason: malformed_tool_use is a 502 naming it on a whole answer, an in-band error after the text streamed (Chat, Responses, Messages)', async () => {
  const h = await startHarness({ models: MODELS });
  const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'Look it up.' }];
  const broken = (stopReason = 'malformed_tool_use') => h.emu.script({ type: 'text', text: 'Let me look that up.', stopReason });
  try {
    broken();
    await assert.rejects(
      openai.chat.completions.create({ model: 'kimi', tools, messages }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && /malformed_tool_use/.test(err.message),
    );

    // Streamed: the text already sent stays, then the error frame, then [DONE]; no finish_reason ever.
    broken('malformed_model_output');
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'kimi', stream: true, stream_options: { include_usage: true }, messages }),
    });
    const frames = (await res.text()).split('\n\n').filter((f) => f.startsWith('data: '));
    assert.equal(frames.at(-1), 'data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)) as Json);
    assert.match(JSON.stringify(chunks.at(-1)!.error), /malformed_model_output/);
    assert.ok(
      chunks.some((c) => JSON.stringify(c).includes('Let me look')),
      'the text streamed before the failure',
    );
    assert.ok(!chunks.some((c) => ((c.choices as Json[] | undefined) ?? []).some((choice) => choice.finish_reason != null)), 'no finish');
    assert.ok(!chunks.some((c) => c.usage !== undefined && c.usage !== null), 'nothing after the error');

    broken();
    const stream = await openai.responses.create({ model: 'kimi', input: 'Look it up.', stream: true });
    const types: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of stream) types.push(event.type);
      })(),
      (err: unknown) => err instanceof OpenAI.APIError && err.code === 'server_error' && /malformed_tool_use/.test(err.message),
    );
    assert.ok(types.includes('response.output_text.delta') && !types.includes('response.completed'), types.join());

    broken();
    await assert.rejects(
      anthropic.messages.create({ model: 'kimi', max_tokens: 100, messages }),
      (err: unknown) => err instanceof Anthropic.APIError && err.status === 502 && /malformed_tool_use/.test(err.message),
    );
    broken();
    await assert.rejects(
      anthropic.messages.stream({ model: 'kimi', max_tokens: 100, messages }).finalMessage(),
      (err: unknown) => err instanceof Error && /malformed_tool_use/.test(err.message),
    );
  } finally {
    await h.close();
  }
});

test('stop reason: the native Converse surface gives malformed_tool_use back as Bedrock said it', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: 'Let me look that up.', stopReason: 'malformed_tool_use' });
    const answer = await nativeClient(h).send(
      new ConverseCommand({ modelId: 'kimi', messages: [{ role: 'user', content: [{ text: 'Look it up.' }] }] }),
    );
    assert.equal(answer.stopReason, 'malformed_tool_use');
  } finally {
    await h.close();
  }
});
