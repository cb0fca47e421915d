// Strict Anthropic body validation: exact pydantic-style messages for unknown keys (top-level and
// nested), required keys, types and values; and the routing/auth answers around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropic } from '../../src/emulator/families/anthropic.ts';
import { CLAUDE, claudeBody, post } from './helpers.ts';
import { startTestEmulator, withEmulator } from '../helpers/emulator.ts';
import { otherCredentials } from '../helpers/credentials.ts';

const cases: [string, unknown, string | undefined][] = [
  ['valid minimal body', claudeBody(), undefined],
  ['top-level unknown key', claudeBody('hi', { stream_chunk_size: 10 }), 'stream_chunk_size: Extra inputs are not permitted'],
  ['model is not accepted', claudeBody('hi', { model: 'x' }), 'model: Extra inputs are not permitted'],
  ['stream is not accepted', claudeBody('hi', { stream: true }), 'stream: Extra inputs are not permitted'],
  [
    'nested unknown key in a content block',
    claudeBody('hi', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a', foo: 1 }] }] }),
    'messages.0.content.0.foo: Extra inputs are not permitted',
  ],
  [
    'nested unknown key in a message',
    claudeBody('hi', { messages: [{ role: 'user', content: 'a', name: 'bob' }] }),
    'messages.0.name: Extra inputs are not permitted',
  ],
  ['missing anthropic_version', { max_tokens: 5, messages: [{ role: 'user', content: 'a' }] }, 'anthropic_version: Field required'],
  [
    'wrong anthropic_version',
    claudeBody('hi', { anthropic_version: '2023-06-01' }),
    "anthropic_version: Input should be 'bedrock-2023-05-31'",
  ],
  [
    'missing max_tokens',
    { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: 'a' }] },
    'max_tokens: Field required',
  ],
  ['max_tokens not an integer', claudeBody('hi', { max_tokens: 1.5 }), 'max_tokens: Input should be a valid integer'],
  ['max_tokens zero', claudeBody('hi', { max_tokens: 0 }), 'max_tokens: Input should be greater than or equal to 1'],
  ['empty messages', claudeBody('hi', { messages: [] }), 'messages: List should have at least 1 item after validation, not 0'],
  [
    'bad role',
    claudeBody('hi', { messages: [{ role: 'system', content: 'a' }] }),
    "messages.0.role: Input should be 'user' or 'assistant'",
  ],
  [
    'unknown block type',
    claudeBody('hi', { messages: [{ role: 'user', content: [{ type: 'audio' }] }] }),
    "messages.0.content.0: Input tag 'audio' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'compaction', 'search_result'",
  ],
  [
    'a tool schema with allOf at the top (Claude takes no composition there)',
    claudeBody('hi', {
      tools: [
        { name: 'a', input_schema: { type: 'object' } },
        { name: 'b', input_schema: { allOf: [{ type: 'object' }] } },
      ],
    }),
    'tools.1.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level',
  ],
  [
    'tools and tool results are accepted',
    claudeBody('hi', {
      tools: [
        { name: 'f', description: 'd', input_schema: { type: 'object' } },
        { type: 'bash_20250124', name: 'bash' },
      ],
      tool_choice: { type: 'auto' },
      messages: [
        { role: 'user', content: 'a' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'call f', signature: 'c2ln' },
            { type: 'tool_use', id: 't1', name: 'f', input: {} },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] }] },
      ],
      system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      stop_sequences: ['x'],
      anthropic_beta: ['interleaved-thinking-2025-05-14'],
      temperature: 1,
      top_k: 5,
    }),
    undefined,
  ],
  [
    'unknown key in a tool',
    claudeBody('hi', { tools: [{ name: 'f', input_schema: {}, strict: true }] }),
    'tools.0.strict: Extra inputs are not permitted',
  ],
  // What Claude Code sends first-party and Bedrock refuses (docs/bedrock-wire.md#anthropic-claude).
  ['a beta flag Bedrock does not know', claudeBody('hi', { anthropic_beta: ['claude-code-20250219'] }), 'invalid beta flag'],
  ['metadata', claudeBody('hi', { metadata: { user_id: 'u' } }), 'metadata: Extra inputs are not permitted'],
  [
    'a system-role message',
    claudeBody('hi', { messages: [{ role: 'system', content: 'x' }] }),
    "messages.0.role: Input should be 'user' or 'assistant'",
  ],
];

for (const [name, body, expected] of cases) {
  test(`anthropic validation: ${name}`, () => {
    assert.equal(anthropic.validate(body, { stream: false, modelId: CLAUDE }), expected);
  });
}

test('anthropic validation: over HTTP the 400 body is exactly {"message":…} with ValidationException', async () => {
  await withEmulator(async (emu) => {
    const res = await post(
      emu.url,
      `/model/${encodeURIComponent(CLAUDE)}/invoke`,
      JSON.stringify(claudeBody('hi', { stream_chunk_size: 1 })),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.toString(), '{"message":"stream_chunk_size: Extra inputs are not permitted"}');
    assert.equal(res.headers['x-amzn-errortype'], 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
    assert.ok(res.headers['x-amzn-requestid']);
    const bad = await post(emu.url, `/model/${encodeURIComponent(CLAUDE)}/invoke`, '{not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.toString(), '{"message":"Malformed input request, please reformat your input and try again."}');
  });
});

test('routing: %3A and a literal ":" both route; ARN ids decode per segment; unknown path is 404', async () => {
  await withEmulator(async (emu) => {
    const body = JSON.stringify(claudeBody());
    const a = await post(emu.url, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke', body);
    const b = await post(emu.url, '/model/anthropic.claude-3-haiku-20240307-v1:0/invoke', body);
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz';
    const c = await post(emu.url, `/model/${encodeURIComponent(arn)}/invoke`, body);
    const fm = 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0';
    const d = await post(emu.url, `/model/${encodeURIComponent(fm)}/invoke`, body);
    assert.deepEqual([a.status, b.status, c.status, d.status], [200, 200, 200, 200]);
    assert.deepEqual(
      emu.requests.map((r) => r.signature),
      ['valid', 'valid', 'valid', 'valid'],
    );
    assert.equal(emu.requests[2]!.modelId, arn);
    assert.equal(emu.requests[2]!.rawPath, `/model/${encodeURIComponent(arn)}/invoke`);
    const unknown = await post(emu.url, '/model/x/explode', body);
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.headers['x-amzn-errortype']), /^UnknownOperationException/);
    assert.equal(emu.requests[4]!.operation, 'unknown');
    const badModel = await post(emu.url, '/model/acme.rocket-v1/invoke', body);
    assert.equal(badModel.status, 400);
    assert.equal(JSON.parse(badModel.body.toString()).message, 'The provided model identifier is invalid.');
  });
});

test('auth: missing auth, unknown key, bearer API keys and verifySignature:false', async () => {
  const emu = await startTestEmulator({ apiKeys: ['bedrock-api-key-123'] });
  const path = `/model/${encodeURIComponent(CLAUDE)}/invoke`;
  const body = JSON.stringify(claudeBody());
  try {
    const missing = await post(emu.url, path, body, { sign: false });
    assert.equal(missing.status, 403);
    assert.match(String(missing.headers['x-amzn-errortype']), /^MissingAuthenticationTokenException/);
    const bearer = await post(emu.url, path, body, { sign: false, headers: { authorization: 'Bearer bedrock-api-key-123' } });
    assert.equal(bearer.status, 200);
    const badBearer = await post(emu.url, path, body, { sign: false, headers: { authorization: 'Bearer nope' } });
    assert.equal(badBearer.status, 403);
    assert.deepEqual(
      emu.requests.map((r) => r.signature),
      ['missing', 'bearer', 'invalid'],
    );
    const unknownKey = await post(emu.url, path, body, {
      sign: false,
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${otherCredentials('unknown').accessKeyId}/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00`,
        'x-amz-date': '20240101T000000Z',
      },
    });
    assert.equal(unknownKey.status, 403);
    assert.match(String(unknownKey.headers['x-amzn-errortype']), /^UnrecognizedClientException/);
    assert.equal(JSON.parse(unknownKey.body.toString()).message, 'The security token included in the request is invalid.');
  } finally {
    await emu.close();
  }
  await withEmulator(
    async (open) => {
      const res = await post(open.url, path, body, { secret: 'wrong' });
      assert.equal(res.status, 200);
      assert.equal(open.requests[0]!.signature, 'invalid');
    },
    { verifySignature: false },
  );
});

test('script: queue order, reset, markers and the default reply', async () => {
  const emu = await startTestEmulator();
  const path = `/model/${encodeURIComponent(CLAUDE)}/invoke`;
  try {
    emu.script({ type: 'text', text: 'one' }, { type: 'text', text: 'two' });
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(emu.url, path, JSON.stringify(claudeBody('hello')));
      texts.push((JSON.parse(res.body.toString()) as { content: { text: string }[] }).content[0]!.text);
    }
    assert.deepEqual(texts, ['one', 'two', 'Hello from the Bedrock emulator — you said: "hello" 👋']);
    emu.script({ type: 'text', text: 'never' });
    emu.reset();
    assert.equal(emu.requests.length, 0);
    const throttled = await post(emu.url, path, JSON.stringify(claudeBody('please [[emulator:throttle]]')));
    assert.equal(throttled.status, 429);
    const tool = await post(emu.url, path, JSON.stringify(claudeBody('find [[emulator:tool:search]]')));
    const msg = JSON.parse(tool.body.toString()) as { content: { type: string; name?: string; input?: unknown }[]; stop_reason: string };
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(
      msg.content.map((c) => c.type),
      ['tool_use'],
    );
    assert.deepEqual(msg.content[0]!.input, { query: 'find' });
  } finally {
    await emu.close();
  }
});

test('anthropic validation: sampling parameters by model — temperature or top_p from Opus 4.1 to the 4.6s, none from Opus 4.7 on', () => {
  const validate = (modelId: string, extra: Record<string, unknown>): string | undefined =>
    anthropic.validate(claudeBody('hi', extra), { stream: false, modelId });
  const both = { temperature: 0.5, top_p: 0.9 };
  const bothRefused = '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  for (const model of [
    'anthropic.claude-opus-4-1-20250805-v1:0',
    'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    'global.anthropic.claude-sonnet-4-6',
  ]) {
    assert.equal(validate(model, both), bothRefused, model);
    assert.equal(validate(model, { temperature: 0.5 }), undefined, model);
  }
  for (const model of [CLAUDE, 'us.anthropic.claude-sonnet-4-20250514-v1:0']) assert.equal(validate(model, both), undefined, model);
  for (const model of [
    'anthropic.claude-opus-4-7',
    'us.anthropic.claude-opus-4-8',
    'anthropic.claude-sonnet-5',
    'anthropic.claude-fable-5',
  ]) {
    assert.equal(validate(model, { temperature: 1 }), '`temperature` is deprecated for this model.', model);
    assert.equal(validate(model, { top_k: 5 }), '`top_k` is deprecated for this model.', model);
    assert.equal(validate(model, {}), undefined, model);
  }
});

test("anthropic validation: max_tokens above a Claude model's output limit is Bedrock's refusal naming the limit; a model not listed is not checked", () => {
  const validate = (modelId: string, max_tokens: number): string | undefined =>
    anthropic.validate(claudeBody('hi', { max_tokens }), { stream: false, modelId });
  const over = (limit: number): string =>
    `The maximum tokens you requested exceeds the model limit of ${limit}. Try again with a maximum tokens value that is lower than ${limit}.`;
  assert.equal(validate(CLAUDE, 4097), over(4096));
  assert.equal(validate(CLAUDE, 4096), undefined);
  assert.equal(validate('us.anthropic.claude-3-5-haiku-20241022-v1:0', 32000), over(8192));
  assert.equal(validate('anthropic.claude-opus-4-1-20250805-v1:0', 64000), over(32000));
  assert.equal(validate('global.anthropic.claude-sonnet-4-5-20250929-v1:0', 64000), undefined);
  assert.equal(validate('us.anthropic.claude-opus-4-6-v1', 128001), over(128000));
  assert.equal(validate('anthropic.claude-opus-5', 500000), undefined);
});

test('anthropic validation: with thinking on, the turn whose tool calls the last user turn answers must start with its thinking', () => {
  const continuation = (
    assistant: unknown[],
    thinking: unknown = { type: 'enabled', budget_tokens: 2048 },
    modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ): string | undefined =>
    anthropic.validate(
      claudeBody('hi', {
        thinking,
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: assistant },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'sunny' }] },
        ],
      }),
      { stream: false, modelId },
    );
  const call = { type: 'tool_use', id: 't1', name: 'f', input: {} };
  assert.match(
    continuation([call]) ?? '',
    /^messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`\. When `thinking` is enabled/,
  );
  assert.match(continuation([{ type: 'text', text: 'Let me look.' }, call]) ?? '', /but found `text`/);
  assert.equal(continuation([{ type: 'thinking', thinking: 'look', signature: 'c2ln' }, call]), undefined);
  assert.equal(continuation([{ type: 'redacted_thinking', data: 'ZGF0YQ==' }, call]), undefined);
  assert.equal(continuation([call], { type: 'disabled' }), undefined, 'thinking off: no requirement');
  assert.equal(
    continuation([call], { type: 'adaptive' }, 'us.anthropic.claude-opus-4-6-v1'),
    undefined,
    'adaptive: the model may answer without thinking',
  );
});
