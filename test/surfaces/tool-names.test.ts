// Tool names a route cannot carry (docs/contract.md#request-rules), through the sidecar and the emulator,
// which holds Bedrock's rule (at most 64 characters of [a-zA-Z0-9_-]) and Nova's failure on a hyphenated
// tool it calls. MCP tools are named `mcp__<server>__<tool>` from a server's own names, which can make them
// longer than 64 characters, and often hold hyphens: on a converse alias they are renamed for the call, and
// every answer names the calls back, whole and streamed, so the client never sees the names Bedrock was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';

const LONG = 'mcp__knowledge-base-server__search_all_documents_in_the_shared_engineering_workspace';
const MODELS = [
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
];

interface Sent {
  toolConfig: { tools: Array<{ toolSpec: { name: string } }>; toolChoice?: { tool?: { name: string } } };
  messages: Array<{ content: Array<Record<string, { name?: string }>> }>;
}

const sent = (h: Harness): Sent => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Sent;

async function post(h: Harness, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

function messagesBody(stream: boolean, history: unknown[] = []): Record<string, unknown> {
  return {
    model: 'claude-converse',
    max_tokens: 100,
    stream,
    tools: [
      { name: LONG, input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
      { name: 'get_weather', input_schema: { type: 'object', properties: {} } },
    ],
    tool_choice: { type: 'tool', name: LONG },
    messages: [{ role: 'user', content: 'find the design doc' }, ...history],
  };
}

test('tool names: Messages with an MCP tool name over 64 characters on a Claude converse alias — renamed for Bedrock, named back in the answer', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    // What the sidecar sends in place of the long name (the emulator refuses the long one, as Bedrock does).
    h.emu.script({ type: 'text', text: 'ok' });
    await post(h, '/v1/messages', messagesBody(false));
    const first = sent(h);
    const name = first.toolConfig.tools[0]!.toolSpec.name;
    assert.ok(name.length <= 64 && /^[a-zA-Z0-9_-]+$/.test(name), name);
    assert.equal(first.toolConfig.tools[1]!.toolSpec.name, 'get_weather');
    assert.equal(first.toolConfig.toolChoice?.tool?.name, name);

    for (const stream of [false, true]) {
      h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_1', name, input: { q: 'design doc' } }] });
      const text = await post(h, '/v1/messages', messagesBody(stream));
      if (stream) {
        assert.ok(text.includes(`"name":"${LONG}"`), text);
        assert.ok(!text.includes(name), text);
      } else {
        const answer = JSON.parse(text) as { content: Array<{ type: string; name?: string }>; stop_reason: string };
        assert.deepEqual(
          answer.content.filter((b) => b.type === 'tool_use').map((b) => b.name),
          [LONG],
        );
        assert.equal(answer.stop_reason, 'tool_use');
      }
    }

    // The next turn hands the call back under the client's name: Bedrock is sent the same name again.
    h.emu.script({ type: 'text', text: 'found it' });
    await post(
      h,
      '/v1/messages',
      messagesBody(false, [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: LONG, input: { q: 'design doc' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'design.md' }] },
      ]),
    );
    const next = sent(h);
    assert.equal(next.messages[1]!.content[0]!.toolUse!.name, name);
    assert.equal(next.toolConfig.tools[0]!.toolSpec.name, name);
  } finally {
    await h.close();
  }
});

test('tool names: a hyphenated tool on Nova (which fails calling one) is sent without hyphens; Chat gets its own name back', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const tools = [{ type: 'function', function: { name: 'mcp__my-server__read-file', parameters: { type: 'object', properties: {} } } }];
    for (const stream of [false, true]) {
      h.emu.script({ type: 'tool_use', calls: [{ id: 'tooluse_1', name: 'mcp__my_server__read_file', input: {} }] });
      const text = await post(h, '/v1/chat/completions', {
        model: 'nova',
        stream,
        tools,
        messages: [{ role: 'user', content: 'read it' }],
      });
      assert.equal(sent(h).toolConfig.tools[0]!.toolSpec.name, 'mcp__my_server__read_file');
      assert.ok(text.includes('"name":"mcp__my-server__read-file"'), text);
      assert.ok(!text.includes('mcp__my_server__read_file'), text);
    }
  } finally {
    await h.close();
  }
});

test("tool names: Nova's own InvokeModel body keeps its names, masked by a guardrail too (the mask is written into the app's body)", async () => {
  const h = await startHarness({
    guardrails: [{ name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' }],
    models: [{ name: 'nova-invoke', model: 'bedrock/invoke/us.amazon.nova-micro-v1:0', region: 'us-east-1', guardrails: ['mask-ids'] }],
  });
  try {
    const body = (text: string): Record<string, unknown> => ({
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'read-file', inputSchema: { json: { type: 'object', properties: {} } } } }] },
    });
    const post = async (text: string): Promise<{ output: { message: { content: Array<{ toolUse?: { name: string } }> } } }> => {
      const res = await fetch(`${h.url}/model/nova-invoke/invoke`, { method: 'POST', body: JSON.stringify(body(text)) });
      const answer = await res.text();
      assert.equal(res.status, 200, answer);
      return JSON.parse(answer) as { output: { message: { content: Array<{ toolUse?: { name: string } }> } } };
    };
    h.emu.script({ type: 'text', text: 'ok' });
    await post('read it');
    assert.equal(sent(h).toolConfig.tools[0]!.toolSpec.name, 'read-file', 'the app body goes as written');
    h.emu.script({ type: 'text', text: 'ok' });
    await post('read it for 123-45-6789');
    assert.deepEqual(sent(h), body('read it for [REDACTED]'), 'the app body as written, the number masked');
  } finally {
    await h.close();
  }
});
