// InvokeModel / InvokeModelWithResponseStream / CountTokens on the native surface (docs/contract.md#bedrock-native),
// through the AWS SDK's BedrockRuntimeClient and as Claude Code's Bedrock mode sends them (no auth header,
// an ARN with `%2F`, GET /inference-profiles first), against the sidecar in front of the emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { assertBlockedLast, decodeFrames, nativeClient } from './bedrock-native-helpers.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', region: 'us-east-1' };
const PROFILE_ARN = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
const PROFILE = { name: 'profile', model: `bedrock/invoke/${PROFILE_ARN}`, provider: 'anthropic' };

const client = nativeClient;

function claudeBody(text: string, extra: Record<string, unknown> = {}): Uint8Array {
  return Buffer.from(
    JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: text }], ...extra }),
  );
}

type AnthropicEvent = Record<string, unknown> & { type: string };

async function streamEvents(h: Harness, modelId: string, body: Uint8Array): Promise<AnthropicEvent[]> {
  const out = await client(h).send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: 'application/json' }));
  const events: AnthropicEvent[] = [];
  for await (const part of out.body ?? []) {
    if (part.chunk?.bytes) events.push(JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')) as AnthropicEvent);
  }
  return events;
}

function textOf(events: AnthropicEvent[]): string {
  return events.map((e) => (e.type === 'content_block_delta' ? ((e.delta as { text?: string }).text ?? '') : '')).join('');
}

async function withRig(config: Record<string, unknown>, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [CLAUDE, NOVA, PROFILE], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

test("invokeModel and invokeModelWithResponseStream with Claude's body: Anthropic's message and events, Bedrock's framing", async () => {
  await withRig({}, async (h) => {
    const answer = await client(h).send(
      new InvokeModelCommand({ modelId: 'claude', body: claudeBody('hello 🌍'), contentType: 'application/json' }),
    );
    const message = JSON.parse(Buffer.from(answer.body).toString('utf8')) as Record<string, unknown>;
    assert.equal(message.type, 'message');
    assert.deepEqual(message.content, [{ type: 'text', text: defaultReplyText('hello 🌍') }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(typeof (message.usage as { output_tokens: number }).output_tokens, 'number');

    const events = await streamEvents(h, 'us.anthropic.claude-sonnet-4-20250514-v1:0', claudeBody('stream me'));
    assert.deepEqual(
      events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.equal(textOf(events), defaultReplyText('stream me'));
    const metrics = events.at(-1)!['amazon-bedrock-invocationMetrics'] as Record<string, number>;
    assert.equal(typeof metrics.outputTokenCount, 'number');
    const upstream = h.emu.requests.at(-1)!;
    assert.equal(upstream.operation, 'InvokeModelWithResponseStream');
    assert.equal(upstream.signature, 'valid');
  });
});

test('invoke-with-response-stream: a tool call streams as tool_use with its input in input_json_delta pieces', async () => {
  await withRig({}, async (h) => {
    h.emu.script({ type: 'tool_use', text: 'Looking.', calls: [{ name: 'Read', input: { file_path: '/tmp/secret.txt' } }] });
    const tools = [
      { name: 'Read', description: 'read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } },
    ];
    const events = await streamEvents(h, 'claude', claudeBody('read it', { tools }));
    const start = events.find((e) => e.type === 'content_block_start' && (e.content_block as { type: string }).type === 'tool_use')!;
    assert.equal((start.content_block as { name: string }).name, 'Read');
    const input = events
      .filter((e) => e.type === 'content_block_delta' && e.index === start.index)
      .map((e) => (e.delta as { partial_json: string }).partial_json)
      .join('');
    assert.deepEqual(JSON.parse(input), { file_path: '/tmp/secret.txt' });
    assert.equal((events.find((e) => e.type === 'message_delta')!.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });
});

test("invoke with Claude's body: earlier turns' thinking, signatures and redacted thinking reach Bedrock byte for byte", async () => {
  const converse = { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
  await withRig({ models: [CLAUDE, NOVA, PROFILE, converse] }, async (h) => {
    const assistant = [
      { type: 'thinking', thinking: 'I should read the file.', signature: 'c2lnbmF0dXJlLTE=' },
      { type: 'redacted_thinking', data: 'RU5DUllQVEVELVRISU5LSU5H' },
      { type: 'text', text: 'Reading it.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/tmp/x' } },
    ];
    const tools = [
      { name: 'Read', description: 'reads a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } },
    ];
    const turn = (extra: Record<string, unknown> = {}): Uint8Array =>
      Buffer.from(
        JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 4096,
          thinking: { type: 'enabled', budget_tokens: 2048 },
          tools,
          anthropic_beta: ['interleaved-thinking-2025-05-14', 'not-a-bedrock-beta-2099-01-01'],
          stream_chunk_size: 16,
          messages: [
            { role: 'user', content: 'read /tmp/x' },
            { role: 'assistant', content: assistant },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'kumquat' }] },
          ],
          ...extra,
        }),
      );
    h.emu.script({ type: 'text', text: 'kumquat it is' });
    const events = await streamEvents(h, 'claude', turn());
    assert.equal(textOf(events), 'kumquat it is');
    const upstream = h.emu.requests.at(-1)!.json as Record<string, unknown>;
    const messages = upstream.messages as Array<{ content: unknown }>;
    assert.deepEqual(messages[1]!.content, assistant, 'the assistant turn as the client sent it');
    assert.deepEqual(upstream.anthropic_beta, ['interleaved-thinking-2025-05-14'], 'betas filtered for the model');
    assert.ok(!('stream_chunk_size' in upstream), "the sidecar's knob never goes upstream");
    assert.equal(upstream.anthropic_version, 'bedrock-2023-05-31');

    // Claude on a converse alias gets the translation: the signature and redacted thinking as reasoningContent.
    h.emu.script({ type: 'text', text: 'ok' });
    await client(h).send(new InvokeModelCommand({ modelId: 'claude-converse', body: turn({ stream_chunk_size: undefined }) }));
    const converseBody = h.emu.requests.at(-1)!.json as { messages: Array<{ content: Array<Record<string, unknown>> }> };
    assert.deepEqual(converseBody.messages[1]!.content.slice(0, 2), [
      { reasoningContent: { reasoningText: { text: 'I should read the file.', signature: 'c2lnbmF0dXJlLTE=' } } },
      { reasoningContent: { redactedContent: Buffer.from('RU5DUllQVEVELVRISU5LSU5H').toString('base64') } },
    ]);
    // Content only Claude's own body takes is sent to Claude on invoke, and a 400 naming it for the converse alias.
    const doc = {
      role: 'user',
      content: [
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'a note' } },
        { type: 'text', text: 'read it' },
      ],
    };
    h.emu.script({ type: 'text', text: 'noted' });
    await client(h).send(new InvokeModelCommand({ modelId: 'claude', body: claudeBody('x', { messages: [doc] }) }));
    assert.deepEqual((h.emu.requests.at(-1)!.json as { messages: unknown[] }).messages[0], doc);
    const seen = h.emu.requests.length;
    await assert.rejects(
      client(h).send(new InvokeModelCommand({ modelId: 'claude-converse', body: claudeBody('x', { messages: [doc] }) })),
      (error: unknown) => error instanceof ValidationException && /messages\.0\.content\.0 \(a "document" block\)/.test(error.message),
    );
    assert.equal(h.emu.requests.length, seen);
  });
});

test("invoke: a key Claude's body does not take, and a family whose invoke body is not served yet, are Bedrock's ValidationException", async () => {
  await withRig({}, async (h) => {
    await assert.rejects(
      client(h).send(new InvokeModelCommand({ modelId: 'claude', body: claudeBody('x', { stream: true }) })),
      (error: unknown) => error instanceof ValidationException && /extraneous key \[stream\]/.test(error.message),
    );
    // Nova's, Llama's, OpenAI's, Jamba's and Cohere's bodies are served now (bedrock-native-invoke-nova / -prompt /
    // -chat tests); a Qwen model's not: the 400 names what is.
    await assert.rejects(
      client(h).send(new InvokeModelCommand({ modelId: 'qwen.qwen3-32b-v1:0', body: claudeBody('x') })),
      (error: unknown) =>
        error instanceof ValidationException &&
        /Converse/.test(error.message) &&
        /DeepSeek, OpenAI's models, AI21 Jamba, Cohere Command R and the embedding models/.test(error.message),
    );
    assert.equal(h.emu.requests.length, 0);
  });
});

test('invoke-with-response-stream: a guardrail block after the commit is an exception frame the SDK raises', async () => {
  const guarded = { ...CLAUDE, name: 'guarded', guardrails: ['no-birds'] };
  await withRig({ models: [guarded], guardrails: [{ name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] }] }, async (h) => {
    h.emu.script({ type: 'text', text: 'a song of the nightingale' });
    await assert.rejects(
      streamEvents(h, 'guarded', claudeBody('sing')),
      (error: unknown) => error instanceof ValidationException && error.message.includes('Violated guardrail policy'),
    );
    // On the wire: committed (200, Bedrock's event stream), then one exception frame, the last.
    h.emu.script({ type: 'text', text: 'a song of the nightingale' });
    const res = await fetch(`${h.url}/model/guarded/invoke-with-response-stream`, { method: 'POST', body: claudeBody('sing') });
    assert.equal(res.status, 200);
    const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
    assertBlockedLast(frames, 'no-birds');
    h.emu.script({ type: 'text', text: 'a song of the nightingale' });
    await assert.rejects(
      client(h).send(new InvokeModelCommand({ modelId: 'guarded', body: claudeBody('sing') })),
      (error: unknown) =>
        error instanceof ValidationException &&
        error.message.includes('Violated guardrail policy') &&
        (error as { guardrail?: string }).guardrail === 'no-birds',
    );
  });
});

test("Claude Code's Bedrock mode: GET /inference-profiles, then an unauthenticated stream to an ARN with %2F", async () => {
  await withRig({}, async (h) => {
    const list = await fetch(`${h.url}/inference-profiles?type=SYSTEM_DEFINED`);
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), { inferenceProfileSummaries: [] });
    const one = await fetch(`${h.url}/inference-profiles/${encodeURIComponent(PROFILE_ARN)}`);
    assert.equal(one.status, 404);
    assert.equal(one.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');

    const path = `/model/${PROFILE_ARN.replace('/', '%2F')}/invoke-with-response-stream`;
    const res = await fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219' },
      body: claudeBody('hi there', { metadata: { user_id: '{"session":"x"}' }, anthropic_beta: ['interleaved-thinking-2025-05-14'] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream');
    const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
    assert.ok(frames.every((f) => f.headers[':event-type'] === 'chunk' && f.headers[':message-type'] === 'event'));
    const upstream = h.emu.requests.at(-1)!;
    assert.equal(upstream.modelId, PROFILE_ARN);
    assert.ok(!('metadata' in (upstream.json as object)));
  });
});

test('countTokens through the SDK: a Claude invoke body and a Converse input, counted by Bedrock', async () => {
  await withRig({}, async (h) => {
    const invoke = await client(h).send(
      new CountTokensCommand({ modelId: 'claude', input: { invokeModel: { body: claudeBody('count these words') } } }),
    );
    assert.ok(invoke.inputTokens! > 0);
    const converse = await client(h).send(
      new CountTokensCommand({ modelId: 'nova', input: { converse: { messages: [{ role: 'user', content: [{ text: 'count' }] }] } } }),
    );
    assert.ok(converse.inputTokens! > 0);
    assert.deepEqual(
      h.emu.requests.map((r) => r.operation),
      ['CountTokens', 'CountTokens'],
    );
    await assert.rejects(
      client(h).send(new CountTokensCommand({ modelId: 'claude', input: { invokeModel: { body: claudeBody('x', { bogus: 1 }) } } })),
      (error: unknown) => error instanceof ValidationException && /bogus/.test(error.message),
    );
  });
});

test("InvokeModel to a converse alias of Claude: output_config.effort reaches Converse with thinking and without, as Claude's body carries it", async () => {
  const OPUS = { name: 'opus-converse', model: 'bedrock/converse/global.anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
  await withRig({ models: [CLAUDE, OPUS] }, async (h) => {
    const fields = async (extra: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
      await client(h).send(new InvokeModelCommand({ modelId: 'opus-converse', body: claudeBody('hi', extra) }));
      return (h.emu.requests.at(-1)!.json as { additionalModelRequestFields?: Record<string, unknown> }).additionalModelRequestFields;
    };
    assert.deepEqual(
      await fields({ output_config: { effort: 'low' } }),
      { output_config: { effort: 'low' } },
      'no thinking asked, none added',
    );
    assert.deepEqual(await fields({ thinking: { type: 'disabled' }, output_config: { effort: 'low' } }), {
      output_config: { effort: 'low' },
    });
    assert.deepEqual(await fields({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }), {
      thinking: { type: 'adaptive' },
      output_config: { effort: 'low' },
    });
    await assert.rejects(
      client(h).send(
        new InvokeModelCommand({ modelId: 'opus-converse', body: claudeBody('hi', { output_config: { effort: 'extreme' } }) }),
      ),
      (error: unknown) => error instanceof Error && error.name === 'ValidationException' && /output_config\.effort/.test(error.message),
    );
  });
});

test("InvokeModel to a converse alias of Claude 5: thinking off is Sonnet 5.5's between_tools and Opus 5's disabled, whichever the body says", async () => {
  const SONNET55 = { name: 'sonnet55-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-5-5', region: 'us-east-1' };
  const OPUS5 = { name: 'opus5-converse', model: 'bedrock/converse/us.anthropic.claude-opus-5', region: 'us-east-1' };
  await withRig({ models: [CLAUDE, SONNET55, OPUS5] }, async (h) => {
    const thinking = async (modelId: string, type: string): Promise<unknown> => {
      await client(h).send(new InvokeModelCommand({ modelId, body: claudeBody('hi', { thinking: { type } }) }));
      return (h.emu.requests.at(-1)!.json as { additionalModelRequestFields?: Record<string, unknown> }).additionalModelRequestFields
        ?.thinking;
    };
    for (const type of ['disabled', 'between_tools']) {
      assert.deepEqual(await thinking('sonnet55-converse', type), { type: 'between_tools' }, type);
      assert.deepEqual(await thinking('opus5-converse', type), { type: 'disabled' }, type);
    }
  });
});

test('invoke-with-response-stream: a tool with eager_input_streaming asks for fine-grained tool streaming, per model, as on Messages', async () => {
  const OPUS47 = { name: 'opus47', model: 'bedrock/invoke/us.anthropic.claude-opus-4-7-v1:0', region: 'us-east-1' };
  await withRig({ models: [CLAUDE, OPUS47] }, async (h) => {
    const tools = [{ name: 'write', description: 'write a file', input_schema: { type: 'object' }, eager_input_streaming: true }];
    const betas = (): unknown => (h.emu.requests.at(-1)!.json as { anthropic_beta?: unknown }).anthropic_beta;
    const sent = (): Record<string, unknown> => (h.emu.requests.at(-1)!.json as { tools: Array<Record<string, unknown>> }).tools[0]!;

    await streamEvents(h, 'claude', claudeBody('go', { tools, anthropic_beta: ['context-1m-2025-08-07'] }));
    assert.deepEqual(betas(), ['context-1m-2025-08-07', 'fine-grained-tool-streaming-2025-05-14']);
    assert.equal(sent().eager_input_streaming, undefined, "Bedrock's tool schema refuses the key");
    // Not on the non-streaming operation, and not for a model Bedrock refuses the flag for.
    await client(h).send(new InvokeModelCommand({ modelId: 'claude', body: claudeBody('go', { tools }), contentType: 'application/json' }));
    assert.equal(betas(), undefined);
    await streamEvents(h, 'opus47', claudeBody('go', { tools }));
    assert.equal(betas(), undefined);
  });
});
