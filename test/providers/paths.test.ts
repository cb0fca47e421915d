// Where the neutral request's items came from (src/providers/paths.ts): the paths the request rules name, and an
// input guardrail's masks written back into a client's own body at the place each masked text was read — or,
// when a masked text cannot be placed there, no own body at all (the family builds one from the masked reading,
// so nothing the guardrail masked is sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callAt, maskedOwnBody, messageAt, partAt } from '../../src/providers/paths.ts';
import type { ChatMessage } from '../../src/providers/request.ts';

const user = (text: string, at?: string): ChatMessage => ({
  role: 'user',
  content: [{ type: 'text', text, ...(at !== undefined ? { at } : {}) }],
  at: 'messages[1]',
});

test('paths: what a reader marked, else the place in the neutral reading', () => {
  const assistant: ChatMessage = { role: 'assistant', content: [], toolCalls: [{ id: 'c', name: 'f', arguments: '', at: 'input[4]' }] };
  assert.equal(messageAt(user('x'), 3), 'messages[1]');
  assert.equal(partAt(user('x', 'messages[1].content[2]'), 3, 0), 'messages[1].content[2]');
  assert.equal(partAt({ role: 'user', content: [{ type: 'text', text: 'x' }] }, 3, 0), 'messages[3].content[0]');
  assert.equal(callAt(assistant, 2, 0), 'input[4]');
  assert.equal(callAt({ ...assistant, toolCalls: [{ id: 'c', name: 'f', arguments: '' }] }, 2, 0), 'messages[2].tool_calls[0]');
});

test('maskedOwnBody: the body itself when nothing changed; each masked text written where it was read, the rest shared', () => {
  const body = {
    system: 'Agent 7',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'my id 1', cache_control: { type: 'ephemeral' } }] }],
    chat_history: [{ role: 'TOOL', outputs: [{ id: 'id 1' }] }],
    documents: [{ snippet: 'kept' }],
  };
  const reading: ChatMessage[] = [
    { role: 'system', content: [{ type: 'text', text: 'Agent 7', at: 'system' }] },
    user('my id 1', 'messages[0].content[0]'),
    { role: 'tool', toolCallId: 'c', content: [{ type: 'text', text: '[{"id":"id 1"}]', at: 'chat_history.0.outputs' }] },
  ];
  assert.equal(maskedOwnBody(body, reading, reading), body);
  const masked: ChatMessage[] = [
    { role: 'system', content: [{ type: 'text', text: 'Agent [X]', at: 'system' }] },
    user('my id [X]', 'messages[0].content[0]'),
    { role: 'tool', toolCallId: 'c', content: [{ type: 'text', text: '[{"id":"id [X]"}]', at: 'chat_history.0.outputs' }] },
  ];
  const out = maskedOwnBody(body, reading, masked)!;
  assert.deepEqual(out, {
    system: 'Agent [X]',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'my id [X]', cache_control: { type: 'ephemeral' } }] }],
    chat_history: [{ role: 'TOOL', outputs: [{ id: 'id [X]' }] }],
    documents: [{ snippet: 'kept' }],
  });
  assert.equal(out.documents, body.documents, 'what no mask touched is shared');
  assert.equal(body.system, 'Agent 7', "the client's body is left as it came");
});

test('maskedOwnBody: a masked text with no place, or a place that does not say what was read, leaves no own body', () => {
  const body = { messages: [{ role: 'user', content: 'my id 1' }] };
  const reading = [user('my id 1', 'messages[0].content')];
  assert.equal(maskedOwnBody(body, [user('my id 1')], [user('my id [X]')]), undefined, 'no at');
  assert.equal(maskedOwnBody(body, [user('other', 'messages[0].content')], [user('[X]', 'messages[0].content')]), undefined);
  assert.equal(maskedOwnBody(body, reading, [user('my id [X]', 'messages[5].content')]), undefined, 'a path the body lacks');
  const json = { outputs: [{ id: 'id 1' }] };
  const read = [user('[{"id":"id 1"}]', 'outputs')];
  assert.equal(maskedOwnBody(json, read, [user('[{"id":"[X', 'outputs')]), undefined, 'a mask that broke the JSON');
});
