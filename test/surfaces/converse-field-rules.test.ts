// Requests real Bedrock refuses on converse that the sidecar now adapts (docs/contract.md#request-rules), each
// checked against the emulator, which holds Bedrock's refusal: inferenceConfig fields some models refuse whatever
// their value (a no-op value left out, any other the policy's 400 or dropped with drop_params), GPT-5.6 / GPT-6's
// reasoning shape and max_tokens floor, an empty tool description, a document sent without text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;
const alias = (name: string, modelId: string, extra: Json = {}): Json => ({
  name,
  model: `bedrock/converse/${modelId}`,
  region: 'us-east-1',
  ...extra,
});
const messages = [{ role: 'user' as const, content: 'hi' }];

async function rig(run: (h: Harness, client: OpenAI) => Promise<void>): Promise<void> {
  const h = await startHarness({
    models: [
      alias('gpt-oss', 'openai.gpt-oss-120b-1:0'),
      alias('gpt-oss-lenient', 'openai.gpt-oss-120b-1:0', { drop_params: true }),
      alias('qwen', 'qwen.qwen3-235b-a22b-2507-v1:0'),
      alias('deepseek-v3', 'deepseek.v3.2'),
      alias('r1', 'us.deepseek.r1-v1:0'),
      alias('gpt-56', 'us.openai.gpt-5.6-sol'),
      alias('gpt-6', 'global.openai.gpt-6-astra'),
      alias('gpt-6-sol', 'us.openai.gpt-6-sol'),
      alias('gpt-61-sol', 'us.openai.gpt-6.1-sol'),
      alias('gpt-61-terra', 'us.openai.gpt-6.1-terra'),
      alias('gpt-62', 'global.openai.gpt-6.2-astra'),
      alias('kimi-k3', 'global.moonshotai.kimi-k3'),
      alias('kimi-k4', 'us.moonshotai.kimi-k4'),
      alias('gpt-7', 'global.openai.gpt-7-sol'),
      alias('gpt-57', 'us.openai.gpt-5.7-sol'),
      alias('gpt-55', 'us.openai.gpt-5.5'),
      alias('nova', 'us.amazon.nova-pro-v1:0'),
      alias('claude', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    ],
  });
  try {
    await run(h, new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
  } finally {
    await h.close();
  }
}

async function refused(promise: Promise<unknown>, param: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, param);
    assert.match(error.message, /on converse \(Bedrock refuses the field for this model\)/);
    return true;
  });
}

test('converse fields: a stop sequence to gpt-oss, Qwen or DeepSeek V3 is the 400 naming stop, dropped with drop_params; R1 and Nova keep it', () =>
  rig(async (h, client) => {
    const stop = ['\nObservation:'];
    for (const model of ['gpt-oss', 'qwen', 'deepseek-v3']) {
      const calls = h.emu.requests.length;
      await refused(client.chat.completions.create({ model, stop, messages }), 'stop');
      assert.equal(h.emu.requests.length, calls, `${model}: refused before any call`);
    }
    const answer = await client.chat.completions.create({ model: 'gpt-oss-lenient', stop, temperature: 0.3, messages });
    assert.ok(answer.choices[0]!.message.content);
    assert.deepEqual(sent(h).inferenceConfig, { temperature: 0.3 }, 'stop dropped, temperature kept (gpt-oss takes it)');
    // An empty list changes nothing: left out, no 400 (langchain4j sends one by default).
    await client.chat.completions.create({ model: 'gpt-oss', stop: [], messages });
    assert.equal((sent(h).inferenceConfig as Json | undefined)?.stopSequences, undefined);
    for (const model of ['r1', 'nova']) {
      await client.chat.completions.create({ model, stop, messages });
      assert.deepEqual((sent(h).inferenceConfig as Json).stopSequences, stop, model);
    }
  }));

test('converse fields: GPT-5.6, GPT-6 and Kimi K3 take no temperature or top_p — 1 left out, another value the 400', () =>
  rig(async (h, client) => {
    for (const model of ['gpt-56', 'gpt-6', 'kimi-k3']) {
      await refused(client.chat.completions.create({ model, temperature: 0.2, messages }), 'temperature');
      await refused(client.chat.completions.create({ model, top_p: 0.5, messages }), 'top_p');
      const answer = await client.chat.completions.create({ model, temperature: 1, top_p: 1, messages });
      assert.ok(answer.choices[0]!.message.content, model);
      assert.equal(sent(h).inferenceConfig, undefined, model);
      assert.ok(
        h.logs.some((l) => l.model === model && String(l.msg).startsWith('temperature 1 left out')),
        model,
      );
    }
  }));

test('converse fields: later ids take the rule of the newest probed (GPT-5.7, GPT-7, Kimi K4); GPT-5.5, before it, keeps temperature', () =>
  rig(async (h, client) => {
    for (const model of ['gpt-57', 'gpt-7', 'kimi-k4']) {
      const before = h.emu.requests.length;
      await refused(client.chat.completions.create({ model, temperature: 0.2, messages }), 'temperature');
      assert.equal(h.emu.requests.length, before, `${model}: refused before any call`);
    }
    await client.chat.completions.create({ model: 'gpt-55', temperature: 0.2, messages });
    assert.equal((sent(h).inferenceConfig as Json).temperature, 0.2);
  }));

test('converse fields: GPT-5.6 / GPT-6 get reasoning.effort (gpt-oss the flat field), GPT-6 Astra, 6.1 Sol and 6.2 refuse none, max_tokens 1 is raised to 16', () =>
  rig(async (h, client) => {
    const fields = (): unknown => sent(h).additionalModelRequestFields;
    await client.chat.completions.create({ model: 'gpt-56', reasoning_effort: 'high', messages });
    assert.deepEqual(fields(), { reasoning: { effort: 'high' } });
    await client.chat.completions.create({ model: 'gpt-56', reasoning_effort: 'none', messages });
    assert.deepEqual(fields(), { reasoning: { effort: 'none' } });
    await client.chat.completions.create({ model: 'gpt-6', reasoning_effort: 'minimal', messages });
    assert.deepEqual(fields(), { reasoning: { effort: 'low' } });
    await client.chat.completions.create({ model: 'gpt-6', reasoning_effort: 'xhigh', messages });
    assert.deepEqual(fields(), { reasoning: { effort: 'xhigh' } });
    for (const model of ['gpt-6-sol', 'gpt-61-terra']) {
      await client.chat.completions.create({ model, reasoning_effort: 'none', messages });
      assert.deepEqual(fields(), { reasoning: { effort: 'none' } }, model);
    }
    for (const model of ['gpt-6', 'gpt-61-sol', 'gpt-62'])
      await assert.rejects(client.chat.completions.create({ model, reasoning_effort: 'none', messages }), /"none" is not supported/);
    await client.chat.completions.create({ model: 'gpt-oss', reasoning_effort: 'high', messages });
    assert.deepEqual(fields(), { reasoning_effort: 'high' });
    // Claude Code checks a model it switches to with max_tokens 1; GPT-5.6 takes no fewer than 16.
    const probe = await client.chat.completions.create({ model: 'gpt-56', max_tokens: 1, messages });
    assert.ok(probe.choices[0]);
    assert.equal((sent(h).inferenceConfig as Json).maxTokens, 16);
  }));

test('converse fields: an empty tool description is left out; a document sent without text gets one "." after it', () =>
  rig(async (h, client) => {
    const tools = [
      { type: 'function' as const, function: { name: 'focus_chain', description: '', parameters: { type: 'object', properties: {} } } },
      {
        type: 'function' as const,
        function: { name: 'lookup', description: 'Looks it up.', parameters: { type: 'object', properties: {} } },
      },
    ];
    for (const model of ['nova', 'claude']) {
      h.emu.script({ type: 'text', text: 'ok' });
      const answer = await client.chat.completions.create({ model, tools, messages });
      assert.equal(answer.choices[0]!.message.content, 'ok', model);
      const specs = ((sent(h).toolConfig as Json).tools as Array<{ toolSpec: Json }>).map((t) => t.toolSpec);
      assert.ok(!('description' in specs[0]!), model);
      assert.equal(specs[1]!.description, 'Looks it up.');
    }
    const pdf = `data:application/pdf;base64,${Buffer.from('%PDF-1.4 minimal').toString('base64')}`;
    h.emu.script({ type: 'text', text: 'A report.' });
    const answer = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'report.pdf', file_data: pdf } }] }],
    });
    assert.equal(answer.choices[0]!.message.content, 'A report.');
    const content = (sent(h).messages as Array<{ content: Json[] }>)[0]!.content;
    assert.deepEqual(
      content.map((b) => Object.keys(b)[0]),
      ['document', 'text'],
    );
    assert.equal(content[1]!.text, '.');
  }));
