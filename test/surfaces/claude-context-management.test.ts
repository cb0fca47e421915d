/**
 * Claude's context management through the sidecar (docs/contract.md#request-rules): the Anthropic SDK's beta
 * Messages and the AWS SDK's InvokeModel against the emulator. The edits Bedrock's InvokeModel takes for the model
 * (tool-use clearing, compaction) go with their betas, the others (Claude Code's thinking clearing) are dropped as
 * before; the converse route drops it all; Claude's compaction block comes back in Anthropic's shape (streamed as
 * start / one compaction_delta / stop, whole in `content`) with its `compaction` stop reason, `usage.iterations`
 * and `context_management`, and goes back to Bedrock byte for byte on the next turn (as its summary text where the
 * model cannot read it); count_tokens counts without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { invokeJson, invokeStreamJson } from './bedrock-native-helpers.ts';

const OPUS = { name: 'opus', model: 'bedrock/invoke/anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
const SONNET = { name: 'sonnet', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'us-east-1' };
const OPUS_CONVERSE = { name: 'opus-converse', model: 'bedrock/converse/anthropic.claude-opus-4-6-v1', region: 'us-east-1' };
const TOKEN = 'sidecar-test-token';

const COMPACT = { type: 'compact_20260112' as const, trigger: { type: 'input_tokens' as const, value: 60000 } };
const CLEAR_TOOLS = { type: 'clear_tool_uses_20250919' as const, keep: { type: 'tool_uses' as const, value: 2 } };
const CLEAR_THINKING = { type: 'clear_thinking_20251015' as const, keep: 'all' as const };
const SUMMARY = { content: 'The user is refactoring the billing module; tests pass.', encryptedContent: 'RW5jcnlwdGVkU3VtbWFyeQ==' };

async function rig(auth = true): Promise<{ h: Harness; client: Anthropic }> {
  // The native surface's AWS SDK client signs with its own credentials: no token there.
  const h = await startHarness({ ...(auth ? { server: { auth_token: TOKEN } } : {}), models: [OPUS, SONNET, OPUS_CONVERSE] });
  return { h, client: new Anthropic({ baseURL: h.url, apiKey: TOKEN, maxRetries: 0 }) };
}

function upstream(h: Harness): Record<string, unknown> {
  return JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Record<string, unknown>;
}

function notes(h: Harness): string {
  return JSON.stringify(h.logs);
}

test('context management: Bedrock is sent the edits it takes for the model, each with its beta; thinking clearing is dropped', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    // No beta asked: each edit kept brings its own (without it Bedrock answers "context_management: Extra inputs are not permitted").
    await client.beta.messages.create({
      model: 'opus',
      max_tokens: 64,
      thinking: { type: 'adaptive' },
      context_management: { edits: [CLEAR_THINKING, COMPACT, CLEAR_TOOLS] },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let body = upstream(h);
    assert.deepEqual(body.context_management, { edits: [COMPACT, CLEAR_TOOLS] });
    assert.deepEqual(body.anthropic_beta, ['compact-2026-01-12', 'context-management-2025-06-27']);
    assert.match(notes(h), /context_management\.edits\[0\] dropped: Bedrock is not sent a \\"clear_thinking_20251015\\" edit/);

    // Sonnet 4.5 clears tool uses but does not compact: the compaction edit and its beta are dropped.
    h.emu.script({ type: 'text', text: 'ok' });
    await client.beta.messages.create({
      model: 'sonnet',
      max_tokens: 64,
      betas: ['compact-2026-01-12', 'context-management-2025-06-27'],
      context_management: { edits: [COMPACT, CLEAR_TOOLS] },
      messages: [{ role: 'user', content: 'hi' }],
    });
    body = upstream(h);
    assert.deepEqual(body.context_management, { edits: [CLEAR_TOOLS] });
    assert.deepEqual(body.anthropic_beta, ['context-management-2025-06-27']);
  } finally {
    await h.close();
  }
});

test("context management: Claude Code's request reaches Bedrock as before (its thinking clearing dropped, no compact beta)", async () => {
  const { h } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    const response = await fetch(`${h.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': TOKEN,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,context-management-2025-06-27',
      },
      body: JSON.stringify({
        model: 'opus',
        max_tokens: 1024,
        thinking: { type: 'adaptive' },
        context_management: { edits: [CLEAR_THINKING] },
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const body = upstream(h);
    assert.ok(!('context_management' in body), 'nothing left to send');
    assert.deepEqual(body.anthropic_beta, ['context-management-2025-06-27']);
  } finally {
    await h.close();
  }
});

test('context management: the converse route drops it and the compact beta, and reads a compaction block as its summary', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    await client.beta.messages.create({
      model: 'opus-converse',
      max_tokens: 64,
      betas: ['compact-2026-01-12'],
      context_management: { edits: [COMPACT] },
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent },
            { type: 'text', text: 'Go on.' },
          ],
        },
        { role: 'user', content: 'next' },
      ],
    });
    const body = upstream(h);
    assert.equal(h.emu.requests.at(-1)!.operation, 'Converse');
    const fields = (body.additionalModelRequestFields as Record<string, unknown> | undefined) ?? {};
    assert.ok(!('context_management' in body) && !('context_management' in fields));
    assert.ok(!('anthropic_beta' in fields), 'the compact beta is InvokeModel only');
    assert.deepEqual((body.messages as Array<{ content: unknown }>)[1]!.content, [{ text: SUMMARY.content }, { text: 'Go on.' }]);
    assert.match(notes(h), /\\"context_management\\" dropped: anthropic on the converse route gets the translated body/);
  } finally {
    await h.close();
  }
});

test('compaction: streamed to a Messages client exactly as Anthropic streams it, and handed back byte for byte', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'Done.', compaction: SUMMARY, usage: { inputTokens: 70000, outputTokens: 3 } });
    const ask = {
      model: 'opus',
      max_tokens: 256,
      stream: true,
      context_management: { edits: [COMPACT] },
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const raw = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(ask),
    });
    assert.equal(raw.status, 200);
    const events = (await raw.text())
      .split('\n\n')
      .filter((frame) => frame.startsWith('event: ') && !frame.startsWith('event: ping'))
      .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Record<string, unknown>);
    assert.deepEqual(events.slice(1, 4), [
      { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: null } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'compaction_delta', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent },
      },
      { type: 'content_block_stop', index: 0 },
    ]);
    assert.deepEqual(events[4], { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } });
    const delta = events.find((e) => e.type === 'message_delta')!;
    assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.deepEqual(delta.context_management, { applied_edits: [{ type: 'compact_20260112' }] });
    const iterations = (delta.usage as { iterations: Array<{ type: string }> }).iterations;
    assert.deepEqual(
      iterations.map((i) => i.type),
      ['compaction', 'message'],
    );

    // The SDK's stream helper accumulates the same answer; its content goes back as the next assistant turn.
    h.emu.script({ type: 'text', text: 'Done.', compaction: SUMMARY });
    const stream = client.beta.messages.stream({ ...ask, stream: undefined, betas: ['compact-2026-01-12'] });
    const final = await stream.finalMessage();
    assert.deepEqual(final.content[0], { type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent });
    assert.equal(final.stop_reason, 'end_turn');
    assert.deepEqual(final.context_management, { applied_edits: [{ type: 'compact_20260112' }] });

    // Without the edit this time (the client turned compaction off): the block still brings its beta.
    h.emu.script({ type: 'text', text: 'Next.' });
    await client.beta.messages.create({
      model: 'opus',
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: 'go on' },
      ],
    });
    const sent = h.emu.requests.at(-1)!.body.toString('utf8');
    const block = JSON.stringify({ type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent });
    assert.ok(sent.includes(block), `the block goes back byte for byte: ${sent}`);
    assert.deepEqual(upstream(h).anthropic_beta, ['compact-2026-01-12']);

    // To a model that does not compact (a fallback, a model switch) it goes as its summary.
    h.emu.script({ type: 'text', text: 'Next.' });
    await client.beta.messages.create({
      model: 'sonnet',
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: 'go on' },
      ],
    });
    assert.deepEqual((upstream(h).messages as Array<{ content: unknown }>)[1]!.content, [
      { type: 'text', text: SUMMARY.content },
      { type: 'text', text: 'Done.' },
    ]);
  } finally {
    await h.close();
  }
});

test('compaction: a whole answer that pauses after it is the block alone, stop reason compaction, with its iterations', async () => {
  const { h, client } = await rig();
  try {
    h.emu.script({ type: 'text', text: 'never said', compaction: SUMMARY, usage: { inputTokens: 70000, outputTokens: 3 } });
    const message = await client.beta.messages.create({
      model: 'opus',
      max_tokens: 256,
      betas: ['compact-2026-01-12'],
      context_management: { edits: [{ ...COMPACT, pause_after_compaction: true }] },
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual(message.content, [{ type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent }]);
    assert.equal(message.stop_reason, 'compaction');
    assert.deepEqual(message.context_management, { applied_edits: [{ type: 'compact_20260112' }] });
    assert.deepEqual(
      message.usage.iterations?.map((i) => i.type),
      ['compaction'],
    );
  } finally {
    await h.close();
  }
});

test("compaction: an output guardrail judges Claude's summary like any output (whole and streamed)", async () => {
  const h = await startHarness({
    guardrails: [{ name: 'no-secrets', type: 'regex', stages: ['output'], patterns: ['(?i)project\\s+nightingale'] }],
    models: [{ ...OPUS, guardrails: ['no-secrets'] }],
  });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const secret = { content: 'The user works on Project Nightingale.', encryptedContent: 'b3BhcXVl' };
  const ask = {
    model: 'opus',
    max_tokens: 256,
    betas: ['compact-2026-01-12' as const],
    context_management: { edits: [{ ...COMPACT, pause_after_compaction: true }] },
    messages: [{ role: 'user' as const, content: 'hi' }],
  };
  try {
    h.emu.script({ type: 'text', text: 'never said', compaction: secret, usage: { inputTokens: 70000, outputTokens: 3 } });
    await assert.rejects(
      client.beta.messages.create(ask),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /guardrail/i.test(err.message),
    );
    h.emu.script({ type: 'text', text: 'never said', compaction: secret, usage: { inputTokens: 70000, outputTokens: 3 } });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-beta': 'compact-2026-01-12' },
      body: JSON.stringify({ ...ask, betas: undefined, stream: true }),
    });
    const raw = await res.text();
    assert.ok(!raw.includes('Nightingale'), 'the summary never went out');
    assert.match(raw, /event: error/);
  } finally {
    await h.close();
  }
});

test('compaction: count_tokens counts the block as its summary, without context_management or the compact beta', async () => {
  const { h, client } = await rig();
  try {
    await client.beta.messages.countTokens({
      model: 'opus',
      betas: ['compact-2026-01-12'],
      context_management: { edits: [COMPACT] },
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent }] },
        { role: 'user', content: 'go on' },
      ],
    });
    const request = h.emu.requests.at(-1)!;
    assert.equal(request.operation, 'CountTokens');
    const input = (JSON.parse(request.body.toString('utf8')) as { input: { invokeModel: { body: string } } }).input;
    const counted = JSON.parse(Buffer.from(input.invokeModel.body, 'base64').toString('utf8')) as Record<string, unknown>;
    assert.ok(!('context_management' in counted));
    assert.ok(!JSON.stringify(counted.anthropic_beta ?? []).includes('compact'));
    assert.deepEqual((counted.messages as Array<{ content: unknown }>)[1]!.content, [{ type: 'text', text: SUMMARY.content }]);
  } finally {
    await h.close();
  }
});

test("native InvokeModel: Claude's body takes context_management and compaction blocks, and streams the compaction as Bedrock carries it", async () => {
  const { h } = await rig(false);
  try {
    const body = {
      anthropic_version: 'bedrock-2023-05-31',
      anthropic_beta: ['context-management-2025-06-27', 'compact-2026-01-12'],
      max_tokens: 128,
      context_management: { edits: [CLEAR_TOOLS, { ...COMPACT, pause_after_compaction: true }] },
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'compaction', content: 'Earlier: greetings.', encrypted_content: 'b2xk' }] },
        { role: 'user', content: 'go on' },
      ],
    };
    h.emu.script({ type: 'text', text: 'never said', compaction: SUMMARY });
    const chunks = await invokeStreamJson(h, 'opus', body);
    const sent = upstream(h);
    assert.deepEqual(sent.context_management, body.context_management);
    assert.deepEqual((sent.messages as Array<{ content: unknown }>)[1]!.content, body.messages[1]!.content);
    assert.deepEqual(chunks.slice(1, 4), [
      { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: null } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'compaction_delta', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent },
      },
      { type: 'content_block_stop', index: 0 },
    ]);
    assert.equal((chunks[4]!.delta as Record<string, unknown>).stop_reason, 'compaction');

    h.emu.script({ type: 'text', text: 'never said', compaction: SUMMARY });
    const whole = await invokeJson(h, 'opus', body);
    assert.deepEqual(whole.content, [{ type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent }]);
    assert.equal(whole.stop_reason, 'compaction');
    assert.deepEqual(whole.context_management, { applied_edits: [{ type: 'compact_20260112' }] });
  } finally {
    await h.close();
  }
});

test('compaction: Chat Completions shows nothing of a compaction block (it cannot be handed back there), streamed or whole', async () => {
  const { h } = await rig();
  try {
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const compaction = { type: 'compaction', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent };
    h.emu.script({
      type: 'raw',
      body: { content: [compaction, { type: 'text', text: 'Hi.' }], stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 2 } },
    });
    const whole = await client.chat.completions.create({ model: 'opus', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(whole.choices[0]!.message.content, 'Hi.');

    h.emu.script({
      type: 'raw',
      events: [
        { type: 'message_start', message: { usage: { input_tokens: 5, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'compaction', content: null } },
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'compaction_delta', content: SUMMARY.content, encrypted_content: SUMMARY.encryptedContent },
        },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi.' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } },
        { type: 'message_stop' },
      ],
    });
    let text = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'opus',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }))
      text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Hi.');
  } finally {
    await h.close();
  }
});
