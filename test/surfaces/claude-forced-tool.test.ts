// Thinking with a forced tool choice, by Claude generation (docs/contract.md#request-rules), through the OpenAI
// SDK, the sidecar and the emulator, which holds Bedrock's refusal on Claude 3.7 to 4.7 ("Thinking may not be
// enabled when tool_choice forces tool use."): there `reasoning_effort` with `tool_choice` required / a named
// function is a 400 naming tool_choice (dropped with drop_params); Opus 4.8 and the Claude 5 models take both,
// so both go, on either route. Fable 5.1 and Mythos 5.1 take no forced tool at all: a 400 naming tool_choice,
// thinking or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'opus-48', model: 'bedrock/converse/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'sonnet-5', model: 'bedrock/invoke/us.anthropic.claude-sonnet-5', region: 'us-east-1' },
  { name: 'sonnet-46', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-6', region: 'us-east-1' },
  { name: 'sonnet-46-lenient', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-6', region: 'us-east-1', drop_params: true },
  { name: 'opus-47', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
  { name: 'fable-51', model: 'bedrock/invoke/global.anthropic.claude-fable-5-1', region: 'us-east-1' },
  { name: 'fable-51-converse', model: 'bedrock/converse/global.anthropic.claude-fable-5-1', region: 'us-east-1' },
  { name: 'fable-51-lenient', model: 'bedrock/converse/global.anthropic.claude-fable-5-1', region: 'us-east-1', drop_params: true },
];

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;

const TOOLS = [
  { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
];
const CALL = { type: 'tool_use' as const, calls: [{ name: 'lookup', input: { q: 'x' } }] };

test('claude forced tool: Opus 4.8 (converse) and Sonnet 5 (invoke) think and call the forced tool, whole and streamed', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'look it up' }];
  try {
    h.emu.script(CALL);
    const whole = await client.chat.completions.create({
      model: 'opus-48',
      messages,
      tools: TOOLS,
      tool_choice: 'required',
      reasoning_effort: 'high',
    });
    assert.equal(
      whole.choices[0]!.message.tool_calls?.[0]?.type === 'function' && whole.choices[0]!.message.tool_calls[0].function.name,
      'lookup',
    );
    const converse = sent(h) as { toolConfig: { toolChoice: Json }; additionalModelRequestFields: { thinking: Json } };
    assert.deepEqual(converse.toolConfig.toolChoice, { any: {} });
    assert.equal(converse.additionalModelRequestFields.thinking.type, 'adaptive');

    h.emu.script(CALL);
    let name = '';
    const stream = await client.chat.completions.create({
      model: 'sonnet-5',
      messages,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      reasoning_effort: 'medium',
      stream: true,
    });
    for await (const chunk of stream) name += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.name ?? '';
    assert.equal(name, 'lookup');
    const invoke = sent(h) as { tool_choice: Json; thinking: Json };
    assert.deepEqual(invoke.tool_choice, { type: 'tool', name: 'lookup' });
    assert.equal(invoke.thinking.type, 'adaptive');
  } finally {
    await h.close();
  }
});

test('claude forced tool: up to Opus 4.7 thinking with a forced tool is a 400 naming tool_choice before any call, dropped with drop_params', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'look it up' }];
  try {
    const calls = h.emu.requests.length;
    for (const model of ['sonnet-46', 'opus-47']) {
      await assert.rejects(
        client.chat.completions.create({ model, messages, tools: TOOLS, tool_choice: 'required', reasoning_effort: 'low' }),
        (error: unknown) => {
          assert.ok(error instanceof OpenAI.BadRequestError, String(error));
          assert.equal((error.error as { param?: string }).param, 'tool_choice');
          assert.match(error.message, /forces a tool only without thinking/);
          return true;
        },
      );
    }
    assert.equal(h.emu.requests.length, calls, 'refused before any call');

    h.emu.script({ type: 'text', text: 'done' });
    const answer = await client.chat.completions.create({
      model: 'sonnet-46-lenient',
      messages,
      tools: TOOLS,
      tool_choice: 'required',
      reasoning_effort: 'low',
    });
    assert.equal(answer.choices[0]!.message.content, 'done');
    const converse = sent(h) as { toolConfig: Json; additionalModelRequestFields: { thinking: Json } };
    assert.equal(converse.toolConfig.toolChoice, undefined);
    assert.equal(converse.additionalModelRequestFields.thinking.type, 'adaptive');
  } finally {
    await h.close();
  }
});

test('claude forced tool: Fable 5.1 takes no forced tool — a 400 naming tool_choice on either route, dropped with drop_params, auto answered', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'look it up' }];
  try {
    const calls = h.emu.requests.length;
    for (const model of ['fable-51', 'fable-51-converse']) {
      await assert.rejects(client.chat.completions.create({ model, messages, tools: TOOLS, tool_choice: 'required' }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal((error.error as { param?: string }).param, 'tool_choice');
        assert.match(error.message, /takes tool_choice auto or none only/);
        return true;
      });
    }
    assert.equal(h.emu.requests.length, calls, 'refused before any call');

    h.emu.script(CALL);
    const lenient = await client.chat.completions.create({
      model: 'fable-51-lenient',
      messages,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'lookup' } },
    });
    assert.equal(lenient.choices[0]!.finish_reason, 'tool_calls');
    assert.equal((sent(h) as { toolConfig: Json }).toolConfig.toolChoice, undefined);

    h.emu.script({ type: 'text', text: 'done' });
    const auto = await client.chat.completions.create({ model: 'fable-51', messages, tools: TOOLS, tool_choice: 'auto' });
    assert.equal(auto.choices[0]!.message.content, 'done');
    assert.deepEqual((sent(h) as { tool_choice: Json }).tool_choice, { type: 'auto' });
  } finally {
    await h.close();
  }
});
