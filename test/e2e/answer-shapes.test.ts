/**
 * Non-streaming answers as real Bedrock sends them, through the sidecar and the emulator on loopback:
 * a 200 whose body is not the family's answer is a 502 `upstream_protocol_error` naming what was missing
 * (every family and route), and the `X-Amzn-Bedrock-*-Token-Count` headers are authoritative for usage.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ logging: { level: 'silent' } });
});
after(async () => {
  await h.close();
});

/** Every family × route, with the member its answer cannot do without. */
const ROUTES: Array<{ model: string; missing: string }> = [
  { model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', missing: '`content`' },
  { model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', missing: '`output.message.content`' },
  { model: 'bedrock/invoke/amazon.titan-text-express-v1', missing: '`results[0].outputText`' },
  { model: 'bedrock/invoke/us.meta.llama3-1-70b-instruct-v1:0', missing: '`generation`' },
  { model: 'bedrock/invoke/mistral.mistral-large-2407-v1:0', missing: '`choices[0].message`' },
  { model: 'bedrock/invoke/mistral.mixtral-8x7b-instruct-v0:1', missing: '`choices[0].message`' },
  { model: 'bedrock/invoke/cohere.command-r-plus-v1:0', missing: '`text`' },
  { model: 'bedrock/invoke/ai21.jamba-1-5-large-v1:0', missing: '`choices[0].message`' },
  { model: 'bedrock/invoke/us.deepseek.r1-v1:0', missing: '`choices[0].text`' },
  { model: 'bedrock/invoke/openai.gpt-oss-120b-1:0', missing: '`choices[0].message`' },
  { model: 'bedrock/invoke/qwen.qwen3-32b-v1:0', missing: '`choices[0].message`' },
  ...[
    'us.anthropic.claude-sonnet-4-20250514-v1:0',
    'us.amazon.nova-lite-v1:0',
    'amazon.titan-text-express-v1',
    'us.meta.llama3-1-70b-instruct-v1:0',
    'mistral.mistral-large-2407-v1:0',
    'cohere.command-r-plus-v1:0',
    'ai21.jamba-1-5-large-v1:0',
    'us.deepseek.r1-v1:0',
    'openai.gpt-oss-120b-1:0',
    'qwen.qwen3-32b-v1:0',
  ].map((id) => ({ model: `bedrock/converse/${id}`, missing: '`output.message.content`' })),
];

test('a 200 whose body is not an answer ({}) is a 502 upstream_protocol_error naming what was missing, every family and route', async () => {
  for (const { model, missing } of ROUTES) {
    h.emu.script({ type: 'raw', body: {} });
    const res = await chat(h, { model, messages: [{ role: 'user', content: 'Hi' }] });
    const body = (await res.json()) as { error?: { type: string; message: string; code: number } };
    assert.equal(res.status, 502, `${model}: ${JSON.stringify(body)}`);
    assert.equal(body.error?.type, 'upstream_protocol_error', model);
    assert.equal(body.error?.code, 502, model);
    assert.ok(body.error?.message.includes(missing), `${model}: ${body.error?.message}`);
  }
});

test('a 200 whose converse body lacks only the stop reason is a 502 naming `stopReason`', async () => {
  h.emu.script({
    type: 'raw',
    body: { output: { message: { role: 'assistant', content: [{ text: 'Hi' }] } }, usage: { inputTokens: 1, outputTokens: 1 } },
  });
  const res = await chat(h, { model: 'bedrock/converse/us.amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(res.status, 502);
  assert.match(((await res.json()) as { error: { message: string } }).error.message, /`stopReason`/);
});

test('token-count headers are authoritative: a Nova answer without outputTokens takes X-Amzn-Bedrock-Output-Token-Count', async () => {
  h.emu.script({
    type: 'raw',
    body: {
      output: { message: { role: 'assistant', content: [{ text: 'Once upon a time.' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 30 },
    },
    headers: { 'X-Amzn-Bedrock-Input-Token-Count': '30', 'X-Amzn-Bedrock-Output-Token-Count': '51' },
  });
  const res = await chat(h, { model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { usage: Record<string, unknown>; choices: Array<{ message: { content: string } }> };
  assert.equal(body.choices[0]!.message.content, 'Once upon a time.');
  assert.deepEqual(body.usage, { prompt_tokens: 30, completion_tokens: 51, total_tokens: 81, prompt_tokens_details: { cached_tokens: 0 } });
});

test('token-count headers: an Anthropic answer with no usage at all takes every count, cache included, from them', async () => {
  h.emu.script({
    type: 'raw',
    body: { content: [{ type: 'text', text: 'Cached.' }], stop_reason: 'end_turn', role: 'assistant', type: 'message' },
    headers: {
      'X-Amzn-Bedrock-Input-Token-Count': '3',
      'X-Amzn-Bedrock-Output-Token-Count': '44',
      'X-Amzn-Bedrock-Cache-Read-Input-Token-Count': '9511',
      'X-Amzn-Bedrock-Cache-Write-Input-Token-Count': '1956',
    },
  });
  const res = await chat(h, {
    model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0',
    messages: [{ role: 'user', content: 'Hi' }],
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { usage: Record<string, unknown> };
  assert.deepEqual(body.usage, {
    prompt_tokens: 3 + 9511 + 1956,
    completion_tokens: 44,
    total_tokens: 3 + 9511 + 1956 + 44,
    // The writes are in prompt_tokens and named apart: they cost more than plain input.
    prompt_tokens_details: { cached_tokens: 9511, cache_write_tokens: 1956 },
  });
});

test('a 200 whose answer breaks its shape inside (a null block, a null choice) is a 502 upstream_protocol_error, never a 500, every family and route', async () => {
  // Before: `Cannot read properties of null (reading 'type')` from Claude's reader, answered 500 internal_error.
  const broken: unknown[] = [
    { content: [null], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } },
    { output: { message: { role: 'assistant', content: [null] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1 } },
    { choices: [null] },
    { choices: [{ message: null, finish_reason: 'stop' }] },
    { results: [null] },
    { generation: 5, stop_reason: 'stop' },
    { text: null, finish_reason: 'COMPLETE', chat_history: [null] },
    { choices: [{ text: null, stop_reason: 'stop' }] },
  ];
  for (const { model } of ROUTES) {
    for (const body of broken) {
      h.emu.script({ type: 'raw', body });
      const res = await chat(h, { model, messages: [{ role: 'user', content: 'Hi' }] });
      const answer = (await res.json()) as { error?: { type: string } };
      const what = `${model} ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(answer)}`;
      assert.ok(res.status === 200 || res.status === 502, what);
      if (res.status === 502) assert.equal(answer.error?.type, 'upstream_protocol_error', what);
    }
  }
});
