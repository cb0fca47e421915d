// Where Bedrock's Converse takes an image, per model (src/emulator/image-support.ts cites the measurements): an
// image inside a toolResult only for Claude, Nova and Llama 4; the same image hoisted beside a text-only toolResult
// in the same user turn for any model that reads images; none at all for a text-only model; an id the emulator has
// no measurement for is not refused. Driven with the real AWS SDK, and raw for the stream and the order of checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ContentBlock, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { converseOutcome, post, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const REFUSED = "This model doesn't support the image field for user messages. Remove image and try again.";
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const image: ContentBlock = { image: { format: 'png', source: { bytes: PNG } } };
// Nine letters and digits: an id Mistral takes too.
const ID = 'shot00001';
const toolConfig: ConverseCommandInput['toolConfig'] = {
  tools: [{ toolSpec: { name: 'screenshot', inputSchema: { json: { type: 'object' } } } }],
};

/** A tool call answered in the last user turn by `answer` (the tool result, and whatever stands beside it). */
function afterToolCall(answer: ContentBlock[]): ConverseCommandInput['messages'] {
  return [
    { role: 'user', content: [{ text: 'Take a screenshot.' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: ID, name: 'screenshot', input: {} } }] },
    { role: 'user', content: answer },
  ];
}

const inResult = afterToolCall([{ toolResult: { toolUseId: ID, content: [{ text: 'Taken.' }, image] } }]);
const hoisted = afterToolCall([{ toolResult: { toolUseId: ID, content: [{ text: 'Taken: the image follows.' }] } }, image]);
const userLevel: ConverseCommandInput['messages'] = [{ role: 'user', content: [{ text: 'What is this?' }, image] }];

test('emulator images: GPT-6 refuses an image inside a toolResult in Bedrock words, and takes it hoisted beside the result', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    for (const modelId of ['us.openai.gpt-6-astra', 'global.openai.gpt-6-sol', 'openai.gpt-5.6-luna']) {
      assert.equal(await converseOutcome(client, { modelId, messages: inResult, toolConfig }), REFUSED, modelId);
      assert.equal(await converseOutcome(client, { modelId, messages: hoisted, toolConfig }), 'ok', modelId);
      assert.equal(await converseOutcome(client, { modelId, messages: userLevel }), 'ok', modelId);
    }
  });
});

test('emulator images: only Claude, Nova and Llama 4 take an image inside a toolResult', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const takes = [
      'us.anthropic.claude-sonnet-4-6',
      'us.amazon.nova-pro-v1:0',
      'global.amazon.nova-2-lite-v1:0',
      'us.meta.llama4-maverick-17b-instruct-v1:0',
      'meta.llama4-scout-17b-instruct-v1:0',
    ];
    for (const modelId of takes) assert.equal(await converseOutcome(client, { modelId, messages: inResult, toolConfig }), 'ok', modelId);
    // Models that read images at user level, and still not in a tool result (opencode #49444).
    const refuse = [
      'mistral.pixtral-large-2502-v1:0',
      'mistral.ministral-3-8b-instruct',
      'qwen.qwen3-vl-235b-a22b',
      'google.gemma-3-27b-it',
      'moonshotai.kimi-k3',
      'xai.grok-4.6',
      'us.meta.llama3-2-90b-instruct-v1:0',
    ];
    for (const modelId of refuse) {
      assert.equal(await converseOutcome(client, { modelId, messages: inResult, toolConfig }), REFUSED, modelId);
      assert.equal(await converseOutcome(client, { modelId, messages: userLevel }), 'ok', modelId);
    }
  });
});

test('emulator images: a text-only model refuses a user-level image; one that reads images, or that no source names, takes it', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const textOnly = [
      'openai.gpt-oss-120b-1:0',
      'us.deepseek.r1-v1:0',
      'deepseek.v3.2',
      'moonshot.kimi-k2-thinking',
      'us.amazon.nova-micro-v1:0',
      'us.meta.llama3-3-70b-instruct-v1:0',
      'meta.llama3-8b-instruct-v1:0',
      'mistral.mistral-large-2402-v1:0',
      'qwen.qwen3-32b-v1:0',
      'nvidia.nemotron-super-3-120b',
      'minimax.minimax-m2',
      'zai.glm-5',
    ];
    for (const modelId of textOnly) assert.equal(await converseOutcome(client, { modelId, messages: userLevel }), REFUSED, modelId);
    // Nova Micro reads no image in a tool result either, though Nova takes one there.
    assert.equal(await converseOutcome(client, { modelId: 'us.amazon.nova-micro-v1:0', messages: inResult, toolConfig }), REFUSED);
    const reads = [
      'moonshotai.kimi-k3',
      'moonshotai.kimi-k2.5',
      'mistral.ministral-3-8b-instruct',
      'mistral.mistral-large-3-675b-instruct',
      'nvidia.nemotron-nano-12b-v2',
      'us.openai.gpt-6-sol',
      'openai.gpt-5.4',
      'xai.grok-4.6',
      'google.gemma-3-4b-it',
      'us.meta.llama3-2-11b-instruct-v1:0',
      'us.amazon.nova-lite-v1:0',
    ];
    // No measurement names these: Grok 4.7, Mistral Large 2407, Llama 3.2 1B.
    const unknown = ['xai.grok-4.7', 'mistral.mistral-large-2407-v1:0', 'meta.llama3-2-1b-instruct-v1:0'];
    for (const modelId of [...reads, ...unknown])
      assert.equal(await converseOutcome(client, { modelId, messages: userLevel }), 'ok', modelId);
  });
});

test('emulator images: the model is read through profiles and ARNs; an application inference profile is not judged', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const cases: Array<[string, ConverseCommandInput['messages'], string]> = [
      ['arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-oss-20b-1:0', userLevel, REFUSED],
      ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.openai.gpt-6-sol', inResult, REFUSED],
      ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.openai.gpt-6-sol', hoisted, 'ok'],
      ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0', inResult, 'ok'],
      ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6', inResult, 'ok'],
    ];
    for (const [modelId, messages, expected] of cases)
      assert.equal(await converseOutcome(client, { modelId, messages, toolConfig }), expected, modelId);
  });
});

test('emulator images: ConverseStream refuses before the stream, and the body shape is checked before the image', async () => {
  await withEmulator(async (emu) => {
    const body = (extra: Record<string, unknown> = {}): string =>
      JSON.stringify({
        messages: [
          { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG.toString('base64') } } }] },
        ],
        ...extra,
      });
    const gptOss = encodeURIComponent('openai.gpt-oss-120b-1:0');
    const stream = await post(emu.url, `/model/${gptOss}/converse-stream`, body());
    assert.equal(stream.status, 400);
    assert.equal(stream.headers['x-amzn-errortype']?.toString().split(':')[0], 'ValidationException');
    assert.deepEqual(JSON.parse(stream.body.toString()), { message: REFUSED });
    const shape = await post(emu.url, `/model/${gptOss}/converse`, body({ inferenceConfig: { max_tokens: 5 } }));
    assert.equal(shape.status, 400);
    assert.match(JSON.parse(shape.body.toString()).message, /extraneous key \[max_tokens\]/);
  });
});
