/**
 * Every model family × route × {stream, non-stream} end to end: the sidecar and the emulator (an
 * independent reading of Bedrock's docs) on loopback. Checks what reaches Bedrock (no sidecar parameter,
 * on any route or family) and what reaches the client: text intact, finish reason, usage from Bedrock's
 * own counts, streamed tool calls (id and name first, arguments that parse to the model's JSON),
 * reasoning deltas, and `stream_chunk_size` honoured identically everywhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chat, parseStream, startHarness, type Harness } from '../helpers/harness.ts';

interface FamilyCase {
  name: string;
  model: string;
  tools: boolean;
  /** Scripted reasoning comes back as reasoning_content. */
  reasoning: boolean;
}

const CASES: FamilyCase[] = [
  { name: 'anthropic invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', tools: true, reasoning: true },
  { name: 'anthropic converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', tools: true, reasoning: true },
  { name: 'nova invoke', model: 'bedrock/invoke/us.amazon.nova-lite-v1:0', tools: true, reasoning: true },
  { name: 'nova converse', model: 'bedrock/converse/us.amazon.nova-lite-v1:0', tools: true, reasoning: true },
  { name: 'titan invoke', model: 'bedrock/invoke/amazon.titan-text-express-v1', tools: false, reasoning: false },
  { name: 'titan converse', model: 'bedrock/converse/amazon.titan-text-express-v1', tools: false, reasoning: false },
  { name: 'llama invoke', model: 'bedrock/invoke/us.meta.llama3-1-70b-instruct-v1:0', tools: false, reasoning: false },
  { name: 'llama4 invoke', model: 'bedrock/invoke/us.meta.llama4-maverick-17b-instruct-v1:0', tools: false, reasoning: false },
  { name: 'llama converse', model: 'bedrock/converse/us.meta.llama3-1-70b-instruct-v1:0', tools: true, reasoning: false },
  { name: 'mistral chat invoke', model: 'bedrock/invoke/mistral.mistral-large-2407-v1:0', tools: true, reasoning: false },
  { name: 'mistral prompt invoke', model: 'bedrock/invoke/mistral.mixtral-8x7b-instruct-v0:1', tools: false, reasoning: false },
  { name: 'mistral converse', model: 'bedrock/converse/mistral.mistral-large-2407-v1:0', tools: true, reasoning: false },
  { name: 'cohere invoke', model: 'bedrock/invoke/cohere.command-r-plus-v1:0', tools: true, reasoning: false },
  { name: 'cohere converse', model: 'bedrock/converse/cohere.command-r-plus-v1:0', tools: true, reasoning: false },
  { name: 'ai21 invoke', model: 'bedrock/invoke/ai21.jamba-1-5-large-v1:0', tools: true, reasoning: false },
  { name: 'ai21 converse', model: 'bedrock/converse/ai21.jamba-1-5-large-v1:0', tools: false, reasoning: false },
  { name: 'deepseek invoke', model: 'bedrock/invoke/us.deepseek.r1-v1:0', tools: false, reasoning: true },
  { name: 'deepseek converse', model: 'bedrock/converse/us.deepseek.r1-v1:0', tools: false, reasoning: true },
  { name: 'openai invoke', model: 'bedrock/invoke/openai.gpt-oss-120b-1:0', tools: true, reasoning: true },
  { name: 'openai converse', model: 'bedrock/converse/openai.gpt-oss-120b-1:0', tools: true, reasoning: true },
  { name: 'qwen invoke', model: 'bedrock/invoke/qwen.qwen3-32b-v1:0', tools: true, reasoning: true },
  { name: 'qwen converse', model: 'bedrock/converse/qwen.qwen3-32b-v1:0', tools: true, reasoning: false },
  // 2026 families and ids (docs/contract.md#models-and-routes)
  { name: 'kimi k2 thinking invoke', model: 'bedrock/invoke/moonshot.kimi-k2-thinking', tools: true, reasoning: true },
  { name: 'kimi k2 thinking converse', model: 'bedrock/converse/moonshot.kimi-k2-thinking', tools: true, reasoning: true },
  { name: 'minimax m2 converse', model: 'bedrock/converse/minimax.minimax-m2', tools: true, reasoning: true },
  { name: 'qwen3-next converse', model: 'bedrock/converse/qwen.qwen3-next-80b-a3b', tools: true, reasoning: true },
  { name: 'qwen3-vl converse', model: 'bedrock/converse/qwen.qwen3-vl-235b-a22b', tools: true, reasoning: false },
  { name: 'gemma 3 converse', model: 'bedrock/converse/google.gemma-3-27b-it', tools: false, reasoning: false },
  { name: 'nemotron 3 converse', model: 'bedrock/converse/nvidia.nemotron-nano-3-30b', tools: true, reasoning: true },
  { name: 'deepseek v3.2 converse', model: 'bedrock/converse/deepseek.v3.2', tools: true, reasoning: true },
  { name: 'claude suffix-less invoke', model: 'bedrock/invoke/global.anthropic.claude-sonnet-4-6', tools: true, reasoning: true },
  { name: 'claude suffix-less converse', model: 'bedrock/converse/anthropic.claude-opus-4-7', tools: true, reasoning: true },
];

const TEXT = 'Bonjour — the weather is fine ☀️ and 🌧️ later; naïve café «ok».';
const USAGE = { inputTokens: 31, outputTokens: 17 };
const TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};
const SIDECAR_KEYS = ['stream_chunk_size', 'guardrails', 'stream_options', 'include_usage'];

let h: Harness;
before(async () => {
  h = await startHarness({ logging: { level: 'silent' } });
});
after(async () => {
  await h.close();
});

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Paris?' },
];

async function lastUpstreamJson(): Promise<Record<string, unknown>> {
  const rec = h.emu.requests.at(-1)!;
  await rec.done;
  return rec.json as Record<string, unknown>;
}

function assertNoSidecarKeys(json: unknown, where: string): void {
  const text = JSON.stringify(json);
  for (const key of SIDECAR_KEYS) assert.ok(!text.includes(`"${key}"`), `${where}: "${key}" must not reach Bedrock: ${text.slice(0, 300)}`);
}

for (const c of CASES) {
  test(`families: ${c.name} streams the model's text intact with finish and Bedrock's usage, and no sidecar parameter upstream`, async () => {
    h.emu.script({ type: 'text', text: TEXT, usage: USAGE });
    const res = await chat(h, {
      model: c.model,
      stream: true,
      messages,
      max_tokens: 300,
      stream_chunk_size: 1024,
      guardrails: [],
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const s = parseStream(await res.text());
    assert.equal(s.error, undefined, JSON.stringify(s.error));
    assert.equal(s.text, TEXT);
    assert.equal(s.finish, 'stop');
    assert.equal(s.doneCount, 1);
    assert.equal(s.usage?.prompt_tokens, USAGE.inputTokens);
    assert.equal(s.usage?.completion_tokens, USAGE.outputTokens);
    assert.equal(s.usage?.total_tokens, USAGE.inputTokens + USAGE.outputTokens);
    assertNoSidecarKeys(await lastUpstreamJson(), c.name);
  });

  test(`families: ${c.name} answers a non-streaming chat.completion with the text, finish and usage`, async () => {
    h.emu.script({ type: 'text', text: TEXT, usage: USAGE });
    const res = await chat(h, {
      model: c.model,
      messages,
      max_tokens: 300,
      stream_chunk_size: 3,
      guardrails: [],
      stream_options: { include_usage: true },
    });
    const body = (await res.json()) as Record<string, any>;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices[0].message.content, TEXT);
    assert.equal(body.choices[0].finish_reason, 'stop');
    assertNoSidecarKeys(await lastUpstreamJson(), c.name);
    if (body.usage !== undefined || !/mistral|deepseek/.test(c.name)) {
      assert.equal(body.usage?.prompt_tokens, USAGE.inputTokens);
      assert.equal(body.usage?.completion_tokens, USAGE.outputTokens);
    }
  });

  test(`families: ${c.name} honours stream_chunk_size 5 on multi-byte text (chunks ≤ 5 bytes unless one code point)`, async () => {
    h.emu.script({ type: 'text', text: TEXT });
    const res = await chat(h, { model: c.model, stream: true, messages, stream_chunk_size: 5 });
    const s = parseStream(await res.text());
    assert.equal(s.error, undefined, JSON.stringify(s.error));
    assert.equal(s.text, TEXT);
    for (const piece of s.content) {
      const bytes = Buffer.byteLength(piece, 'utf8');
      assert.ok(bytes <= 5 || [...piece].length === 1, `chunk ${JSON.stringify(piece)} is ${bytes} bytes`);
    }
  });

  test(`families: ${c.name} stops with finish_reason length when Bedrock says max_tokens`, async () => {
    h.emu.script({ type: 'text', text: 'cut sho', stopReason: 'max_tokens' });
    const s = parseStream(await (await chat(h, { model: c.model, stream: true, messages })).text());
    assert.equal(s.text, 'cut sho');
    assert.equal(s.finish, 'length');
  });

  if (c.tools) {
    test(`families: ${c.name} streams tool calls as index/id/name first, then arguments that parse to the model's JSON`, async () => {
      const inputs = [{ city: 'Paris', days: 2 }, { city: 'Zürich — ☃' }];
      h.emu.script({ type: 'tool_use', calls: inputs.map((input) => ({ name: 'get_weather', input })), usage: USAGE });
      const res = await chat(h, { model: c.model, stream: true, messages, tools: [TOOL], tool_choice: 'auto' });
      const s = parseStream(await res.text());
      assert.equal(s.error, undefined, JSON.stringify(s.error));
      const calls: Array<{ id: string; name: string; args: string }> = [];
      for (const chunk of s.chunks) {
        const delta = (chunk.choices as Array<Record<string, any>>)[0]?.delta;
        for (const tc of delta?.tool_calls ?? []) {
          if (calls[tc.index] === undefined) {
            assert.equal(calls.length, tc.index, 'indexes are dense and in order');
            assert.ok(tc.id, 'the first fragment carries the id');
            assert.equal(tc.type, 'function');
            assert.equal(tc.function.name, 'get_weather', 'the first fragment carries the name');
            calls[tc.index] = { id: tc.id, name: tc.function.name, args: tc.function.arguments ?? '' };
          } else {
            assert.equal(tc.id, undefined, 'later fragments carry arguments only');
            calls[tc.index]!.args += tc.function.arguments;
          }
        }
      }
      assert.deepEqual(
        calls.map((call) => JSON.parse(call.args)),
        inputs,
      );
      assert.equal(new Set(calls.map((call) => call.id)).size, calls.length, 'ids are distinct');
      assert.equal(s.finish, 'tool_calls');
    });

    test(`families: ${c.name} answers tool calls in a non-streaming chat.completion`, async () => {
      h.emu.script({ type: 'tool_use', calls: [{ name: 'get_weather', input: { city: 'Paris' } }] });
      const res = await chat(h, { model: c.model, messages, tools: [TOOL] });
      const body = (await res.json()) as Record<string, any>;
      assert.equal(res.status, 200, JSON.stringify(body));
      const call = body.choices[0].message.tool_calls[0];
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
      assert.equal(body.choices[0].finish_reason, 'tool_calls');
    });
  } else {
    test(`families: ${c.name} answers tools with a 400 unsupported_parameter naming them`, async () => {
      const before = h.emu.requests.length;
      const res = await chat(h, { model: c.model, messages, tools: [TOOL] });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { type: string; param: string } };
      assert.equal(body.error.type, 'unsupported_parameter');
      assert.equal(body.error.param, 'tools');
      assert.equal(h.emu.requests.length, before, 'nothing went upstream');
    });
  }

  if (c.reasoning) {
    test(`families: ${c.name} streams the model's reasoning as reasoning_content and the answer as content`, async () => {
      const reasoning = 'First, consider the clouds… then the wind.';
      h.emu.script({ type: 'text', text: TEXT, reasoning });
      const s = parseStream(await (await chat(h, { model: c.model, stream: true, messages })).text());
      assert.equal(s.error, undefined, JSON.stringify(s.error));
      let thought = '';
      for (const chunk of s.chunks) {
        const delta = (chunk.choices as Array<Record<string, any>>)[0]?.delta;
        if (typeof delta?.reasoning_content === 'string') thought += delta.reasoning_content;
      }
      assert.equal(thought.trim(), reasoning);
      assert.equal(s.text, TEXT);
    });
  }
}

test('families: parallel_tool_calls and tool_choice without tools configure no tools on any family', async () => {
  for (const c of CASES) {
    h.emu.script({ type: 'text', text: 'ok' });
    const res = await chat(h, { model: c.model, messages, tool_choice: 'auto', parallel_tool_calls: false });
    assert.equal(res.status, 200, `${c.name}: ${await res.clone().text()}`);
    const json = JSON.stringify(await lastUpstreamJson());
    for (const key of ['toolConfig', '"tools"', 'tool_choice', 'parallel_tool_calls', 'disable_parallel_tool_use']) {
      assert.ok(!json.includes(key), `${c.name}: ${key} went upstream`);
    }
  }
});

test('families: user and metadata never answer a 400, on any family or route', async () => {
  for (const c of CASES) {
    h.emu.script({ type: 'text', text: 'ok' });
    const res = await chat(h, { model: c.model, messages, user: 'user-42', metadata: { team: 'search' } });
    assert.equal(res.status, 200, `${c.name}: ${await res.clone().text()}`);
  }
});
