// Turning Claude 5's thinking off (docs/contract.md#request-rules). Opus 5 and Sonnet 5 think when `thinking` is
// left out, where Opus 4.7 and 4.8 do not, so "no thinking" is `thinking: {type: "disabled"}` there — else a
// `reasoning_effort: "none"`, a Messages client's `disabled`, or a tool turn the sidecar runs without thinking,
// would think anyway. Opus 5 takes `disabled` only at effort high or below: a Messages client's `xhigh` with it is
// sent as `high`. Opus 5.5 always thinks and takes no forced tool. Through the OpenAI and Anthropic SDKs, the
// sidecar and the emulator, which holds Bedrock's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'sonnet-5', model: 'bedrock/converse/us.anthropic.claude-sonnet-5', region: 'us-east-1' },
  { name: 'opus-5', model: 'bedrock/invoke/global.anthropic.claude-opus-5', region: 'us-east-1' },
  { name: 'opus-48', model: 'bedrock/invoke/us.anthropic.claude-opus-4-8', region: 'us-east-1' },
  { name: 'opus-55', model: 'bedrock/invoke/us.anthropic.claude-opus-5-5', region: 'us-east-1' },
  { name: 'opus-55-converse', model: 'bedrock/converse/us.anthropic.claude-opus-5-5', region: 'us-east-1' },
  { name: 'opus-5-converse', model: 'bedrock/converse/us.anthropic.claude-opus-5', region: 'us-east-1' },
  { name: 'fable-converse', model: 'bedrock/converse/us.anthropic.claude-fable-5', region: 'us-east-1' },
  { name: 'sonnet-55', model: 'bedrock/invoke/us.anthropic.claude-sonnet-5-5', region: 'us-east-1' },
  { name: 'sonnet-55-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-5-5', region: 'us-east-1' },
];

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => h.emu.requests.at(-1)!.json as Json;
const fieldsOf = (body: Json): Json => (body.additionalModelRequestFields as Json | undefined) ?? body;

const TOOLS = [
  { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
];

/** A Messages request for a session title (what Claude Code sends with thinking off), with `extra` fields. */
function askTitle(client: Anthropic, model: string, extra: Record<string, unknown>): Promise<Anthropic.Message> {
  return client.messages.create({
    model,
    max_tokens: 200,
    messages: [{ role: 'user', content: 'Name this session.' }],
    ...extra,
  } as Anthropic.MessageCreateParamsNonStreaming);
}

async function status(call: Promise<unknown>): Promise<{ status: number; param: unknown }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    return { status: err.status, param: (err.error as Json | undefined)?.param };
  }
  assert.fail('expected a 400');
}

test('claude 5 thinking off: reasoning_effort "none" is thinking disabled on Opus 5 and Sonnet 5, left out on Opus 4.8', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['sonnet-5', 'opus-5']) {
      h.emu.script({ type: 'text', text: 'Blue.' });
      const answer = await client.chat.completions.create({
        model,
        reasoning_effort: 'none',
        messages: [{ role: 'user', content: 'Sky colour?' }],
      });
      assert.equal(answer.choices[0]!.message.content, 'Blue.');
      const fields = fieldsOf(sent(h));
      assert.deepEqual(fields.thinking, { type: 'disabled' }, model);
      assert.equal(fields.output_config, undefined, `${model}: no effort with thinking off`);
    }
    h.emu.script({ type: 'text', text: 'Blue.' });
    await client.chat.completions.create({ model: 'opus-48', reasoning_effort: 'none', messages: [{ role: 'user', content: 'Sky?' }] });
    assert.equal(sent(h).thinking, undefined, 'Opus 4.8 runs without thinking when it is left out');
  } finally {
    await h.close();
  }
});

test('claude 5 thinking off: a Chat tool-result turn run without thinking sends it disabled on Sonnet 5', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'Sunny.' });
    const answer = await client.chat.completions.create({
      model: 'sonnet-5',
      reasoning_effort: 'low',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"Oslo"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    assert.equal(answer.choices[0]!.message.content, 'Sunny.');
    assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'disabled' });
    assert.ok(h.logs.some((line) => String(line.msg).includes('thinking left off for this turn')));
  } finally {
    await h.close();
  }
});

test("claude 5 thinking off: a Messages client's disabled goes to Opus 5 (its xhigh effort as high) and is left out for Opus 5.5", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'A title.' });
    const opus5 = await client.messages.create({
      model: 'opus-5',
      max_tokens: 200,
      thinking: { type: 'disabled' },
      output_config: { effort: 'xhigh' },
      messages: [{ role: 'user', content: 'Name this session.' }],
    } as Anthropic.MessageCreateParamsNonStreaming);
    assert.equal(opus5.content[0]?.type === 'text' && opus5.content[0].text, 'A title.');
    assert.deepEqual(sent(h).thinking, { type: 'disabled' });
    assert.deepEqual(sent(h).output_config, { effort: 'high' });
    assert.ok(h.logs.some((line) => String(line.msg).includes('output_config.effort "xhigh" sent as "high"')));

    h.emu.script({ type: 'text', text: 'A title.' });
    const opus55 = await client.messages.create({
      model: 'opus-55',
      max_tokens: 200,
      thinking: { type: 'disabled' },
      messages: [{ role: 'user', content: 'Name this session.' }],
    });
    assert.equal(opus55.content[0]?.type === 'text' && opus55.content[0].text, 'A title.');
    assert.equal(sent(h).thinking, undefined, 'Opus 5.5 always thinks: disabled is left out');
  } finally {
    await h.close();
  }
});

test('claude 5 thinking off: Opus 5.5 refuses reasoning_effort "none" and a forced tool, each a 400 naming it', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const before = h.emu.requests.length;
    for (const model of ['opus-55', 'opus-55-converse']) {
      const none = await status(
        client.chat.completions.create({ model, reasoning_effort: 'none', messages: [{ role: 'user', content: 'hi' }] }),
      );
      assert.deepEqual(none, { status: 400, param: 'reasoning_effort' }, model);
      const forced = await status(
        client.chat.completions.create({ model, tools: TOOLS, tool_choice: 'required', messages: [{ role: 'user', content: 'hi' }] }),
      );
      assert.deepEqual(forced, { status: 400, param: 'tool_choice' }, model);
    }
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});

test("claude 5 thinking off: a Messages client's disabled through a converse alias is disabled on Claude 5, dropped where it always thinks", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const ask = (model: string, extra: Record<string, unknown>): Promise<Anthropic.Message> => askTitle(client, model, extra);
  try {
    h.emu.script({ type: 'text', text: 'A title.' });
    await ask('sonnet-5', { thinking: { type: 'disabled' } });
    assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'disabled' });

    h.emu.script({ type: 'text', text: 'A title.' });
    const opus = await ask('opus-5-converse', { thinking: { type: 'disabled' }, output_config: { effort: 'max' } });
    assert.equal(opus.content[0]?.type === 'text' && opus.content[0].text, 'A title.');
    assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'disabled' });
    assert.deepEqual(fieldsOf(sent(h)).output_config, { effort: 'high' }, 'Opus 5 takes at most high with thinking disabled');

    h.emu.script({ type: 'text', text: 'A title.' });
    const fable = await ask('fable-converse', { thinking: { type: 'disabled' } });
    assert.equal(fable.content[0]?.type === 'text' && fable.content[0].text, 'A title.');
    assert.equal(fieldsOf(sent(h)).thinking, undefined, 'Fable always thinks: disabled is dropped, not refused');
  } finally {
    await h.close();
  }
});

test('claude 5 thinking off: Sonnet 5.5 thinks only between tools when asked for none, takes no forced tool, and between_tools goes where it is taken', async () => {
  const h = await startHarness({ models: MODELS });
  const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const ask = (model: string, extra: Record<string, unknown>): Promise<Anthropic.Message> => askTitle(anthropic, model, extra);
  try {
    for (const model of ['sonnet-55', 'sonnet-55-converse']) {
      h.emu.script({ type: 'text', text: 'Blue.' });
      await openai.chat.completions.create({ model, reasoning_effort: 'none', messages: [{ role: 'user', content: 'Sky?' }] });
      assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'between_tools' }, model);
      const forced = await status(
        openai.chat.completions.create({ model, tools: TOOLS, tool_choice: 'required', messages: [{ role: 'user', content: 'hi' }] }),
      );
      assert.deepEqual(forced, { status: 400, param: 'tool_choice' }, model);

      // A Messages client's disabled (Claude Code's side queries) is Sonnet 5.5's least thinking, effort at most high.
      h.emu.script({ type: 'text', text: 'A title.' });
      const titled = await ask(model, { thinking: { type: 'disabled' }, output_config: { effort: 'xhigh' } });
      assert.equal(titled.content[0]?.type === 'text' && titled.content[0].text, 'A title.');
      assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'between_tools' }, model);
      assert.deepEqual(fieldsOf(sent(h)).output_config, { effort: 'high' }, model);
    }
    // A client's own between_tools: kept for Sonnet 5.5, disabled on Opus 5 (which refuses it), on either route.
    h.emu.script({ type: 'text', text: 'A title.' });
    await ask('sonnet-55', { thinking: { type: 'between_tools' } });
    assert.deepEqual(sent(h).thinking, { type: 'between_tools' });
    for (const model of ['opus-5', 'opus-5-converse']) {
      h.emu.script({ type: 'text', text: 'A title.' });
      const answer = await ask(model, { thinking: { type: 'between_tools' } });
      assert.equal(answer.content[0]?.type === 'text' && answer.content[0].text, 'A title.');
      assert.deepEqual(fieldsOf(sent(h)).thinking, { type: 'disabled' }, model);
    }
  } finally {
    await h.close();
  }
});
