import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepseekPrompt, llama2Prompt, llama3Prompt, mistralPrompt, titanPrompt } from '../../src/providers/chat-template.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';

function messages(list: unknown[]) {
  return readChatRequest({ model: 'm', messages: list }).request.messages;
}

const TOOL_TURNS = messages([
  { role: 'user', content: 'Weather?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } }],
  },
  { role: 'tool', tool_call_id: 'c1', content: '21C' },
]);

test('chat template: Llama 3 renders tool calls as JSON text and tool results in the ipython role', () => {
  assert.equal(
    llama3Prompt(TOOL_TURNS),
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWeather?<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n{"name":"w","arguments":{"city":"Paris"}}<|eot_id|>' +
      '<|start_header_id|>ipython<|end_header_id|>\n\n21C<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
});

test('chat template: Mistral [INST] pairs, system text leading the first user turn, tool results as user text', () => {
  const list = messages([
    { role: 'system', content: 'S' },
    { role: 'user', content: 'U1' },
    { role: 'assistant', content: 'A1' },
    { role: 'user', content: 'U2' },
  ]);
  assert.equal(mistralPrompt(list), '<s>[INST] S\n\nU1 [/INST] A1</s> [INST] U2 [/INST]');
  assert.equal(
    mistralPrompt(TOOL_TURNS),
    '<s>[INST] Weather? [/INST] {"name":"w","arguments":{"city":"Paris"}}</s> [INST] Tool result:\n21C [/INST]',
  );
});

test('chat template: Llama 2 puts the system prompt in <<SYS>> inside the first [INST]', () => {
  const list = messages([
    { role: 'system', content: 'S' },
    { role: 'user', content: 'U1' },
    { role: 'assistant', content: 'A1' },
    { role: 'user', content: 'U2' },
  ]);
  assert.equal(llama2Prompt(list), '<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]');
});

test('chat template: DeepSeek opens the think block only for reasoning models; consecutive user turns merge', () => {
  const list = messages([
    { role: 'user', content: 'a' },
    { role: 'user', content: 'b' },
  ]);
  assert.equal(deepseekPrompt(list, true), '<｜begin▁of▁sentence｜><｜User｜>a\n\nb<｜Assistant｜><think>\n');
  assert.equal(deepseekPrompt(list, false), '<｜begin▁of▁sentence｜><｜User｜>a\n\nb<｜Assistant｜>');
});

test('chat template: Titan ends on "Bot:" and keeps multi-byte text intact', () => {
  assert.equal(titanPrompt(messages([{ role: 'user', content: 'Grüße ☃' }])), 'User: Grüße ☃\nBot:');
});
