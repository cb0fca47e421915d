import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openReasoning, ResponseStore, sealReasoning, type StoredResponse } from '../../src/surfaces/openai-responses/store.ts';
import { readResponsesRequest, type ReadOptions } from '../../src/surfaces/openai-responses/request.ts';
import { SidecarError } from '../../src/errors.ts';

function response(id: string, size = 10, reasoning: string[] = []): StoredResponse {
  return {
    id,
    response: { id, output: [{ type: 'message', content: [{ type: 'output_text', text: 'x'.repeat(size) }] }] },
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    reasoning: new Map(reasoning.map((r) => [r, { text: 'thought', signature: 'sig' }])),
  };
}

test('store: bounded by entries, oldest out first', () => {
  const store = new ResponseStore({ maxEntries: 2, maxBytes: 1 << 20, ttlS: 60 });
  store.put(response('resp_a'));
  store.put(response('resp_b'));
  store.put(response('resp_c'));
  assert.equal(store.size, 2);
  assert.equal(store.get('resp_a'), undefined);
  assert.ok(store.get('resp_b'));
  assert.ok(store.get('resp_c'));
});

test('store: bounded by bytes; an answer larger than the whole store is not kept', () => {
  const store = new ResponseStore({ maxEntries: 1000, maxBytes: 5_000, ttlS: 60 });
  for (let i = 0; i < 50; i++) store.put(response(`resp_${i}`, 1_000));
  assert.ok(store.bytes <= 5_000, `bytes ${store.bytes}`);
  assert.ok(store.size >= 3 && store.size <= 5);
  assert.ok(store.get('resp_49'));
  assert.equal(store.get('resp_0'), undefined);
  store.put(response('resp_huge', 10_000));
  assert.equal(store.get('resp_huge'), undefined);
});

test('store: entries expire after store_ttl_s; a reasoning item id finds its response; delete forgets both', () => {
  let now = 0;
  const store = new ResponseStore({ maxEntries: 10, maxBytes: 1 << 20, ttlS: 10 }, () => now);
  store.put(response('resp_a', 10, ['rs_1']));
  assert.equal(store.get('rs_1')?.id, 'resp_a');
  assert.equal(store.get('rs_1')?.reasoning.get('rs_1')?.signature, 'sig');
  now = 10_001;
  assert.equal(store.get('resp_a'), undefined);
  store.put(response('resp_b', 10, ['rs_2']));
  assert.equal(store.delete('resp_b'), true);
  assert.equal(store.get('rs_2'), undefined);
  assert.equal(store.delete('resp_b'), false);
  assert.equal(store.bytes, 0);
});

test('encrypted_content: ours opens to the text and signature; anything else is not ours', () => {
  const sealed = sealReasoning({ text: 'I think — carefully 🤔', signature: 'EqQBCkgIARABGAIiQ' });
  assert.match(sealed, /^bsc1\./);
  assert.deepEqual(openReasoning(sealed), { text: 'I think — carefully 🤔', signature: 'EqQBCkgIARABGAIiQ' });
  assert.deepEqual(openReasoning(sealReasoning({ text: '', redacted: 'opaque' })), { text: '', redacted: 'opaque' });
  assert.equal(openReasoning('gAAAAABnotours'), undefined);
  assert.equal(openReasoning('bsc1.!!!'), undefined);
});

const options: ReadOptions = { lookup: () => undefined, dropBuiltIns: false, note: () => undefined };
const read = (body: Record<string, unknown>, o = options) => readResponsesRequest({ model: 'm', ...body }, o);

test('reader: items become the neutral conversation; developer text follows the instructions, each its own system message', () => {
  const { request, extras } = read({
    instructions: 'Be brief.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Use tools.' }] },
      { role: 'user', content: 'Weather?' },
      { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'snow' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Snow.' }] },
      { role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
    ],
    tools: [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: {} } }],
    max_output_tokens: 100,
    temperature: 0.2,
    reasoning: { effort: 'high', summary: 'auto' },
    text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' } }, verbosity: 'low' },
  });
  assert.deepEqual(
    request.messages.map((m) => m.role),
    ['system', 'system', 'user', 'assistant', 'tool', 'assistant', 'user'],
  );
  // Apart, so no body glues them together ("Be brief.Use tools." it was); each named where the client put it.
  assert.deepEqual(request.messages.slice(0, 2), [
    { role: 'system', content: [{ type: 'text', text: 'Be brief.', at: 'instructions' }], at: 'instructions' },
    { role: 'system', content: [{ type: 'text', text: 'Use tools.', at: 'input[0].content[0]' }], at: 'input[0]' },
  ]);
  assert.deepEqual(request.params.max_tokens, 100);
  assert.equal(request.params.reasoning_effort, 'high');
  assert.equal(request.params.response_format?.type, 'json_schema');
  assert.equal(extras.store, true);
});

test('reader: custom and namespace tools are named for Bedrock and remembered for the answer', () => {
  const { request, extras } = read({
    input: 'x',
    tools: [
      {
        type: 'custom',
        name: 'apply_patch',
        description: 'Patch files',
        format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' },
      },
      { type: 'namespace', name: 'multi_agent', tools: [{ type: 'function', name: 'spawn', parameters: { type: 'object' } }] },
    ],
  });
  assert.deepEqual(
    request.params.tools?.map((t) => t.name),
    ['apply_patch', 'multi_agent__spawn'],
  );
  assert.match(request.params.tools[0]!.description ?? '', /lark grammar/);
  assert.deepEqual(extras.tools.get('multi_agent__spawn'), { kind: 'function', name: 'spawn', namespace: 'multi_agent' });
  assert.deepEqual(extras.tools.get('apply_patch'), { kind: 'custom', name: 'apply_patch' });
});

test('reader: what cannot be served is a 400 naming it', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ input: 'x', tools: [{ type: 'web_search' }] }, /tools\[0\]: the built-in tool "web_search"/],
    [{ input: 'x', background: true }, /background/],
    [{ input: [{ type: 'mystery' }] }, /input\[0\]: input item type "mystery"/],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, /cannot fetch image URLs/],
    [{ input: [{ role: 'user', content: 'x' }], truncation: 'auto' }, /truncation/],
    [{ input: [] }, /at least one user message/],
    [{ input: 'x', tool_choice: { type: 'function', name: 'nope' } }, /"nope", which is not in "tools"/],
  ];
  for (const [body, message] of cases)
    assert.throws(
      () => read(body),
      (e: SidecarError) => message.test(e.message),
      String(message),
    );
  const dropped: string[] = [];
  const { request } = read(
    { input: 'x', tools: [{ type: 'web_search' }] },
    {
      ...options,
      dropBuiltIns: true,
      note: (m: string) => {
        dropped.push(m);
      },
    },
  );
  assert.equal(request.params.tools, undefined);
  assert.match(dropped[0]!, /web_search/);
});
