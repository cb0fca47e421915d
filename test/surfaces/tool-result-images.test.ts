// An image a tool returned, for a model that reads images in a user turn but not inside a tool result
// (docs/contract.md#request-rules): GPT, Grok, Kimi and Mistral's vision models on Converse refuse an image in
// `toolResult` ("This model doesn't support the image field for user messages.") and read the same image beside
// the text-only result in the same user turn (anomalyco/opencode #49443 and #48069, earendil-works/pi #8643;
// probed on Bedrock 2026-08/09). The sidecar moves it there on every surface — Messages (Claude Code's Read of a
// screenshot), Responses (Codex's `view_image` answers with an `input_image` output) and native Converse —
// and the result says which image is its own. A model that reads no images at all is refused (or, on Messages,
// told) as before. The emulator records the exact Converse body each target was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ConverseCommand, type Message } from '@aws-sdk/client-bedrock-runtime';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { nativeClient } from './bedrock-native-helpers.ts';
import { PNG_BASE64 } from '../helpers/tool-results.ts';

const MODELS = [
  { name: 'gpt-6', model: 'bedrock/converse/us.openai.gpt-6-sol', region: 'us-east-1' },
  { name: 'pixtral', model: 'bedrock/converse/us.mistral.pixtral-large-2502-v1:0', region: 'us-east-1' },
  { name: 'claude', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'gpt-oss', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', region: 'us-west-2' },
];
const IMAGE = { image: { format: 'png', source: { bytes: PNG_BASE64 } } };
const anthropicImage = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } };

type Upstream = { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
const upstream = (h: Harness): Upstream => h.emu.requests.at(-1)!.json as Upstream;

/** A Messages conversation where the model called two tools and both answered, each with an image. */
function twoScreenshots(model: string): Record<string, unknown> {
  return {
    model,
    max_tokens: 100,
    tools: [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }],
    messages: [
      { role: 'user', content: 'compare the two windows' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} },
          { type: 'tool_use', id: 'toolu_2', name: 'screenshot', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'left window' }, anthropicImage] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [anthropicImage] },
          { type: 'text', text: 'which is bigger?' },
        ],
      },
    ],
  };
}

test('tool-result images: a Messages tool_result image to GPT-6 goes beside the result, each result naming its image', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: 'the left one' });
    const logged = h.logs.length;
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', body: JSON.stringify(twoScreenshots('gpt-6')) });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.ok(text.includes('the left one'));
    assert.deepEqual(upstream(h).messages[2], {
      role: 'user',
      content: [
        {
          toolResult: {
            toolUseId: 'toolu_1',
            content: [{ text: 'left window\n(the tool returned an image: image 1 after the tool results)' }],
          },
        },
        { toolResult: { toolUseId: 'toolu_2', content: [{ text: '(the tool returned an image: image 2 after the tool results)' }] } },
        IMAGE,
        IMAGE,
        { text: 'which is bigger?' },
      ],
    });
    const lines = h.logs.slice(logged).map((l) => String(l.msg));
    assert.ok(
      lines.some((l) => l.includes('reads no images in a tool result (toolu_2): image 2 moved after the tool results')),
      lines.join('\n'),
    );
  } finally {
    await h.close();
  }
});

test('tool-result images: to Pixtral (tool results alone in their turn) the images follow in a user turn of their own', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: 'the left one' });
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', body: JSON.stringify(twoScreenshots('pixtral')) });
    assert.equal(res.status, 200, await res.text());
    const turns = upstream(h).messages;
    // The results alone, the model's acknowledgement, then the images with the user's text (Converse's order).
    assert.deepEqual(
      turns.slice(2).map((t) => [t.role, t.content.map((b) => Object.keys(b)[0])]),
      [
        ['user', ['toolResult', 'toolResult']],
        ['assistant', ['text']],
        ['user', ['image', 'image', 'text']],
      ],
    );
  } finally {
    await h.close();
  }
});

test('tool-result images: a native Converse toolResult image to GPT-6 is moved beside the result, not refused', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = nativeClient(h);
    const png = Buffer.from(PNG_BASE64, 'base64');
    const messages: Message[] = [
      { role: 'user', content: [{ text: 'take a screenshot' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tool-1', name: 'screenshot', input: {} } }] },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'tool-1', content: [{ text: 'captured' }, { image: { format: 'png', source: { bytes: png } } }] } },
        ],
      },
    ];
    h.emu.script({ type: 'text', text: 'a login form' });
    const answer = await sdk.send(
      new ConverseCommand({
        modelId: 'gpt-6',
        toolConfig: { tools: [{ toolSpec: { name: 'screenshot', inputSchema: { json: { type: 'object', properties: {} } } } }] },
        messages,
      }),
    );
    assert.equal(answer.output?.message?.content?.[0]?.text, 'a login form');
    assert.deepEqual(upstream(h).messages[2]!.content, [
      {
        toolResult: {
          toolUseId: 'tool-1',
          content: [{ text: 'captured\n(the tool returned an image: image 1 after the tool results)' }],
        },
      },
      IMAGE,
    ]);
  } finally {
    await h.close();
  }
});

/** Codex's `view_image`: the function call, then its output as an `input_image` part. */
function viewImage(model: string): OpenAI.Responses.ResponseCreateParamsNonStreaming {
  return {
    model,
    tools: [
      { type: 'function', name: 'view_image', parameters: { type: 'object', properties: { path: { type: 'string' } } }, strict: false },
    ],
    input: [
      { role: 'user', content: 'what is in shot.png?' },
      { type: 'function_call', call_id: 'call_1', name: 'view_image', arguments: '{"path":"shot.png"}' },
      {
        type: 'function_call_output',
        call_id: 'call_1',
        output: [{ type: 'input_image', image_url: `data:image/png;base64,${PNG_BASE64}`, detail: 'auto' }],
      },
    ],
  };
}

test('tool-result images: a Responses function_call_output image (Codex view_image) reaches Claude in the result, GPT-6 beside it; gpt-oss is a 400 naming it', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    h.emu.script({ type: 'text', text: 'a cat' });
    const claude = await client.responses.create(viewImage('claude'));
    assert.equal(claude.output_text, 'a cat');
    assert.deepEqual(upstream(h).messages[2]!.content, [{ toolResult: { toolUseId: 'call_1', content: [IMAGE] } }]);

    h.emu.script({ type: 'text', text: 'a cat' });
    const gpt = await client.responses.create(viewImage('gpt-6'));
    assert.equal(gpt.output_text, 'a cat');
    assert.deepEqual(upstream(h).messages[2]!.content, [
      { toolResult: { toolUseId: 'call_1', content: [{ text: '(the tool returned an image: image 1 after the tool results)' }] } },
      IMAGE,
    ]);

    const before = h.emu.requests.length;
    await assert.rejects(client.responses.create(viewImage('gpt-oss')), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError && err.status === 400, String(err));
      assert.equal((err.error as Record<string, unknown>).param, 'input[2].output[0]');
      assert.match(err.message, /takes no images in a tool result \(call_1\)/);
      return true;
    });
    assert.equal(h.emu.requests.length, before, 'refused before any call');
  } finally {
    await h.close();
  }
});

test('tool-result images: a Responses tool output part that is neither text, image nor file is a 400 naming it', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const body = viewImage('gpt-6');
    (body.input as unknown as Array<Record<string, unknown>>)[2]!.output = [{ type: 'input_audio', data: 'AAAA' }];
    await assert.rejects(client.responses.create(body), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError && err.status === 400, String(err));
      assert.equal((err.error as Record<string, unknown>).param, 'input[2].output[0]');
      assert.match(err.message, /"input_audio" is not supported in a tool output/);
      return true;
    });
  } finally {
    await h.close();
  }
});
