// Request-rule errors and log lines name the position in the body the CLIENT sent (docs/contract.md#request-rules),
// on every surface: a system prompt, which the neutral request keeps among its messages (the Messages surface's
// `system` and the Responses `instructions` are not in the client's list at all), and a user turn whose tool
// results become messages of their own must not shift the position named. Each case puts a system prompt and
// a bad item at a known place in the client's body; the 400 names exactly that place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConverseCommand, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { invokeJson, nativeClient } from '../surfaces/bedrock-native-helpers.ts';

// gpt-oss on converse reads no images and no documents: the request rules refuse them, naming the part.
const GPT_OSS = { name: 'gpt-oss', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', region: 'us-west-2' };
const LLAMA = { name: 'llama', model: 'bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0', region: 'us-east-1' };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const DATA_URL = `data:image/png;base64,${PNG}`;

type Json = Record<string, unknown>;

async function withRig(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [GPT_OSS, LLAMA] });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

async function post(h: Harness, path: string, body: Json): Promise<{ status: number; message: string; param: unknown }> {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const answer = (await res.json()) as { error?: { message?: string; param?: unknown } };
  return { status: res.status, message: String(answer.error?.message), param: answer.error?.param };
}

test('chat: a system message is one of the client’s messages; an image four messages in is messages[3].content[1]', () =>
  withRig(async (h) => {
    const res = await post(h, '/v1/chat/completions', {
      model: 'gpt-oss',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: DATA_URL } },
          ],
        },
      ],
    });
    assert.equal(res.status, 400);
    assert.match(res.message, /^messages\[3\]\.content\[1\]: .*takes no images/);
    assert.equal(res.param, 'messages[3].content[1]');
    assert.equal(h.emu.requests.length, 0);
  }));

test('chat: tool-call arguments that are not JSON are named at the client’s tool call', () =>
  withRig(async (h) => {
    const res = await post(h, '/v1/chat/completions', {
      model: 'gpt-oss',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{oops' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'snow' },
      ],
      tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object', properties: {} } } }],
    });
    assert.equal(res.status, 400);
    assert.match(res.message, /^messages\[2\]\.tool_calls\[0\]: tool call "w" has arguments that are not valid JSON/);
  }));

test('messages: with a system prompt, an image in the third message is messages[2].content[1], not the neutral messages[3]', () =>
  withRig(async (h) => {
    const res = await post(h, '/v1/messages', {
      model: 'gpt-oss',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
      ],
    });
    assert.equal(res.status, 400);
    assert.match(res.message, /^messages\[2\]\.content\[1\]: .*takes no images/);
  }));

test('messages: after a tool result in the same turn, an image is named by its own block (the result became a message of its own)', () =>
  withRig(async (h) => {
    const res = await post(h, '/v1/messages', {
      model: 'gpt-oss',
      max_tokens: 50,
      system: [{ type: 'text', text: 'Be brief.' }],
      tools: [{ name: 'look', input_schema: { type: 'object', properties: {} } }],
      messages: [
        { role: 'user', content: 'Look.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'look', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'seen' },
            { type: 'text', text: 'And this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
      ],
    });
    assert.equal(res.status, 400);
    assert.match(res.message, /^messages\[2\]\.content\[2\]: .*takes no images/);
  }));

test('messages: a dropped tool-result image is logged at the client’s block, a system prompt before it', () =>
  withRig(async (h) => {
    h.emu.script({ type: 'text', text: 'ok' });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llama',
        max_tokens: 50,
        system: 'Be brief.',
        tools: [{ name: 'shot', input_schema: { type: 'object', properties: {} } }],
        messages: [
          { role: 'user', content: 'Take a screenshot.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'shot', input: {} }] },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [
                  { type: 'text', text: 'captured' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const lines = h.logs.map((l) => String(l.msg));
    assert.ok(
      lines.some((l) => l.startsWith('messages[2].content[0].content[1]: ') && l.includes('takes no images in a tool result')),
      lines.join('\n'),
    );
  }));

test('responses: with instructions and a developer item, an image is named input[2].content[1]; bad arguments at their input item', () =>
  withRig(async (h) => {
    const image = await post(h, '/v1/responses', {
      model: 'gpt-oss',
      instructions: 'Be brief.',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Answer in English.' }] },
        { role: 'user', content: 'Hi' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: DATA_URL },
          ],
        },
      ],
    });
    assert.equal(image.status, 400);
    assert.match(image.message, /^input\[2\]\.content\[1\]: .*takes no images/);

    const args = await post(h, '/v1/responses', {
      model: 'gpt-oss',
      instructions: 'Be brief.',
      tools: [{ type: 'function', name: 'w', parameters: { type: 'object', properties: {} } }],
      input: [
        { role: 'user', content: 'Weather?' },
        { type: 'function_call', call_id: 'c1', name: 'w', arguments: '{oops' },
        { type: 'function_call_output', call_id: 'c1', output: 'snow' },
      ],
    });
    assert.equal(args.status, 400);
    assert.match(args.message, /^input\[1\]: tool call "w" has arguments that are not valid JSON/);
    assert.equal(h.emu.requests.length, 0);
  }));

test('native Converse: with a system prompt, an image is named messages.2.content.1, as the app wrote it', () =>
  withRig(async (h) => {
    const bytes = Buffer.from(PNG, 'base64');
    await assert.rejects(
      nativeClient(h).send(
        new ConverseCommand({
          modelId: 'gpt-oss',
          system: [{ text: 'Be brief.' }],
          messages: [
            { role: 'user', content: [{ text: 'Hi' }] },
            { role: 'assistant', content: [{ text: 'Hello.' }] },
            { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes } } }] },
          ],
        }),
      ),
      (error: unknown) => error instanceof ValidationException && /^messages\.2\.content\.1: .*takes no images/.test(error.message),
    );
    assert.equal(h.emu.requests.length, 0);
  }));

test('native InvokeModel: an OpenAI body’s image, after a developer message, is named messages[2].content[1] for a converse target', () =>
  withRig(async (h) => {
    await assert.rejects(
      invokeJson(h, 'gpt-oss', {
        max_completion_tokens: 50,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: DATA_URL } },
            ],
          },
        ],
      }),
      (error: unknown) => error instanceof ValidationException && /^messages\[2\]\.content\[1\]: .*takes no images/.test(error.message),
    );
    assert.equal(h.emu.requests.length, 0);
  }));
