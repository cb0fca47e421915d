// Tool results beside other blocks in one user turn (docs/contract.md#request-rules): Llama and Mistral refuse such
// a turn on Converse ("Conversation blocks and tool result blocks cannot be provided in the same turn."; the emulator
// holds it), and the sidecar made it itself: a Chat `tool` message and the `user` message after it merge into one
// turn, as do a Responses `function_call_output` and the input after it; a Messages turn holds them itself (the
// Agent SDK's "Tool loaded." beside its tool_result). For those families the text goes into the last result; images
// follow in a turn of their own. Claude takes the mixed turn and keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { post } from '../emulator/helpers.ts';

const MODELS = [
  { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' },
  { name: 'maverick', model: 'bedrock/converse/us.meta.llama4-maverick-17b-instruct-v1:0', region: 'us-east-1' },
  { name: 'mistral', model: 'bedrock/converse/mistral.mistral-large-2407-v1:0', region: 'us-east-1' },
  { name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
];
const MIXED = 'messages.2.content: Conversation blocks and tool result blocks cannot be provided in the same turn.';
const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

type Json = Record<string, unknown>;
type Turn = { role: string; content: Json[] };
const sentTurns = (h: Harness): Turn[] => (JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { messages: Turn[] }).messages;

/**
 * The emulator's answer to the last body sent with its third turn as the client's messages made it: the text the
 * sidecar put into the last tool result moved back beside the result.
 */
async function refusalOfMixedTurn(h: Harness, text: string): Promise<string> {
  const last = h.emu.requests.at(-1)!;
  const body = JSON.parse(last.body.toString('utf8')) as { messages: Turn[] };
  const turn = body.messages[2]!;
  const result = turn.content.at(-1)!.toolResult as { content: Json[] };
  assert.deepEqual(result.content.at(-1), { text });
  result.content.pop();
  turn.content.push({ text });
  const res = await post(h.emu.url, last.rawPath, JSON.stringify(body));
  assert.equal(res.status, 400, res.body.toString());
  return (JSON.parse(res.body.toString()) as { message: string }).message;
}

const chatMessages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'Weather in Lyon?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'aB3dE6gH9', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
  },
  { role: 'tool', tool_call_id: 'aB3dE6gH9', content: '21°C' },
  { role: 'user', content: 'And is that warm?' },
];

test('tool results alone: a Chat tool message and the user message after it, to Llama and Mistral — the text goes into the result', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    for (const model of ['llama', 'mistral']) {
      h.emu.script({ type: 'text', text: 'Mild.' });
      const answer = await client.chat.completions.create({ model, tools, messages: chatMessages });
      assert.equal(answer.choices[0]!.message.content, 'Mild.', model);
      const turns = sentTurns(h);
      assert.equal(turns.length, 3, model);
      assert.deepEqual(turns[2], {
        role: 'user',
        content: [{ toolResult: { toolUseId: 'aB3dE6gH9', content: [{ text: '21°C' }, { text: 'And is that warm?' }] } }],
      });
      assert.ok(
        h.logs.some((l) => l.model === model && String(l.msg).includes('its text went into its last tool result')),
        model,
      );
      assert.equal(await refusalOfMixedTurn(h, 'And is that warm?'), MIXED, model);
    }
    // Claude takes the turn as it is.
    h.emu.script({ type: 'text', text: 'Mild.' });
    await client.chat.completions.create({ model: 'claude', tools, messages: chatMessages });
    assert.deepEqual(sentTurns(h)[2]!.content, [
      { toolResult: { toolUseId: 'aB3dE6gH9', content: [{ text: '21°C' }] } },
      { text: 'And is that warm?' },
    ]);
  } finally {
    await h.close();
  }
});

test('tool results alone: a Messages turn of tool_result and text (the Agent SDK\'s "Tool loaded."), and a Responses function_call_output then input, to Llama', async () => {
  const h = await startHarness({ models: MODELS });
  const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'Mild.' });
    await anthropic.messages.create({
      model: 'llama',
      max_tokens: 100,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Weather in Lyon?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C' },
            { type: 'text', text: 'Tool loaded.' },
          ],
        },
      ],
    });
    assert.deepEqual(sentTurns(h)[2], {
      role: 'user',
      content: [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: '21°C' }, { text: 'Tool loaded.' }] } }],
    });
    assert.equal(await refusalOfMixedTurn(h, 'Tool loaded.'), MIXED);

    h.emu.script({ type: 'text', text: 'Mild.' });
    const response = await openai.responses.create({
      model: 'llama',
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }],
      input: [
        { role: 'user', content: 'Weather in Lyon?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '21°C' },
        { role: 'user', content: 'And is that warm?' },
      ],
    });
    assert.equal(response.output_text, 'Mild.');
    assert.deepEqual(sentTurns(h)[2], {
      role: 'user',
      content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: '21°C' }, { text: 'And is that warm?' }] } }],
    });
    assert.equal(await refusalOfMixedTurn(h, 'And is that warm?'), MIXED);
  } finally {
    await h.close();
  }
});

test('tool results alone: an image sent with a tool result to Llama 4 follows the results in a user turn of its own', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'A dot.' });
    await client.chat.completions.create({
      model: 'maverick',
      tools,
      messages: [
        ...chatMessages.slice(0, 3),
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And what is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    const turns = sentTurns(h);
    assert.deepEqual(
      turns.map((t) => t.role),
      ['user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.deepEqual(turns[2]!.content, [{ toolResult: { toolUseId: 'aB3dE6gH9', content: [{ text: '21°C' }] } }]);
    assert.deepEqual(turns[3]!.content, [{ text: 'Tool results received.' }]);
    assert.deepEqual(turns[4]!.content, [{ text: 'And what is this?' }, { image: { format: 'png', source: { bytes: PNG } } }]);
    // As the client's messages made it, the turn is refused.
    const last = h.emu.requests.at(-1)!;
    const mixed = {
      ...JSON.parse(last.body.toString('utf8')),
      messages: [...turns.slice(0, 2), { role: 'user', content: [...turns[2]!.content, ...turns[4]!.content] }],
    };
    const res = await post(h.emu.url, last.rawPath, JSON.stringify(mixed));
    assert.equal(res.status, 400);
    assert.equal((JSON.parse(res.body.toString()) as { message: string }).message, MIXED);
  } finally {
    await h.close();
  }
});

test('tool results alone: a document sent with a tool result and no text, to Llama, follows in its own turn with the text a document needs', async () => {
  const h = await startHarness({ models: MODELS });
  const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'Read it.' });
    await anthropic.messages.create({
      model: 'llama',
      max_tokens: 100,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Weather in Lyon?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '21°C' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Lyon forecast: mild.' } },
          ],
        },
      ],
    });
    const turns = sentTurns(h);
    assert.deepEqual(
      turns.map((t) => t.role),
      ['user', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.deepEqual(turns[2]!.content, [{ toolResult: { toolUseId: 'toolu_1', content: [{ text: '21°C' }] } }]);
    assert.ok('document' in turns[4]!.content[0]!, JSON.stringify(turns[4]));
    assert.deepEqual(turns[4]!.content.at(-1), { text: '.' });
  } finally {
    await h.close();
  }
});
