/**
 * Signed reasoning handed back (docs/contract.md#anthropic-messages, #bedrock-native): an assistant turn with
 * several thinking blocks keeps each block with its own signature, in the client's order among its text and
 * tool use, from every reader that carries them to the Converse body and Claude's own body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adapterFor, applyParamPolicy } from '../../src/providers/index.ts';
import { assistantBlocks, type ChatMessage, type ChatRequest } from '../../src/providers/request.ts';
import { readMessagesRequest } from '../../src/surfaces/anthropic-messages/request.ts';
import { readConverseRequest } from '../../src/surfaces/bedrock-native/converse-request.ts';
import { readClaudeInvoke } from '../../src/surfaces/bedrock-native/invoke-request.ts';
import { targetFor } from './helpers.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const REDACTED = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDPH4VtzAb9g4DPz+zgAJeZyzQ';

/** One assistant turn as Claude answered it with interleaved thinking: two signed blocks, a redacted one, text, two tool calls. */
const CLAUDE_TURN = [
  { type: 'thinking', thinking: 'First, the weather.', signature: 'c2lnLW9uZQ==' },
  { type: 'text', text: 'Let me look.' },
  { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Bern' } },
  { type: 'thinking', thinking: 'Then the time there.', signature: 'c2lnLXR3bw==' },
  { type: 'redacted_thinking', data: REDACTED },
  { type: 'tool_use', id: 'toolu_2', name: 'clock', input: { city: 'Bern' } },
];

/** The same turn as Converse content blocks. */
const CONVERSE_TURN = [
  { reasoningContent: { reasoningText: { text: 'First, the weather.', signature: 'c2lnLW9uZQ==' } } },
  { text: 'Let me look.' },
  { toolUse: { toolUseId: 'toolu_1', name: 'weather', input: { city: 'Bern' } } },
  { reasoningContent: { reasoningText: { text: 'Then the time there.', signature: 'c2lnLXR3bw==' } } },
  { reasoningContent: { redactedContent: Buffer.from(REDACTED).toString('base64') } },
  { toolUse: { toolUseId: 'toolu_2', name: 'clock', input: { city: 'Bern' } } },
];

const RESULTS = [
  { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
  { type: 'tool_result', tool_use_id: 'toolu_2', content: '14:05' },
];

function build(route: 'converse' | 'invoke', request: ChatRequest, unknown: string[] = [], modelId = CLAUDE): Record<string, unknown> {
  const target = targetFor({ route, modelId });
  const adapter = adapterFor(route, target.family);
  assert.ok(adapter);
  const prepared = applyParamPolicy(request, unknown, adapter, true, 'claude', () => undefined);
  return adapter.buildBody(prepared, { target, note: () => undefined, dropParams: true });
}

function assistantContent(body: Record<string, unknown>): unknown[] {
  const messages = body.messages as Array<{ role: string; content: unknown[] }>;
  const turn = messages.find((m) => m.role === 'assistant');
  assert.ok(turn, 'the assistant turn is sent');
  return turn.content;
}

const messagesBody = {
  model: 'claude',
  max_tokens: 2048,
  messages: [
    { role: 'user', content: 'Weather and time in Bern?' },
    { role: 'assistant', content: CLAUDE_TURN },
    { role: 'user', content: RESULTS },
  ],
};

test('Messages → Converse: each signed thinking block is its own reasoningContent with its own signature, where the client had it', () => {
  const { request, unknown } = readMessagesRequest(structuredClone(messagesBody), undefined);
  assert.deepEqual(assistantContent(build('converse', request, unknown)), CONVERSE_TURN);
});

test("Messages → Claude's body (a Chat or Responses client's neutral turn the same way): the blocks come back as they were", () => {
  const { request, unknown } = readMessagesRequest(structuredClone(messagesBody), undefined);
  assert.deepEqual(assistantContent(build('invoke', request, unknown)), CLAUDE_TURN);
});

test('native Converse → a Converse target: the turn round-trips block for block', () => {
  const { request, unknown } = readConverseRequest(
    {
      messages: [
        { role: 'user', content: [{ text: 'Weather and time in Bern?' }] },
        { role: 'assistant', content: CONVERSE_TURN },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 'toolu_1', content: [{ text: 'sunny' }] } },
            { toolResult: { toolUseId: 'toolu_2', content: [{ text: '14:05' }] } },
          ],
        },
      ],
    },
    'claude',
    false,
  );
  assert.deepEqual(assistantContent(build('converse', request, unknown)), CONVERSE_TURN);
});

test("native InvokeModel with Claude's body → a Converse target: the same blocks, each signed, in order", () => {
  const { request, unknown } = readClaudeInvoke(
    { anthropic_version: 'bedrock-2023-05-31', max_tokens: 2048, messages: structuredClone(messagesBody.messages) },
    'claude',
    false,
  );
  assert.deepEqual(assistantContent(build('converse', request, unknown)), CONVERSE_TURN);
});

test('a turn without an order (a reader that keeps none) sends reasoning first, then text, then tool calls; unsigned reasoning is not sent', () => {
  const turn: ChatMessage = {
    role: 'assistant',
    content: [{ type: 'text', text: 'Looking.' }],
    toolCalls: [{ id: 't1', name: 'weather', arguments: '{"city":"Bern"}' }],
    reasoning: [{ text: 'signed', signature: 'c2ln' }, { text: 'the client kept this unsigned' }, { redacted: 'opaque' }],
  };
  assert.deepEqual(
    assistantBlocks(turn).map((b) => b.kind),
    ['reasoning', 'reasoning', 'reasoning', 'text', 'tool'],
  );
  const request: ChatRequest = {
    ...readMessagesRequest({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, undefined).request,
  };
  request.messages = [...request.messages, turn, { role: 'tool', toolCallId: 't1', content: [{ type: 'text', text: 'sunny' }] }];
  assert.deepEqual(assistantContent(build('converse', request)), [
    { reasoningContent: { reasoningText: { text: 'signed', signature: 'c2ln' } } },
    { reasoningContent: { redactedContent: Buffer.from('opaque').toString('base64') } },
    { text: 'Looking.' },
    { toolUse: { toolUseId: 't1', name: 'weather', input: { city: 'Bern' } } },
  ]);
});

test('Messages → a model the sidecar cannot place (GLM): the thinking is left out, the text and tool calls kept (docs/contract.md#request-rules)', () => {
  const { request, unknown } = readMessagesRequest(structuredClone(messagesBody), undefined);
  const content = assistantContent(build('converse', request, unknown, 'zai.glm-4-7-v1:0'));
  assert.deepEqual(
    content,
    CONVERSE_TURN.filter((block) => !('reasoningContent' in block)),
  );
});
