/**
 * Today's Bedrock request rules end to end through the official `openai` SDK (docs/contract.md#request-rules):
 * the sidecar in front of the emulator, which checks every body as Bedrock does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'opus-4-7', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
  { name: 'opus-4-7-converse', model: 'bedrock/converse/global.anthropic.claude-opus-4-7', region: 'us-east-1' },
];

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 });
}

test('openai SDK: reasoning_effort on an adaptive-only Claude streams its reasoning (adaptive thinking, effort, display)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    for (const model of ['opus-4-7', 'opus-4-7-converse']) {
      h.emu.script({ type: 'text', text: 'Rayleigh scattering.', reasoning: 'Short wavelengths scatter more.' });
      const stream = await sdk.chat.completions.create({
        model,
        reasoning_effort: 'high',
        stream: true,
        messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      });
      let text = '';
      let reasoning = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
        text += delta?.content ?? '';
        reasoning += delta?.reasoning_content ?? '';
      }
      assert.equal(text, 'Rayleigh scattering.');
      assert.equal(reasoning, 'Short wavelengths scatter more.');
      const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>;
      const fields = (model === 'opus-4-7' ? sent : sent.additionalModelRequestFields) as Record<string, unknown>;
      assert.deepEqual(fields.thinking, { type: 'adaptive', display: 'summarized' });
      assert.deepEqual(fields.output_config, { effort: 'high' });
    }
  } finally {
    await h.close();
  }
});

test('openai SDK: reasoning_effort "none" on an adaptive-only Claude sends no thinking; "xhigh" maps to its effort', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    h.emu.script({ type: 'text', text: 'Blue.' });
    const off = await sdk.chat.completions.create({
      model: 'opus-4-7',
      reasoning_effort: 'none',
      messages: [{ role: 'user', content: 'Sky?' }],
    });
    assert.equal(off.choices[0]?.message.content, 'Blue.');
    const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>;
    assert.equal(sent.thinking, undefined);
    h.emu.script({ type: 'text', text: 'Blue.' });
    await sdk.chat.completions.create({ model: 'opus-4-7', reasoning_effort: 'xhigh', messages: [{ role: 'user', content: 'Sky?' }] });
    assert.deepEqual((JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>).output_config, { effort: 'xhigh' });
  } finally {
    await h.close();
  }
});

const LONG_SYSTEM = 'You answer questions about the warehouse inventory, tersely and exactly. '.repeat(120); // ~2.2k tokens

test('openai SDK: a cached second turn reports cached_tokens (prompt_caching auto on converse, cache_control on invoke)', async () => {
  const h = await startHarness({
    models: [
      {
        name: 'sonnet-auto',
        model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        region: 'us-east-1',
        prompt_caching: 'auto',
      },
      { name: 'sonnet-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
    ],
  });
  try {
    const sdk = client(h.url);
    for (const model of ['sonnet-auto', 'sonnet-invoke']) {
      const system =
        model === 'sonnet-auto'
          ? { role: 'system' as const, content: LONG_SYSTEM }
          : { role: 'system' as const, content: [{ type: 'text' as const, text: LONG_SYSTEM, cache_control: { type: 'ephemeral' } }] };
      const first = await sdk.chat.completions.create({
        model,
        messages: [system, { role: 'user', content: 'How many bolts?' }],
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      assert.equal(first.usage?.prompt_tokens_details?.cached_tokens ?? 0, 0, `${model}: nothing cached on the first turn`);
      const stream = await sdk.chat.completions.create({
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [
          system,
          { role: 'user', content: 'How many bolts?' },
          { role: 'assistant', content: 'Three.' },
          { role: 'user', content: 'And nuts?' },
        ],
      } as OpenAI.ChatCompletionCreateParamsStreaming);
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
      assert.ok(cached > 1024, `${model}: the second turn read the cached system prompt (cached_tokens ${cached})`);
      assert.ok((usage?.prompt_tokens ?? 0) > cached, 'prompt_tokens counts the cached tokens too');
    }
  } finally {
    await h.close();
  }
});

test('openai SDK: a PDF question reaches Bedrock as a document (converse and Claude invoke)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n').toString('base64');
    for (const model of ['opus-4-7', 'opus-4-7-converse']) {
      h.emu.script({ type: 'text', text: 'It is a catalog.' });
      const answer = await sdk.chat.completions.create({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'file', file: { filename: 'spec sheet.pdf', file_data: `data:application/pdf;base64,${pdf}` } },
              { type: 'text', text: 'What is in this PDF?' },
            ],
          },
        ],
      });
      assert.equal(answer.choices[0]?.message.content, 'It is a catalog.');
      const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as { messages: Array<{ content: Array<Record<string, unknown>> }> };
      const block = sent.messages[0]!.content[0]!;
      if (model === 'opus-4-7')
        assert.deepEqual(block, {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: pdf },
          title: 'spec sheet',
        });
      else assert.deepEqual(block, { document: { format: 'pdf', name: 'spec sheet', source: { bytes: pdf } } });
    }
    await assert.rejects(
      sdk.chat.completions.create({
        model: 'opus-4-7',
        messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-123' } }] }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /file_id/.test(err.message),
    );
  } finally {
    await h.close();
  }
});

test('openai SDK: a service_tier request goes upstream as Bedrock takes it (invoke header, converse body)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    await sdk.chat.completions.create({ model: 'opus-4-7', service_tier: 'flex', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(h.emu.requests.at(-1)!.headers['x-amzn-bedrock-service-tier'], 'flex');
    await sdk.chat.completions.create({
      model: 'opus-4-7-converse',
      service_tier: 'priority',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual((JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>).serviceTier, { type: 'priority' });
    await sdk.chat.completions.create({ model: 'opus-4-7-converse', service_tier: 'auto', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal((JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, unknown>).serviceTier, undefined);
  } finally {
    await h.close();
  }
});

test('reasoning_field: reasoning travels in reasoning_content, reasoning, or both (alias over streaming default)', async () => {
  const h = await startHarness({
    streaming: { reasoning_field: 'reasoning' },
    models: [
      { name: 'default-field', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
      { name: 'both-field', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7', region: 'us-east-1', reasoning_field: 'both' },
      {
        name: 'content-field',
        model: 'bedrock/converse/us.anthropic.claude-opus-4-7',
        region: 'us-east-1',
        reasoning_field: 'reasoning_content',
      },
    ],
  });
  try {
    const sdk = client(h.url);
    const expect: Record<string, string[]> = {
      'default-field': ['reasoning'],
      'both-field': ['reasoning_content', 'reasoning'],
      'content-field': ['reasoning_content'],
    };
    for (const [model, fields] of Object.entries(expect)) {
      h.emu.script({ type: 'text', text: 'Blue.', reasoning: 'Scattering.' });
      const stream = await sdk.chat.completions.create({
        model,
        reasoning_effort: 'low',
        stream: true,
        messages: [{ role: 'user', content: 'Sky?' }],
      });
      const seen: Record<string, string> = {};
      for await (const chunk of stream) {
        const delta = (chunk.choices[0]?.delta ?? {}) as Record<string, unknown>;
        for (const key of ['reasoning', 'reasoning_content'])
          if (typeof delta[key] === 'string') seen[key] = (seen[key] ?? '') + String(delta[key]);
      }
      assert.deepEqual(Object.keys(seen).sort(), [...fields].sort(), `${model}: stream fields`);
      for (const key of fields) assert.equal(seen[key], 'Scattering.');
      h.emu.script({ type: 'text', text: 'Blue.', reasoning: 'Scattering.' });
      const whole = await sdk.chat.completions.create({ model, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Sky?' }] });
      const message = whole.choices[0]?.message as unknown as Record<string, unknown>;
      for (const key of ['reasoning', 'reasoning_content'])
        assert.equal(message[key], fields.includes(key) ? 'Scattering.' : undefined, `${model}: ${key} in the whole answer`);
    }
  } finally {
    await h.close();
  }
});

test("openai SDK: the answer's service_tier says which tier served, when Bedrock says (invoke header, converse body)", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    const invoke = await sdk.chat.completions.create({
      model: 'opus-4-7',
      service_tier: 'flex',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(invoke.service_tier, 'flex');
    const converse = await sdk.chat.completions.create({
      model: 'opus-4-7-converse',
      service_tier: 'priority',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(converse.service_tier, 'priority');
    const stream = await sdk.chat.completions.create({
      model: 'opus-4-7',
      service_tier: 'priority',
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const tiers = new Set<unknown>();
    for await (const chunk of stream) tiers.add(chunk.service_tier);
    assert.deepEqual([...tiers], ['priority']);
    const none = await sdk.chat.completions.create({ model: 'opus-4-7', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(none.service_tier, undefined, 'no tier asked, none reported');
  } finally {
    await h.close();
  }
});

test('service_tier on converse streams: Bedrock names it in the trailing metadata, and the stream echoes it', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const sdk = client(h.url);
    // Chat: the usage chunk (after Bedrock's metadata) carries it.
    const chat = await sdk.chat.completions.create({
      model: 'opus-4-7-converse',
      service_tier: 'flex',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let usageTier: unknown;
    for await (const chunk of chat) if (chunk.usage) usageTier = chunk.service_tier;
    assert.equal(usageTier, 'flex');
    // Responses: the completed response carries it, streamed or not.
    const stream = await sdk.responses.create({ model: 'opus-4-7-converse', service_tier: 'priority', input: 'Hi', stream: true });
    let completed: { service_tier?: unknown } | undefined;
    for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
    assert.equal(completed?.service_tier, 'priority');
    const whole = await sdk.responses.create({ model: 'opus-4-7', service_tier: 'flex', input: 'Hi' });
    assert.equal(whole.service_tier, 'flex');
    // Native Converse: Bedrock's own metadata event and answer carry it back.
    const post = (op: string): Promise<Response> =>
      fetch(`${h.url}/model/opus-4-7-converse/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }], serviceTier: { type: 'priority' } }),
      });
    assert.deepEqual(((await (await post('converse')).json()) as { serviceTier?: unknown }).serviceTier, { type: 'priority' });
    const frames = Buffer.from(await (await post('converse-stream')).arrayBuffer()).toString('latin1');
    assert.match(frames, /"serviceTier":\{"type":"priority"\}/);
  } finally {
    await h.close();
  }
});

test('openai SDK: reasoning_effort on Nova 2 reaches Bedrock as its reasoningConfig — in additionalModelRequestFields on converse, in inferenceConfig on invoke — and the call is served', async () => {
  const h = await startHarness({
    models: [
      { name: 'nova-2-converse', model: 'bedrock/converse/us.amazon.nova-2-lite-v1:0', region: 'us-east-1' },
      { name: 'nova-2-invoke', model: 'bedrock/invoke/us.amazon.nova-2-lite-v1:0', region: 'us-east-1' },
    ],
  });
  try {
    const sdk = client(h.url);
    // Where each route's body carries it: Converse's additionalModelRequestFields, the invoke body's inferenceConfig.
    const routes: Array<[string, 'additionalModelRequestFields' | 'inferenceConfig']> = [
      ['nova-2-converse', 'additionalModelRequestFields'],
      ['nova-2-invoke', 'inferenceConfig'],
    ];
    for (const [model, holder] of routes) {
      h.emu.script({ type: 'text', text: 'Blue.' });
      const answer = await sdk.chat.completions.create({ model, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Sky?' }] });
      assert.equal(answer.choices[0]?.message.content, 'Blue.', model);
      const sent = JSON.parse(h.emu.requests.at(-1)!.body.toString()) as Record<string, Record<string, unknown> | undefined>;
      assert.deepEqual(sent[holder]?.reasoningConfig, { type: 'enabled', maxReasoningEffort: 'low' }, model);
    }
  } finally {
    await h.close();
  }
});
