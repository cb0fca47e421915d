/**
 * Tool names a route cannot carry (docs/contract.md#request-rules): renamed for the call the same way every
 * time, named back in the answer. The rules: Bedrock's Converse (`[a-zA-Z0-9_-]`, at most 64) and Nova's
 * stricter one (no hyphens, a letter first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import type { ChatRequest } from '../../src/providers/request.ts';
import { BEDROCK_TOOL_NAMES, NOVA_TOOL_NAMES, renameTools, restoreToolNames, withToolNames } from '../../src/providers/tool-names.ts';
import type { StreamMapper } from '../../src/providers/types.ts';

const LONG = `mcp__${'knowledge-base-server'}__${'search_all_documents_in_the_shared_engineering_workspace'}`;

function request(names: string[], choice?: string): ChatRequest {
  const tools = names.map((name) => ({ name, description: undefined, parameters: { type: 'object' } }));
  return {
    model: 'm',
    stream: false,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      { role: 'assistant', content: [], toolCalls: names.map((name, i) => ({ id: `c${i}`, name, arguments: '{}' })) },
      ...names.map((_, i) => ({ role: 'tool' as const, toolCallId: `c${i}`, content: [{ type: 'text' as const, text: 'ok' }] })),
    ],
    params: { tools, ...(choice ? { tool_choice: { type: 'function' as const, name: choice } } : {}) },
    sidecar: { streamChunkSize: undefined, guardrails: [], includeUsage: false },
  };
}

function sentNames(r: ChatRequest): { tools: string[]; history: string[]; choice: string | undefined } {
  const assistant = r.messages.find((m) => m.role === 'assistant');
  return {
    tools: (r.params.tools ?? []).map((t) => t.name),
    history: assistant && assistant.role === 'assistant' ? assistant.toolCalls.map((c) => c.name) : [],
    choice: r.params.tool_choice?.type === 'function' ? r.params.tool_choice.name : undefined,
  };
}

test('tool names: a request whose names the route takes is left as it is (nothing copied)', () => {
  assert.equal(renameTools(request(['get_weather', 'mcp__fs__read-file']), BEDROCK_TOOL_NAMES), undefined);
  assert.equal(renameTools(request(['get_weather', 'read_file']), NOVA_TOOL_NAMES), undefined);
});

test('tool names: Bedrock — other characters fold to _, a long name is cut with a hash; tools, choice and history agree', () => {
  const original = request(['get_weather', 'browser.navigate', LONG], LONG);
  const renamed = renameTools(original, BEDROCK_TOOL_NAMES)!;
  const sent = sentNames(renamed.request);
  assert.equal(sent.tools[0], 'get_weather');
  assert.equal(sent.tools[1], 'browser_navigate');
  assert.match(sent.tools[2]!, /^mcp__knowledge-base-server__search_all_documents_in_the_[0-9a-f]{8}$/);
  assert.equal(sent.tools[2]!.length, 64);
  assert.deepEqual(sent.history, sent.tools);
  assert.equal(sent.choice, sent.tools[2]);
  for (const name of sent.tools) assert.match(name, BEDROCK_TOOL_NAMES.valid);
  assert.deepEqual(
    [...renamed.names],
    [
      ['browser_navigate', 'browser.navigate'],
      [sent.tools[2], LONG],
    ],
  );
  // The client's request is not changed, and the same request is renamed the same way (history, cache points).
  assert.deepEqual(sentNames(original).tools, ['get_weather', 'browser.navigate', LONG]);
  assert.deepEqual(sentNames(renameTools(original, BEDROCK_TOOL_NAMES)!.request), sent);
});

test('tool names: a folded name that meets another tool gets a hash instead of taking its name', () => {
  const renamed = renameTools(request(['a_b', 'a.b', 'a:b']), BEDROCK_TOOL_NAMES)!;
  const sent = sentNames(renamed.request).tools;
  assert.equal(sent[0], 'a_b');
  assert.equal(new Set(sent).size, 3, sent.join(', '));
  for (const name of sent) assert.match(name, BEDROCK_TOOL_NAMES.valid);
  assert.equal(renamed.names.get(sent[1]!), 'a.b');
  assert.equal(renamed.names.get(sent[2]!), 'a:b');
});

test('tool names: Nova — hyphens fold to _, a name starts with a letter', () => {
  const renamed = renameTools(request(['mcp__my-server__read-file', '1password_lookup', 'ok_tool']), NOVA_TOOL_NAMES)!;
  assert.deepEqual(sentNames(renamed.request).tools, ['mcp__my_server__read_file', 't1password_lookup', 'ok_tool']);
  for (const name of sentNames(renamed.request).tools) assert.match(name, NOVA_TOOL_NAMES.valid);
});

test('tool names: the answer names calls back, whole and streamed; other events pass untouched', () => {
  const names = new Map([['browser_navigate', 'browser.navigate']]);
  const events: StreamEvent[] = [
    { kind: 'text', text: 'x' },
    { kind: 'tool_start', index: 0, id: 't0', name: 'browser_navigate' },
    { kind: 'tool_start', index: 1, id: 't1', name: 'get_weather' },
  ];
  const whole = restoreToolNames(events, names);
  assert.deepEqual(
    whole.map((e) => (e.kind === 'tool_start' ? e.name : e.kind)),
    ['text', 'browser.navigate', 'get_weather'],
  );
  assert.equal(restoreToolNames(events, undefined), events);
  let terminated = false;
  const inner: StreamMapper = {
    push: () => events,
    get terminated() {
      return terminated;
    },
    end: () => [{ kind: 'tool_start', index: 2, id: 't2', name: 'browser_navigate' }],
  };
  const mapper = withToolNames(inner, names);
  assert.deepEqual(mapper.push({}), whole);
  assert.deepEqual(mapper.end?.(), [{ kind: 'tool_start', index: 2, id: 't2', name: 'browser.navigate' }]);
  terminated = true;
  assert.equal(mapper.terminated, true);
  assert.equal(withToolNames(inner, undefined), inner);
});
