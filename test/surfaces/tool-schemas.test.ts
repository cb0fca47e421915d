// Tool schemas Bedrock refuses (docs/contract.md#request-rules), through the sidecar and the emulator, which
// holds Bedrock's rules: Converse takes a tool schema only with `type: "object"` at the top, and Claude takes
// no `anyOf` / `oneOf` / `allOf` there. One such tool in a request (an MCP server's union, a zod union, an empty
// `parameters`) used to fail every turn; each surface now gets an answer, and Bedrock is sent a schema it takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAUDE_INVOKE, startHarness, type Harness } from '../helpers/harness.ts';

const MODELS = [
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  { name: 'nova', model: 'bedrock/converse/us.amazon.nova-pro-v1:0', region: 'us-east-1' },
  CLAUDE_INVOKE,
];

/** "Exactly one of yaml, files or dir", as an MCP server publishes it. */
const RUN_SCHEMA = {
  type: 'object',
  properties: { yaml: { type: 'string' }, files: { type: 'array', items: { type: 'string' } }, dir: { type: 'string' } },
  oneOf: [{ required: ['yaml'] }, { required: ['files'] }, { required: ['dir'] }],
};
/** A zod union of two objects, as zod-to-json-schema writes it (no type at the top). */
const LOOKUP_SCHEMA = {
  anyOf: [
    { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  ],
};

type Json = Record<string, unknown>;
const sent = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;
const converseSchemas = (body: Json): Json[] =>
  ((body.toolConfig as { tools: Array<{ toolSpec?: { inputSchema: { json: Json } } }> }).tools ?? [])
    .filter((t) => t.toolSpec)
    .map((t) => t.toolSpec!.inputSchema.json);

async function post(h: Harness, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

test('tool schemas: Chat and Responses to Claude on converse — a union folded, an empty schema typed; Claude answers', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const chatTools = [
      { type: 'function', function: { name: 'run', parameters: RUN_SCHEMA } },
      { type: 'function', function: { name: 'lookup', parameters: LOOKUP_SCHEMA } },
      { type: 'function', function: { name: 'ping', parameters: {} } },
    ];
    for (const stream of [false, true]) {
      h.emu.script({ type: 'text', text: 'ok' });
      const text = await post(h, '/v1/chat/completions', {
        model: 'claude-converse',
        stream,
        tools: chatTools,
        messages: [{ role: 'user', content: 'go' }],
      });
      assert.ok(text.includes('ok'), text);
      const [run, lookup, ping] = converseSchemas(sent(h));
      assert.deepEqual(run, { type: 'object', properties: RUN_SCHEMA.properties });
      assert.deepEqual(lookup, { type: 'object', properties: { id: { type: 'string' }, path: { type: 'string' } } });
      assert.deepEqual(ping, { type: 'object' });
    }
    h.emu.script({ type: 'text', text: 'ok' });
    await post(h, '/v1/responses', {
      model: 'claude-converse',
      input: 'go',
      tools: [{ type: 'function', name: 'lookup', parameters: LOOKUP_SCHEMA }],
    });
    assert.deepEqual(converseSchemas(sent(h))[0]!.properties, { id: { type: 'string' }, path: { type: 'string' } });
  } finally {
    await h.close();
  }
});

test('tool schemas: to Nova the union goes as written beside type object (only Claude refuses it)', async () => {
  const h = await startHarness({ models: MODELS });
  try {
    h.emu.script({ type: 'text', text: 'ok' });
    await post(h, '/v1/chat/completions', {
      model: 'nova',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: LOOKUP_SCHEMA } }],
      messages: [{ role: 'user', content: 'go' }],
    });
    assert.deepEqual(converseSchemas(sent(h))[0], { type: 'object', ...LOOKUP_SCHEMA });
  } finally {
    await h.close();
  }
});

test("tool schemas: Claude Code's own Messages body on a Claude invoke alias — the MCP tool's oneOf folded, every other tool as sent", async () => {
  const h = await startHarness({ models: MODELS });
  try {
    const read = {
      name: 'Read',
      description: 'Read a file',
      input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] },
    };
    for (const stream of [false, true]) {
      h.emu.script({ type: 'text', text: 'ok' });
      await post(h, '/v1/messages', {
        model: CLAUDE_INVOKE.name,
        max_tokens: 100,
        stream,
        tools: [read, { name: 'mcp__maestro__run', input_schema: RUN_SCHEMA }],
        messages: [{ role: 'user', content: 'run the flow' }],
      });
      const tools = sent(h).tools as Json[];
      assert.deepEqual(tools[0], read);
      assert.deepEqual(tools[1], { name: 'mcp__maestro__run', input_schema: { type: 'object', properties: RUN_SCHEMA.properties } });
    }
    const folded = h.logs.find((line) => JSON.stringify(line).includes('top-level oneOf folded'));
    assert.ok(folded, 'the fold is logged');
  } finally {
    await h.close();
  }
});
