// Llama 4 takes tools on Converse but refuses them on ConverseStream ("This model doesn't support tool use in
// streaming mode.", docs/contract.md#request-rules), and the emulator holds that. A streamed request with tools
// to a Llama 4 converse alias used to fail on every call; the sidecar now asks Bedrock whole and streams the
// answer, framed as the stream Bedrock would have sent, through the same five stages (re-chunking, usage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { withEmulator } from '../helpers/emulator.ts';
import { post, type RawResponse } from '../emulator/helpers.ts';

const MAVERICK = 'us.meta.llama4-maverick-17b-instruct-v1:0';
const MODELS = [{ name: 'maverick', model: `bedrock/converse/${MAVERICK}`, region: 'us-east-1' }];
const tools = [
  {
    type: 'function' as const,
    function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  },
];

const operations = (h: Harness, since: number): string[] => h.emu.requests.slice(since).map((r) => r.operation);

test('streamed tools on Llama 4: the emulator refuses them on ConverseStream and takes them on Converse', async () => {
  await withEmulator(async (emu) => {
    const body = JSON.stringify({
      messages: [{ role: 'user', content: [{ text: 'weather?' }] }],
      toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }] },
    });
    const at = (op: string): Promise<RawResponse> => post(emu.url, `/model/${encodeURIComponent(MAVERICK)}/${op}`, body);
    const streamed = await at('converse-stream');
    assert.equal(streamed.status, 400);
    assert.deepEqual(JSON.parse(streamed.body.toString()), { message: "This model doesn't support tool use in streaming mode." });
    assert.equal((await at('converse')).status, 200);
  });
});

test('streamed tools on Llama 4: Chat streams the tool call and the text of an answer asked whole, re-chunked, with usage', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    let since = h.emu.requests.length;
    h.emu.script({
      type: 'tool_use',
      text: 'Let me check.',
      calls: [{ id: 'tooluse_1', name: 'get_weather', input: { city: 'Oslo' } }],
      usage: { inputTokens: 9, outputTokens: 7 },
    });
    const stream = await client.chat.completions.create({
      model: 'maverick',
      stream: true,
      stream_options: { include_usage: true },
      tools,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      ...({ stream_chunk_size: 4 } as object),
    });
    let text = '';
    let args = '';
    let name: string | undefined;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      const choice = chunk.choices[0];
      if (chunk.usage) usage = chunk.usage;
      if (!choice) continue;
      text += choice.delta.content ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        name ??= call.function?.name;
        args += call.function?.arguments ?? '';
      }
      finish ??= choice.finish_reason;
    }
    assert.deepEqual(operations(h, since), ['Converse'], 'asked whole');
    assert.equal(text, 'Let me check.');
    assert.ok(chunks >= 5, `re-chunked at 4 bytes: ${chunks} chunks`);
    assert.equal(name, 'get_weather');
    assert.deepEqual(JSON.parse(args), { city: 'Oslo' });
    assert.equal(finish, 'tool_calls');
    assert.equal(usage?.prompt_tokens, 9);
    assert.equal(usage?.completion_tokens, 7);

    // Without tools the stream is Bedrock's own.
    since = h.emu.requests.length;
    h.emu.script({ type: 'text', text: 'Hello.' });
    const plain = await client.chat.completions.create({ model: 'maverick', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _chunk of plain) void _chunk;
    assert.deepEqual(operations(h, since), ['ConverseStream']);
  } finally {
    await h.close();
  }
});
