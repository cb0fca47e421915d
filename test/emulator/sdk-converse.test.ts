// Converse and ConverseStream against the emulator with the real SDK (HTTP/1.1 handler), plus the
// Converse request validation messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConverseCommand, ConverseStreamCommand, ThrottlingException, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { defaultReplyText } from '../../src/emulator/index.ts';
import { DOCUMENT_NAME_MESSAGE } from '../../src/emulator/converse.ts';
import { CLAUDE, post, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

const NOVA = 'us.amazon.nova-lite-v1:0';

async function streamEvents(client: ReturnType<typeof sdkClient>, input: ConstructorParameters<typeof ConverseStreamCommand>[0]) {
  const out = await client.send(new ConverseStreamCommand(input));
  const events: ConverseStreamOutput[] = [];
  for await (const ev of out.stream ?? []) events.push(ev);
  return events;
}

test('converse-stream: default reply, messageStop then metadata with usage, decoded by the SDK', async () => {
  await withEmulator(async (emu) => {
    const events = await streamEvents(sdkClient(emu.url), {
      modelId: NOVA,
      messages: [{ role: 'user', content: [{ text: 'hello 🌍' }] }],
      inferenceConfig: { maxTokens: 100, temperature: 0.5 },
      guardrailConfig: { guardrailIdentifier: 'gr1', guardrailVersion: '1', streamProcessingMode: 'sync' },
    });
    assert.ok(events[0]!.messageStart);
    assert.equal(events[0]!.messageStart.role, 'assistant');
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    assert.equal(text, defaultReplyText('hello 🌍'));
    const stopIdx = events.findIndex((e) => e.messageStop);
    assert.equal(events[stopIdx]!.messageStop!.stopReason, 'end_turn');
    assert.equal(stopIdx, events.length - 2);
    const meta = events.at(-1)!.metadata!;
    assert.equal(typeof meta.usage!.inputTokens, 'number');
    assert.equal(meta.usage!.totalTokens, meta.usage!.inputTokens! + meta.usage!.outputTokens!);
    assert.equal(typeof meta.metrics!.latencyMs, 'number');
    assert.equal(emu.requests[0]!.operation, 'ConverseStream');
    assert.equal(emu.requests[0]!.signature, 'valid');
  });
});

test('converse-stream: tool calls and reasoning in Converse shape', async () => {
  await withEmulator(async (emu) => {
    emu.script({
      type: 'tool_use',
      reasoning: 'think — hard',
      text: 'Checking.',
      calls: [{ name: 'get_weather', input: { city: 'Zürich' } }],
    });
    const events = await streamEvents(sdkClient(emu.url), {
      modelId: CLAUDE,
      messages: [{ role: 'user', content: [{ text: 'weather?' }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }], toolChoice: { auto: {} } },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } },
    });
    const reasoning = events.map((e) => e.contentBlockDelta?.delta?.reasoningContent?.text ?? '').join('');
    assert.equal(reasoning, 'think — hard');
    assert.ok(events.some((e) => e.contentBlockDelta?.delta?.reasoningContent?.signature));
    const start = events.find((e) => e.contentBlockStart)!.contentBlockStart!;
    assert.equal(start.start!.toolUse!.name, 'get_weather');
    assert.match(start.start!.toolUse!.toolUseId!, /^tooluse_/);
    const args = events
      .filter((e) => e.contentBlockDelta?.contentBlockIndex === start.contentBlockIndex)
      .map((e) => e.contentBlockDelta!.delta!.toolUse?.input ?? '')
      .join('');
    assert.deepEqual(JSON.parse(args), { city: 'Zürich' });
    assert.equal(events.find((e) => e.messageStop)!.messageStop!.stopReason, 'tool_use');
  });
});

test('converse: non-stream response shape with usage and metrics', async () => {
  await withEmulator(async (emu) => {
    emu.script({ type: 'text', text: 'Salut', usage: { inputTokens: 5, outputTokens: 2, cacheReadTokens: 3 } });
    const out = await sdkClient(emu.url).send(
      new ConverseCommand({
        modelId: CLAUDE,
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        system: [{ text: 'be brief' }],
      }),
    );
    assert.deepEqual(out.output, { message: { role: 'assistant', content: [{ text: 'Salut' }] } });
    assert.equal(out.stopReason, 'end_turn');
    // Both cache counts once there is one, as real answers carry them (test/fixtures/real-traffic/cv-anthropic-claude37-cache).
    assert.deepEqual(out.usage, { inputTokens: 5, outputTokens: 2, totalTokens: 10, cacheReadInputTokens: 3, cacheWriteInputTokens: 0 });
    assert.equal(typeof out.metrics!.latencyMs, 'number');
  });
});

test('converse-stream: exception fault makes the SDK throw; converse raw events pass through', async () => {
  await withEmulator(async (emu) => {
    emu.script(
      { type: 'text', text: 'a'.repeat(100), fault: { afterFrames: 2, kind: 'exception', exceptionType: 'throttlingException' } },
      {
        type: 'raw',
        events: [
          { messageStart: { role: 'assistant' } },
          { contentBlockDelta: { delta: { text: 'raw!' }, contentBlockIndex: 0 } },
          { messageStop: { stopReason: 'end_turn' } },
        ],
      },
    );
    const client = sdkClient(emu.url);
    const input = { modelId: CLAUDE, messages: [{ role: 'user' as const, content: [{ text: 'x' }] }] };
    await assert.rejects(streamEvents(client, input), (e: Error) => e instanceof ThrottlingException);
    const events = await streamEvents(client, input);
    assert.equal(events.length, 3);
    assert.equal(events[1]!.contentBlockDelta!.delta!.text, 'raw!');
  });
});

const converseCases: [string, unknown, string, string?][] = [
  [
    'unknown top-level member',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], stream_chunk_size: 3 },
    'Malformed input request: #: extraneous key [stream_chunk_size] is not permitted, please reformat your input and try again.',
  ],
  [
    'unknown nested member',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], inferenceConfig: { max_tokens: 3 } },
    'Malformed input request: #/inferenceConfig: extraneous key [max_tokens] is not permitted, please reformat your input and try again.',
  ],
  [
    'maxTokens below 1',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], inferenceConfig: { maxTokens: 0 } },
    "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
  ],
  [
    'bad role',
    { messages: [{ role: 'bot', content: [{ text: 'a' }] }] },
    "1 validation error detected: Value 'bot' at 'messages.0.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
  ],
  [
    'starts with assistant',
    { messages: [{ role: 'assistant', content: [{ text: 'a' }] }] },
    'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
  ],
  [
    'blank text',
    { messages: [{ role: 'user', content: [{ text: ' ' }] }] },
    'The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, and try again.',
  ],
  [
    "a document name outside Bedrock's alphabet",
    {
      messages: [
        { role: 'user', content: [{ document: { format: 'pdf', name: 'report.pdf', source: { bytes: 'JVBERi0=' } } }, { text: 'a' }] },
      ],
    },
    DOCUMENT_NAME_MESSAGE,
  ],
  [
    "a tool result's document name outside Bedrock's alphabet",
    {
      messages: [
        { role: 'user', content: [{ text: 'read it' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'Read', input: {} } }] },
        {
          role: 'user',
          content: [
            {
              toolResult: { toolUseId: 't1', content: [{ document: { format: 'pdf', name: 'spec.pdf', source: { bytes: 'JVBERi0=' } } }] },
            },
          ],
        },
      ],
      toolConfig: { tools: [{ toolSpec: { name: 'Read', inputSchema: { json: { type: 'object' } } } }] },
    },
    DOCUMENT_NAME_MESSAGE,
  ],
  [
    'a tool schema naming no type (every model: Converse takes only type object at the top)',
    {
      messages: [{ role: 'user', content: [{ text: 'a' }] }],
      toolConfig: {
        tools: [
          { toolSpec: { name: 'Read', inputSchema: { json: { type: 'object' } } } },
          { cachePoint: { type: 'default' } },
          { toolSpec: { name: 'run', inputSchema: { json: { anyOf: [{ type: 'object' }] } } } },
        ],
      },
    },
    'The value at toolConfig.tools.2.toolSpec.inputSchema.json.type must be one of the following: object.',
  ],
  [
    'a tool schema with anyOf at the top, to Claude (its tools counted without cache points)',
    {
      messages: [{ role: 'user', content: [{ text: 'a' }] }],
      toolConfig: {
        tools: [
          { toolSpec: { name: 'Read', inputSchema: { json: { type: 'object' } } } },
          { cachePoint: { type: 'default' } },
          { toolSpec: { name: 'run', inputSchema: { json: { type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }] } } } },
        ],
      },
    },
    'The model returned the following errors: tools.1.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level',
  ],
  [
    'temperature with topP, to a Claude that takes one of them (Claude reads them as its own)',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], inferenceConfig: { temperature: 0.2, topP: 0.9 } },
    'The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. Please use only one.',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ],
  [
    'temperature to Opus 4.7, which takes no sampling parameter',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], inferenceConfig: { temperature: 1 } },
    'The model returned the following errors: `temperature` is deprecated for this model.',
    'us.anthropic.claude-opus-4-7',
  ],
  [
    'thinking on, tool results answering a Claude turn that does not start with its thinking',
    {
      messages: [
        { role: 'user', content: [{ text: 'weather?' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'f', input: {} } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }] },
      ],
      toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }] },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
    },
    'The model returned the following errors: messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ],
  [
    'additionalModelRequestFields unknown to Claude',
    { messages: [{ role: 'user', content: [{ text: 'a' }] }], additionalModelRequestFields: { foo: 1 } },
    'The model returned the following errors: foo: Extra inputs are not permitted',
  ],
  [
    'streamProcessingMode on non-stream Converse',
    {
      messages: [{ role: 'user', content: [{ text: 'a' }] }],
      guardrailConfig: { guardrailIdentifier: 'g', guardrailVersion: '1', streamProcessingMode: 'sync' },
    },
    'Malformed input request: #/guardrailConfig: extraneous key [streamProcessingMode] is not permitted, please reformat your input and try again.',
  ],
];

test('converse validation: a tool schema with anyOf at the top is taken beside type object by a model other than Claude', async () => {
  await withEmulator(async (emu) => {
    const body = {
      messages: [{ role: 'user', content: [{ text: 'a' }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'run', inputSchema: { json: { type: 'object', anyOf: [{ required: ['a'] }] } } } }] },
    };
    const res = await post(emu.url, `/model/${encodeURIComponent('us.amazon.nova-pro-v1:0')}/converse`, JSON.stringify(body));
    assert.equal(res.status, 200, res.body.toString());
  });
});

test('converse validation: messages for unknown members, constraints and conversation rules', async () => {
  await withEmulator(async (emu) => {
    for (const [name, body, message, modelId] of converseCases) {
      const res = await post(emu.url, `/model/${encodeURIComponent(modelId ?? CLAUDE)}/converse`, JSON.stringify(body));
      assert.equal(res.status, 400, name);
      assert.deepEqual(JSON.parse(res.body.toString()), { message }, name);
    }
  });
});

test('converse: projectIdentifier (SDK 3.1178.0) is taken with any string value; a non-string is a type error', async () => {
  await withEmulator(async (emu) => {
    const client = sdkClient(emu.url);
    const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];
    for (const projectIdentifier of ['default', 'arn:aws:bedrock:us-east-1:123456789012:project/default', 'proj_abc123']) {
      const out = await client.send(new ConverseCommand({ modelId: NOVA, messages, projectIdentifier }));
      assert.equal(out.stopReason, 'end_turn', projectIdentifier);
    }
    const res = await post(emu.url, `/model/${NOVA}/converse`, JSON.stringify({ messages, projectIdentifier: 7 }));
    assert.equal(res.status, 400);
    assert.match(res.body.toString('utf8'), /projectIdentifier/);
  });
});
