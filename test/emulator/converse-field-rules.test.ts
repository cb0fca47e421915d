// What real Bedrock refuses in a Converse request, as users report it (sources in src/emulator/inference-fields.ts
// and converse-schema.ts / converse.ts): inferenceConfig fields some models refuse whatever their value, the
// reasoning shape of OpenAI's GPT-5.6 / GPT-6, an empty tool description, a document without text. Driven with
// the real AWS SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { converseOutcome, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const hello: ConverseCommandInput['messages'] = [{ role: 'user', content: [{ text: 'hello' }] }];

test('converse fields: stopSequences, temperature and topP refused per model, whatever the value', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const refuses = (field: string): string => `This model doesn't support the ${field} field. Remove ${field} and try again.`;
    const cases: Array<[string, ConverseCommandInput['inferenceConfig'], string]> = [
      ['openai.gpt-oss-20b-1:0', { stopSequences: ['\nObservation:'] }, refuses('stopSequences')],
      ['openai.gpt-oss-120b-1:0', { stopSequences: [] }, refuses('stopSequences')],
      ['openai.gpt-oss-120b-1:0', { temperature: 0.7, topP: 0.9 }, 'ok'],
      ['qwen.qwen3-235b-a22b-2507-v1:0', { stopSequences: ['END'] }, refuses('stopSequences')],
      ['deepseek.v3.2', { stopSequences: ['END'] }, refuses('stopSequences')],
      ['us.deepseek.r1-v1:0', { stopSequences: ['END'], temperature: 0.5 }, 'ok'],
      ['us.openai.gpt-5.6-sol', { temperature: 1 }, refuses('temperature')],
      ['global.openai.gpt-6-luna', { topP: 0.5 }, refuses('topP')],
      ['global.moonshotai.kimi-k3', { temperature: 0.2 }, refuses('temperature')],
      ['us.amazon.nova-pro-v1:0', { stopSequences: ['END'], temperature: 0.2, topP: 0.5 }, 'ok'],
    ];
    for (const [modelId, inferenceConfig, expected] of cases)
      assert.equal(
        await converseOutcome(client, { modelId, messages: hello, inferenceConfig }),
        expected,
        `${modelId} ${JSON.stringify(inferenceConfig)}`,
      );
  });
});

test('converse fields: GPT-5.6 and GPT-6 take reasoning.effort and refuse the flat reasoning_effort; GPT-6 Astra, GPT-6.1 Sol and GPT-6.2 refuse none', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const run = (modelId: string, fields: Record<string, unknown>): Promise<string> =>
      converseOutcome(client, { modelId, messages: hello, additionalModelRequestFields: fields as never });
    assert.equal(await run('us.openai.gpt-5.6-sol', { reasoning_effort: 'high' }), "Unknown parameter: 'reasoning_effort'.");
    assert.equal(await run('us.openai.gpt-5.6-sol', { reasoning: { effort: 'high' } }), 'ok');
    assert.equal(await run('us.openai.gpt-5.6-sol', { reasoning: { effort: 'none' } }), 'ok');
    assert.equal(await run('global.openai.gpt-6-astra', { reasoning: { effort: 'xhigh' } }), 'ok');
    for (const id of ['us.openai.gpt-6-sol', 'us.openai.gpt-6-luna', 'us.openai.gpt-6.1-terra'])
      assert.equal(await run(id, { reasoning: { effort: 'none' } }), 'ok', id);
    for (const id of ['global.openai.gpt-6-astra', 'us.openai.gpt-6.1-sol', 'global.openai.gpt-6.2-astra', 'us.openai.gpt-6.2-sol'])
      assert.match(await run(id, { reasoning: { effort: 'none' } }), /does not support "none"/, id);
    assert.match(await run('global.openai.gpt-6-astra', { reasoning: { effort: 'minimal' } }), /does not support "minimal"/);
    // gpt-oss keeps the flat field.
    assert.equal(await run('openai.gpt-oss-120b-1:0', { reasoning_effort: 'high' }), 'ok');
  });
});

test('converse fields: an empty tool description and a document without text are refused in Bedrock words', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const tool = (name: string, description: string) => ({ toolSpec: { name, description, inputSchema: { json: { type: 'object' } } } });
    assert.equal(
      await converseOutcome(client, {
        modelId: 'us.amazon.nova-pro-v1:0',
        messages: hello,
        toolConfig: { tools: [tool('a', 'A.'), tool('focus_chain', '')] },
      }),
      "1 validation error detected: Value '' at 'toolConfig.tools.1.member.toolSpec.description' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    const pdf = { document: { format: 'pdf' as const, name: 'report', source: { bytes: Buffer.from('%PDF-1.4 x') } } };
    const claude = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    assert.equal(
      await converseOutcome(client, { modelId: claude, messages: [{ role: 'user', content: [pdf] }] }),
      'A text block must be included when using documents.',
    );
    assert.equal(
      await converseOutcome(client, { modelId: claude, messages: [{ role: 'user', content: [pdf, { text: 'Summarise.' }] }] }),
      'ok',
    );
  });
});

test('converse fields: Grok refuses temperature and topP in Bedrock words, and takes a stop', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const run = (inferenceConfig: Record<string, unknown>): Promise<string> =>
      converseOutcome(client, { modelId: 'us.xai.grok-4.7', messages: hello, inferenceConfig });
    assert.equal(await run({ temperature: 0.5 }), "This model doesn't support the temperature field. Remove temperature and try again.");
    assert.equal(await run({ topP: 0.5 }), "This model doesn't support the topP field. Remove topP and try again.");
    assert.equal(await run({ maxTokens: 50, stopSequences: ['END'] }), 'ok');
  });
});

test('converse fields: GLM refuses stopSequences in Bedrock words, and takes temperature and reasoning_config', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const run = (inferenceConfig: Record<string, unknown>, additionalModelRequestFields?: Record<string, unknown>): Promise<string> =>
      converseOutcome(client, { modelId: 'zai.glm-5', messages: hello, inferenceConfig, additionalModelRequestFields } as never);
    assert.equal(
      await run({ stopSequences: ['END'] }),
      "This model doesn't support the stopSequences field. Remove stopSequences and try again.",
    );
    assert.equal(await run({ maxTokens: 50, temperature: 0.5 }, { reasoning_config: 'high' }), 'ok');
  });
});

test('converse fields: a stop sequence of whitespace only is refused for every model, before a model’s own field refusal', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    for (const modelId of ['us.amazon.nova-pro-v1:0', 'us.openai.gpt-6-sol'])
      assert.equal(
        await converseOutcome(client, { modelId, messages: hello, inferenceConfig: { stopSequences: ['END', '\n'] } }),
        'The stop sequence value at inferenceConfig.stopSequences.1 is blank. Try again with a non blank stop sequence.',
        modelId,
      );
  });
});
