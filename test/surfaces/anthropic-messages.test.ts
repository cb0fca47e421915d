/**
 * The Anthropic Messages surface through the official @anthropic-ai/sdk, against the sidecar and the
 * emulator (docs/contract.md#anthropic-messages): create, stream, finalMessage, tool use, the thinking round
 * trip with its signature, Claude's native body (betas per model, keys Bedrock refuses dropped, system-role
 * messages), other families through Converse, errors in Anthropic's shape, and guardrail blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { ScriptedReply } from '../../src/emulator/index.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';

const CLAUDE = { name: 'claude-sonnet-4-5', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' };
const TOKEN = 'sidecar-test-token';

async function rig(extra: Record<string, unknown> = {}): Promise<{ h: Harness; client: Anthropic }> {
  const h = await startHarness({ server: { auth_token: TOKEN }, models: [CLAUDE, NOVA], ...extra });
  // The SDK sends its key as Authorization: Bearer; maxRetries 0 so a failure shows at once.
  return { h, client: new Anthropic({ baseURL: h.url, apiKey: TOKEN, maxRetries: 0 }) };
}

function lastUpstreamBody(h: Harness): Record<string, unknown> {
  const request = h.emu.requests.at(-1);
  assert.ok(request, 'the emulator saw a request');
  return JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
}

test('messages: create answers a message with text, stop reason and Bedrock usage', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'pong', usage: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 5, cacheWriteTokens: 2 } });
    const message = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'ping' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, 'claude-sonnet-4-5');
    assert.deepEqual(message.content, [{ type: 'text', text: 'pong' }]);
    assert.equal(message.stop_reason, 'end_turn');
    // Claude's whole answer on Bedrock says how its cache writes split by ttl: kept (cache_creation).
    assert.deepEqual(message.usage, {
      input_tokens: 12,
      cache_creation_input_tokens: 2,
      cache_read_input_tokens: 5,
      cache_creation: { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 0 },
      output_tokens: 3,
    });
    const body = lastUpstreamBody(h);
    assert.equal(body.anthropic_version, 'bedrock-2023-05-31');
    assert.ok(!('model' in body) && !('stream' in body));
    assert.equal(h.emu.requests.at(-1)!.operation, 'InvokeModel');
    const line = h.logs.find((l) => l.msg === 'request completed' && l.surface === 'messages');
    assert.ok(line, 'the log line says surface messages');
  } finally {
    await h.close();
  }
});

test('messages: stream + finalMessage render Anthropic events in order, with stream_chunk_size on text deltas', async () => {
  const { h, client } = await rig();
  try {
    const text = 'Héllo wörld, this is a streamed answer.';
    h.emu.script({ type: 'text', text, usage: { inputTokens: 7, outputTokens: 9 } });
    const raw = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 50,
        stream: true,
        stream_chunk_size: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
    const sse = await raw.text();
    const start = JSON.parse(/^data: (.*)$/m.exec(sse)![1]!) as { message: { usage: { input_tokens: number } } };
    assert.equal(start.message.usage.input_tokens, 7, 'message_start carries the prompt usage Bedrock reported first');
    const types = [...sse.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      types.filter((t) => t !== 'content_block_delta'),
      ['message_start', 'content_block_start', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    const deltas = [...sse.matchAll(/^data: (.*)$/gm)]
      .map((m) => JSON.parse(m[1]!) as { type: string; delta?: { text?: string } })
      .filter((d) => d.type === 'content_block_delta')
      .map((d) => d.delta!.text!);
    assert.equal(deltas.join(''), text);
    for (const d of deltas)
      assert.ok(Buffer.byteLength(d) <= 8 || [...d].length === 1, `text_delta ${JSON.stringify(d)} obeys stream_chunk_size 8`);

    h.emu.script({ type: 'text', text: 'streamed', usage: { inputTokens: 4, outputTokens: 2 } });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    let seen = '';
    stream.on('text', (t) => {
      seen += t;
    });
    const final = await stream.finalMessage();
    assert.equal(seen, 'streamed');
    assert.equal(final.content.length, 1);
    assert.ok(final.content[0]?.type === 'text' && final.content[0].text === 'streamed');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 2);
    assert.equal(final.usage.input_tokens, 4);
  } finally {
    await h.close();
  }
});

test('messages: tool use, then the thinking round trip: the signature goes back byte for byte', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({
      type: 'tool_use',
      reasoning: 'I should read the file.',
      calls: [{ id: 'toolu_1', name: 'Read', input: { file_path: '/tmp/x' } }],
    });
    const tools = [
      {
        name: 'Read',
        description: 'reads a file',
        input_schema: { type: 'object' as const, properties: { file_path: { type: 'string' } } },
      },
    ];
    const first = await client.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 2048,
        tools,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'read /tmp/x' }],
      })
      .finalMessage();
    assert.equal(first.stop_reason, 'tool_use');
    const thinking = first.content.find((b) => b.type === 'thinking');
    assert.ok(thinking && thinking.type === 'thinking' && thinking.signature.length > 0, 'a signed thinking block');
    assert.equal(thinking.thinking, 'I should read the file.');
    const call = first.content.find((b) => b.type === 'tool_use');
    assert.ok(call && call.type === 'tool_use');
    assert.deepEqual(call.input, { file_path: '/tmp/x' });

    h.emu.script({ type: 'text', text: 'kumquat' });
    const second = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      tools,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'read /tmp/x' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: call.id, content: 'kumquat-7741', cache_control: { type: 'ephemeral' } }],
        },
      ],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'kumquat' }]);
    const body = lastUpstreamBody(h);
    const messages = body.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
    assert.deepEqual(messages[1]!.content[0], { type: 'thinking', thinking: thinking.thinking, signature: thinking.signature });
    assert.deepEqual(messages[2]!.content[0], {
      type: 'tool_result',
      tool_use_id: call.id,
      content: 'kumquat-7741',
      cache_control: { type: 'ephemeral' },
    });
  } finally {
    await h.close();
  }
});

test('messages via Converse (Claude on a converse alias): the signature and redacted thinking travel both ways', async () => {
  const converse = { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
  const { h, client } = await rig({ models: [CLAUDE, NOVA, converse] });
  try {
    h.emu.script({
      type: 'tool_use',
      reasoning: 'I should read the file.',
      calls: [{ id: 'toolu_1', name: 'Read', input: { file_path: '/tmp/x' } }],
    });
    const tools = [
      {
        name: 'Read',
        description: 'reads a file',
        input_schema: { type: 'object' as const, properties: { file_path: { type: 'string' } } },
      },
    ];
    const ask = { model: 'claude-converse', max_tokens: 2048, tools, thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const first = await client.messages.stream({ ...ask, messages: [{ role: 'user', content: 'read /tmp/x' }] }).finalMessage();
    assert.equal(h.emu.requests.at(-1)!.operation, 'ConverseStream');
    const thinking = first.content.find((b) => b.type === 'thinking');
    assert.ok(thinking && thinking.type === 'thinking' && thinking.signature.length > 0, "Converse's signature arrives as signature_delta");
    const call = first.content.find((b) => b.type === 'tool_use');
    assert.ok(call && call.type === 'tool_use');

    // The whole answer carries it too.
    h.emu.script({ type: 'text', text: 'hm', reasoning: 'Thinking.' });
    const whole = await client.messages.create({ ...ask, messages: [{ role: 'user', content: 'again' }] });
    const signed = whole.content.find((b) => b.type === 'thinking');
    assert.ok(signed && signed.type === 'thinking' && signed.signature.length > 0, 'a signed thinking block in the whole answer');

    h.emu.script({ type: 'text', text: 'kumquat' });
    const redacted = {
      type: 'redacted_thinking' as const,
      data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDPH4VtzAb9g4DPz+zgAJeZyzQ/nZPo1WAKeDQ',
    };
    await client.messages.create({
      ...ask,
      messages: [
        { role: 'user', content: 'read /tmp/x' },
        { role: 'assistant', content: [...first.content.slice(0, 1), redacted, ...first.content.slice(1)] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'kumquat-7741' }] },
      ],
    });
    const body = lastUpstreamBody(h);
    const messages = body.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
    assert.deepEqual(messages[1]!.content.slice(0, 2), [
      { reasoningContent: { reasoningText: { text: thinking.thinking, signature: thinking.signature } } },
      { reasoningContent: { redactedContent: Buffer.from(redacted.data).toString('base64') } },
    ]);
    assert.ok('toolUse' in messages[1]!.content[2]!);
  } finally {
    await h.close();
  }
});

test('messages via Converse: several signed thinking blocks in one answer keep their own signatures, both ways and in order', async () => {
  const converse = { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
  const { h, client } = await rig({ models: [CLAUDE, NOVA, converse] });
  try {
    // Claude's interleaved thinking: a thinking block, text and a call, then a second thinking block before a second call.
    const answer: ScriptedReply = {
      type: 'tool_use',
      reasoning: 'I should read the file.',
      text: 'Reading both.',
      calls: [
        { id: 'toolu_1', name: 'Read', input: { file_path: '/tmp/x' } },
        { id: 'toolu_2', name: 'Read', input: { file_path: '/tmp/y' }, reasoning: 'And the other one, too.' },
      ],
    };
    const tools = [
      {
        name: 'Read',
        description: 'reads a file',
        input_schema: { type: 'object' as const, properties: { file_path: { type: 'string' } } },
      },
    ];
    const ask = { model: 'claude-converse', max_tokens: 2048, tools, thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const shape = (content: Anthropic.ContentBlock[]): string[] =>
      content.map((b) => (b.type === 'thinking' ? `thinking:${b.thinking}` : b.type === 'tool_use' ? `tool_use:${b.id}` : b.type));

    h.emu.script(answer);
    const streamed = await client.messages.stream({ ...ask, messages: [{ role: 'user', content: 'read both' }] }).finalMessage();
    h.emu.script(answer);
    const whole = await client.messages.create({ ...ask, messages: [{ role: 'user', content: 'read both' }] });
    for (const message of [streamed, whole]) {
      assert.deepEqual(shape(message.content), [
        'thinking:I should read the file.',
        'text',
        'tool_use:toolu_1',
        'thinking:And the other one, too.',
        'tool_use:toolu_2',
      ]);
      const signatures = message.content.flatMap((b) => (b.type === 'thinking' ? [b.signature] : []));
      assert.equal(new Set(signatures).size, 2, `each block its own signature: ${signatures.join(', ')}`);
      assert.ok(signatures.every((s) => s.length > 0));
    }

    // Handed back: each block goes to Bedrock with its own signature, where it stood.
    h.emu.script({ type: 'text', text: 'both read' });
    await client.messages.create({
      ...ask,
      messages: [
        { role: 'user', content: 'read both' },
        { role: 'assistant', content: streamed.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'x' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'y' },
          ],
        },
      ],
    });
    const sent = (lastUpstreamBody(h).messages as Array<{ content: Array<Record<string, unknown>> }>)[1]!.content;
    const thinking = streamed.content.filter((b) => b.type === 'thinking');
    assert.deepEqual(sent, [
      { reasoningContent: { reasoningText: { text: thinking[0]!.thinking, signature: thinking[0]!.signature } } },
      { text: 'Reading both.' },
      { toolUse: { toolUseId: 'toolu_1', name: 'Read', input: { file_path: '/tmp/x' } } },
      { reasoningContent: { reasoningText: { text: thinking[1]!.thinking, signature: thinking[1]!.signature } } },
      { toolUse: { toolUseId: 'toolu_2', name: 'Read', input: { file_path: '/tmp/y' } } },
    ]);
  } finally {
    await h.close();
  }
});

test('messages: what Claude Code sends reaches Bedrock as its Claude body takes it (betas per model, keys dropped, system messages)', async () => {
  const { h } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    const response = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': TOKEN,
        'anthropic-version': '2023-06-01',
        'anthropic-beta':
          'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,prompt-caching-scope-2026-01-05',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 32000,
        stream: false,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Reply with pong', cache_control: { type: 'ephemeral' } }] },
          { role: 'system', content: 'Available agent types: none' },
        ],
        system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
        tools: [{ name: 'Read', description: 'r', input_schema: { type: 'object' }, eager_input_streaming: true }],
        metadata: { user_id: '{"device_id":"abc"}' },
        thinking: { type: 'enabled', budget_tokens: 31999 },
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
        some_future_key: 1,
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const body = lastUpstreamBody(h);
    assert.deepEqual(body.anthropic_beta, ['interleaved-thinking-2025-05-14', 'context-management-2025-06-27']);
    // Claude Code's context_management is its thinking clearing alone, which Bedrock is not sent: nothing is left of it
    // (tool-use clearing and compaction do go: claude-context-management.test.ts).
    for (const key of ['metadata', 'context_management', 'some_future_key', 'model', 'stream']) assert.ok(!(key in body), `${key} dropped`);
    assert.deepEqual(body.tools, [{ name: 'Read', description: 'r', input_schema: { type: 'object' } }]);
    assert.deepEqual(body.system, [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }]);
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Reply with pong', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: '<system-reminder>\nAvailable agent types: none\n</system-reminder>' },
        ],
      },
    ]);
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 31999 });
  } finally {
    await h.close();
  }
});

test('messages: another family goes through Converse, translated both ways', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({
      type: 'tool_use',
      text: 'Let me look.',
      calls: [{ id: 'tooluse_1', name: 'lookup', input: { q: 'x' } }],
      usage: { inputTokens: 3, outputTokens: 4 },
    });
    const message = await client.messages.create({
      model: 'nova',
      max_tokens: 100,
      system: 'be brief',
      stop_sequences: ['END'],
      tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'look x up' }],
    });
    assert.equal(h.emu.requests.at(-1)!.operation, 'Converse');
    const body = lastUpstreamBody(h);
    assert.deepEqual(body.system, [{ text: 'be brief' }]);
    assert.deepEqual((body.inferenceConfig as Record<string, unknown>).stopSequences, ['END']);
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'tooluse_1', name: 'lookup', input: { q: 'x' } },
    ]);
    // A document only Claude's own body can carry (one fetched from a URL) is a 400 naming it for Converse.
    await assert.rejects(
      client.messages.create({
        model: 'nova',
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://example.com/x.pdf' } }] }],
      }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /messages\[0\]\.content\[0\]/.test(error.message),
    );
  } finally {
    await h.close();
  }
});

test('messages: errors before the commit are Anthropic-shaped; auth takes x-api-key and Bearer', async () => {
  const { h, client } = await rig();
  try {
    await assert.rejects(
      client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.NotFoundError,
    );
    const bad = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'wrong' }, body: '{}' });
    assert.equal(bad.status, 401);
    assert.deepEqual(((await bad.json()) as { type: string; error: { type: string } }).error.type, 'authentication_error');
    const missing = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TOKEN },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [] }),
    });
    assert.equal(missing.status, 400);
    const json = (await missing.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(json.type, 'error');
    assert.equal(json.error.type, 'invalid_request_error');
    assert.match(json.error.message, /max_tokens/);
    h.emu.script(
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'Rate exceeded' },
    );
    await assert.rejects(
      client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.RateLimitError,
    );
  } finally {
    await h.close();
  }
});

test("messages: an unknown path under /v1/messages/ is Anthropic's 404, a wrong method Anthropic's 405 with allow", async () => {
  const { h, client } = await rig();
  try {
    type AnthropicError = { type: string; error: { type: string; message: string } };
    for (const path of ['/v1/messages/frob', '/v1/messages/batches', '/v1/messages/count_tokens/x']) {
      const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'x-api-key': TOKEN }, body: '{}' });
      assert.equal(res.status, 404, path);
      const json = (await res.json()) as AnthropicError;
      assert.equal(json.type, 'error', path);
      assert.equal(json.error.type, 'not_found_error', path);
      assert.match(json.error.message, /no route for POST/, path);
    }
    await assert.rejects(client.post('/v1/messages/frob', { body: {} }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.NotFoundError, String(error));
      assert.equal((error.error as AnthropicError).error.type, 'not_found_error');
      return true;
    });
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const res = await fetch(`${h.url}${path}`, { headers: { 'x-api-key': TOKEN } });
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get('allow'), 'POST', path);
      const json = (await res.json()) as AnthropicError;
      assert.equal(json.type, 'error', path);
      assert.equal(json.error.type, 'invalid_request_error', path);
      await assert.rejects(client.get(path), (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError && error.status === 405, String(error));
        assert.equal((error.error as AnthropicError).error.type, 'invalid_request_error');
        return true;
      });
    }
    // Outside Anthropic's namespace an unknown path keeps OpenAI's shape.
    const openai = (await (await fetch(`${h.url}/v1/frob`, { method: 'POST', body: '{}' })).json()) as { error: { type: string } };
    assert.equal(openai.error.type, 'not_found');
  } finally {
    await h.close();
  }
});

test('messages: a guardrail block mid-stream raises with the message in the SDK, and the non-streaming retry gets the 400', async () => {
  const { h, client } = await rig({
    guardrails: [
      {
        name: 'no-secrets',
        type: 'regex',
        patterns: ['(?i)project\\s+nightingale'],
        stages: ['output'],
        stream_mode: 'sync',
        interval_chars: 20,
      },
    ],
    models: [{ ...CLAUDE, guardrails: ['no-secrets'] }, NOVA],
  });
  try {
    const text = 'Here is a harmless start of an answer that goes on for a while. Then: Project Nightingale.';
    h.emu.script({ type: 'text', text });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'tell me' }],
    });
    await assert.rejects(
      stream.finalMessage(),
      (error: unknown) => error instanceof Error && /Violated guardrail policy/.test(error.message),
    );

    h.emu.script({ type: 'text', text });
    await assert.rejects(
      client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'tell me' }] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /Violated guardrail policy/.test(error.message),
    );

    h.emu.script({ type: 'text', text });
    const raw = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'tell me' }] }),
    });
    const sse = await raw.text();
    assert.ok(
      sse.endsWith(
        'event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"Violated guardrail policy","guardrail":"no-secrets"}}\n\n',
      ),
      sse.slice(-300),
    );
    assert.ok(!sse.includes('message_stop'), 'no message_stop after the error');
  } finally {
    await h.close();
  }
});

test('messages: count_tokens asks Bedrock CountTokens with the body the call would send, and says clearly where it cannot count', async () => {
  const { h, client } = await rig({
    models: [
      CLAUDE,
      NOVA,
      { name: 'llama', model: 'bedrock/invoke/meta.llama3-8b-instruct-v1:0', region: 'us-east-1' },
      { name: 'opus-47', model: 'bedrock/invoke/global.anthropic.claude-opus-4-7', region: 'us-east-1' },
    ],
  });
  try {
    const counted = await client.messages.countTokens({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'count these words please' }],
      system: 'be brief',
    });
    assert.ok(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0, JSON.stringify(counted));
    const request = h.emu.requests.at(-1)!;
    // Bedrock counts by the bare model id only: a cross-region profile's count is asked by its base id.
    assert.equal(request.rawPath, '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens');
    const input = (JSON.parse(request.body.toString('utf8')) as { input: { invokeModel: { body: string } } }).input;
    const native = JSON.parse(Buffer.from(input.invokeModel.body, 'base64').toString('utf8')) as Record<string, unknown>;
    assert.equal(native.anthropic_version, 'bedrock-2023-05-31');
    assert.equal(native.system, 'be brief');
    // A count body has no max_tokens; the one sent is InvokeModel's to check, which wants it above a thinking
    // budget ("max_tokens must be greater than thinking.budget_tokens"): 1, or one more than the budget.
    assert.equal(native.max_tokens, 1);
    await client.messages.countTokens({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'count these words please' }],
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    const thinking = JSON.parse(
      Buffer.from(
        (JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { input: { invokeModel: { body: string } } }).input.invokeModel.body,
        'base64',
      ).toString('utf8'),
    ) as { max_tokens: number; thinking: { budget_tokens: number } };
    assert.deepEqual([thinking.max_tokens, thinking.thinking.budget_tokens], [2049, 2048]);

    const nova = await client.messages.countTokens({ model: 'nova', messages: [{ role: 'user', content: 'hello' }] });
    assert.ok(nova.input_tokens > 0);
    const converse = (JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as { input: { converse: { messages: unknown[] } } }).input
      .converse;
    assert.deepEqual(converse.messages, [{ role: 'user', content: [{ text: 'hello' }] }]);

    // From Opus 4.7 on Bedrock counts for no id: its own refusal reaches the client, never an estimate.
    await assert.rejects(
      client.messages.countTokens({ model: 'opus-47', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /doesn't support counting tokens/.test(error.message),
    );
    await assert.rejects(
      client.messages.countTokens({ model: 'llama', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError && /CountTokens takes the invoke body of Claude models only/.test(error.message),
    );
  } finally {
    await h.close();
  }
});

test("count tokens: Bedrock's answer is read within server.max_inflight_bytes, as every other call's, on both count endpoints", async () => {
  const KiB = 1024;
  // A Bedrock whose CountTokens answer is padded past the whole budget (an answer is small; a broken or
  // hostile one need not be): 200 KiB against a 96 KiB budget.
  const upstream = await startHostileUpstream((req, res) => {
    const body = req.url?.includes('small') ? '{"inputTokens":7}' : JSON.stringify({ inputTokens: 7, pad: 'x'.repeat(200 * KiB) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  const h = await startHarness(
    {
      server: { max_body_bytes: 64 * KiB, max_inflight_bytes: 96 * KiB },
      models: [CLAUDE, { name: 'small', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-small', region: 'us-east-1' }],
    },
    { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } },
  );
  try {
    const body = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me' }] });
    const messages = await fetch(`${h.url}/v1/messages/count_tokens`, { method: 'POST', body });
    assert.equal(messages.status, 503, await messages.clone().text());
    const refused = (await messages.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(refused.error.type, 'overloaded_error');
    assert.match(refused.error.message, /buffered Bedrock answers in flight \(server\.max_inflight_bytes/);
    const native = await fetch(`${h.url}/model/claude-sonnet-4-5/count-tokens`, {
      method: 'POST',
      body: JSON.stringify({ input: { converse: { messages: [{ role: 'user', content: [{ text: 'count me' }] }] } } }),
    });
    assert.equal(native.status, 503, await native.clone().text());
    assert.match(await native.text(), /buffered Bedrock answers/);
    // An answer within the budget is counted as before, and the budget is whole again after the refusals.
    const small = await fetch(`${h.url}/v1/messages/count_tokens`, { method: 'POST', body: body.replace('claude-sonnet-4-5', 'small') });
    assert.deepEqual(await small.json(), { input_tokens: 7 });
    const metrics = await (await fetch(`${h.adminUrl}/metrics`)).text();
    assert.match(metrics, /sidecar_requests_shed_total\{what="answer"\} 2\n/);
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('messages: output_config.effort without thinking reaches a converse alias of Claude as on invoke, and is dropped and logged where the model has no effort', async () => {
  const h = await startHarness({
    models: [
      { name: 'opus-4-6', model: 'bedrock/invoke/global.anthropic.claude-opus-4-6-v1', region: 'us-east-1' },
      { name: 'opus-4-6-converse', model: 'bedrock/converse/global.anthropic.claude-opus-4-6-v1', region: 'us-east-1' },
      { name: 'opus-4-7-converse', model: 'bedrock/converse/us.anthropic.claude-opus-4-7', region: 'us-east-1' },
      { name: 'sonnet-4-5-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' },
      NOVA,
    ],
  });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const ask = async (model: string, effort: 'low' | 'max', extra: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    h.emu.script({ type: 'text', text: 'ok' });
    const message = await client.messages.create({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
      output_config: { effort },
      ...extra,
    } as Anthropic.MessageCreateParamsNonStreaming);
    assert.equal(message.content[0]?.type, 'text', model);
    return lastUpstreamBody(h) as Record<string, any>;
  };
  try {
    assert.deepEqual((await ask('opus-4-6', 'low')).output_config, { effort: 'low' }, "Claude's own body");
    const converse = await ask('opus-4-6-converse', 'low');
    assert.deepEqual(converse.additionalModelRequestFields, { output_config: { effort: 'low' } }, 'no thinking is added');
    assert.deepEqual((await ask('opus-4-7-converse', 'max')).additionalModelRequestFields, { output_config: { effort: 'max' } });
    // thinking {type: "disabled"} asks for no thinking either: the effort still goes.
    const disabled = await ask('opus-4-6-converse', 'low', { thinking: { type: 'disabled' } });
    assert.deepEqual(disabled.additionalModelRequestFields?.output_config, { effort: 'low' });

    let logged = h.logs.length;
    const budget = await ask('sonnet-4-5-converse', 'low');
    assert.equal(budget.additionalModelRequestFields, undefined, 'Claude 4.5 has no effort setting');
    assert.ok(h.logs.slice(logged).some((l) => String(l.msg).includes('output_config.effort dropped')));
    logged = h.logs.length;
    const nova = await ask('nova', 'low');
    assert.equal(JSON.stringify(nova).includes('effort'), false);
    assert.ok(
      h.logs.slice(logged).some((l) => String(l.msg).includes('effort')),
      'dropped and logged for another family',
    );

    const wrong = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'opus-4-6-converse',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
        output_config: { effort: 'extreme' },
      }),
    });
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /output_config\.effort/);
  } finally {
    await h.close();
  }
});

test("messages: GET /v1/models answers Anthropic's shape with anthropic-version, and /v1/models/{id} answers both shapes", async () => {
  const { h, client } = await rig();
  try {
    const page = await client.models.list();
    assert.deepEqual(
      page.data.map((m) => m.id),
      ['claude-sonnet-4-5', 'nova'],
    );
    assert.equal(page.data[0]!.type, 'model');
    const raw = (await (
      await fetch(`${h.url}/v1/models`, { headers: { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' } })
    ).json()) as Record<string, unknown>;
    assert.equal(raw.has_more, false);
    assert.equal(raw.first_id, 'claude-sonnet-4-5');
    assert.equal(raw.last_id, 'nova');
    const one = await client.models.retrieve('nova');
    assert.equal(one.id, 'nova');
    assert.equal(one.display_name, 'nova');
    const openai = (await (await fetch(`${h.url}/v1/models/nova`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<
      string,
      unknown
    >;
    assert.equal(openai.object, 'model');
    assert.equal(openai.route, 'converse');
    await assert.rejects(client.models.retrieve('nope'), (error: unknown) => error instanceof Anthropic.NotFoundError);
    const missing = await fetch(`${h.url}/v1/models/nope`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'model_not_found');
  } finally {
    await h.close();
  }
});

test("messages: the model lists refuse an Anthropic client (anthropic-version) in Anthropic's error shape: 401 and 405", async () => {
  const { h } = await rig();
  try {
    const wrongKey = new Anthropic({ baseURL: h.url, apiKey: 'not-the-token', maxRetries: 0 });
    for (const call of [() => wrongKey.models.list(), () => wrongKey.models.retrieve('nova')]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof Anthropic.AuthenticationError, String(error));
        assert.deepEqual((error.error as { type: string; error: { type: string } }).type, 'error');
        assert.equal((error.error as { error: { type: string } }).error.type, 'authentication_error');
        return true;
      });
    }
    for (const path of ['/v1/models', '/v1/models/nova']) {
      const wrongMethod = await fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' },
      });
      assert.equal(wrongMethod.status, 405);
      assert.deepEqual(((await wrongMethod.json()) as { type: string; error: { type: string } }).error.type, 'invalid_request_error');
    }
    // Without anthropic-version the same refusal is OpenAI's.
    const openai = await fetch(`${h.url}/v1/models`, { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(openai.status, 401);
    assert.equal(((await openai.json()) as { error: { type: string; code: number } }).error.code, 401);
  } finally {
    await h.close();
  }
});

test('messages: Bedrock-refused betas never reach the emulator, which refuses them as Bedrock does', async () => {
  const { h } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    const answer = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TOKEN, 'anthropic-beta': 'structured-outputs-2025-11-13, advanced-tool-use-2025-11-20' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.deepEqual(lastUpstreamBody(h).anthropic_beta, ['tool-search-tool-2025-10-19']);
  } finally {
    await h.close();
  }
});
