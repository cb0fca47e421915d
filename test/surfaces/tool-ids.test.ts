// Tool-call ids a model refuses in its history (docs/contract.md#request-rules): a conversation carries the ids of
// the model that made each call — OpenAI's `call_…`, Claude's `toolu_…`, Kimi's `functions.Bash:0`, Codex's
// `call_…|fc_…`, Gemini's long ids — and moves between models (a fallback, a client's model switch). Mistral takes
// only 9 alphanumerics, Converse 64 of [a-zA-Z0-9_-], Claude's body ^[a-zA-Z0-9_-]+$. The sidecar sends an alias
// in the call and its result alike, the same on every request; each test shows the emulator (which holds Bedrock's
// refusals: src/emulator/tool-use-ids.ts) refusing the body with the client's own ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { CLAUDE_INVOKE, startHarness, type Harness } from '../helpers/harness.ts';
import { post } from '../emulator/helpers.ts';

const MODELS = [
  { name: 'mistral-converse', model: 'bedrock/converse/mistral.mistral-large-2407-v1:0', region: 'us-east-1' },
  { name: 'mistral-invoke', model: 'bedrock/invoke/mistral.mistral-large-2407-v1:0', region: 'us-east-1' },
  { name: 'claude-converse', model: 'bedrock/converse/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' },
  CLAUDE_INVOKE,
];
const KIMI = 'functions.Bash:0';
const CODEX = 'call_65OReGAIB0M4612fiyF6YMbI|fc_0feebbbc39e113d4016969ff3539208191914ede46e71d5d06';
const GEMINI = `d556q31u_ts_${'AY89a18eH3FucoBHPCdX6w7jgI'.repeat(3)}`;
const tools = [{ type: 'function' as const, function: { name: 'Bash', parameters: { type: 'object', properties: {} } } }];

/** A Chat conversation that called a tool once per id, each answered, then asks again. */
function chatHistory(ids: readonly string[]): OpenAI.ChatCompletionMessageParam[] {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'List the files, then count them.' }];
  for (const id of ids) {
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [{ id, type: 'function', function: { name: 'Bash', arguments: '{}' } }],
    });
    messages.push({ role: 'tool', tool_call_id: id, content: 'a.txt b.txt' });
  }
  return messages;
}

type Json = Record<string, unknown>;
const sentBody = (h: Harness): Json => JSON.parse(h.emu.requests.at(-1)!.body.toString('utf8')) as Json;

/** The ids of the last body sent: each call's, then its result's, in order (Converse, Claude and Mistral chat bodies). */
function sentIds(h: Harness): { calls: string[]; results: string[] } {
  const calls: string[] = [];
  const results: string[] = [];
  for (const m of sentBody(h).messages as Json[]) {
    for (const call of (m.tool_calls as Json[] | undefined) ?? []) calls.push(call.id as string);
    if (typeof m.tool_call_id === 'string') results.push(m.tool_call_id);
    for (const b of Array.isArray(m.content) ? (m.content as Json[]) : []) {
      const toolUse = b.toolUse as Json | undefined;
      const toolResult = b.toolResult as Json | undefined;
      if (toolUse) calls.push(toolUse.toolUseId as string);
      if (toolResult) results.push(toolResult.toolUseId as string);
      if (b.type === 'tool_use') calls.push(b.id as string);
      if (b.type === 'tool_result') results.push(b.tool_use_id as string);
    }
  }
  return { calls, results };
}

/** The emulator's answer to the last body sent with the client's own ids put back (each alias → its id). */
async function refusalOfOwnIds(h: Harness, own: readonly string[], sent: readonly string[]): Promise<string> {
  const last = h.emu.requests.at(-1)!;
  let body = last.body.toString('utf8');
  sent.forEach((alias, i) => {
    body = body.split(JSON.stringify(alias)).join(JSON.stringify(own[i]));
  });
  const res = await post(h.emu.url, last.rawPath, body);
  assert.equal(res.status, 400, res.body.toString());
  return (JSON.parse(res.body.toString()) as { message: string }).message;
}

test('tool ids: Chat history with OpenAI, Claude and short ids to Mistral (converse and invoke) — 9 alphanumerics sent, the same each turn', async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const own = ['call_7f5e3ae8d960b5a082811c96', 'toolu_01A09q90qw90lq917835lq9', 'a', 'aB3dE6gH9'];
  try {
    for (const model of ['mistral-converse', 'mistral-invoke']) {
      h.emu.script({ type: 'text', text: 'Two files.' });
      const answer = await client.chat.completions.create({ model, tools, messages: chatHistory(own) });
      assert.equal(answer.choices[0]!.message.content, 'Two files.', model);
      const { calls, results } = sentIds(h);
      assert.deepEqual(results, calls, `${model}: each result names its call`);
      for (const id of calls) assert.match(id, /^[a-zA-Z0-9]{9}$/, model);
      assert.equal(new Set(calls).size, own.length, `${model}: different ids, different aliases`);
      assert.equal(calls[3], 'aB3dE6gH9', `${model}: a valid id goes as it is`);
      assert.ok(
        h.logs.some((l) => l.model === model && String(l.msg).includes(`tool-call ids`) && String(l.msg).includes(`a → ${calls[2]}`)),
        model,
      );
      assert.equal(
        await refusalOfOwnIds(h, own, calls),
        `The model returned the following errors: Tool call id was ${own[0]} but must be a-z, A-Z, 0-9, with a length of 9.`,
        model,
      );

      // The next turn (one more call, the model's answer handed back) sends the earlier ids the same way.
      h.emu.script({ type: 'text', text: 'Done.' });
      await client.chat.completions.create({ model, tools, messages: chatHistory([...own, 'call_2']) });
      assert.deepEqual(sentIds(h).calls.slice(0, own.length), calls, model);
    }
  } finally {
    await h.close();
  }
});

test("tool ids: Chat history with Codex's and Gemini's ids to Claude on converse, Kimi's to Claude on invoke — folded, hash-suffixed", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  try {
    const cases = [
      { model: 'claude-converse', own: [CODEX, GEMINI, 'toolu_01A09q90qw90lq917835lq9'] },
      { model: 'claude-invoke', own: [KIMI, 'toolu_01A09q90qw90lq917835lq9'] },
    ];
    for (const { model, own } of cases) {
      h.emu.script({ type: 'text', text: 'Two files.' });
      await client.chat.completions.create({ model, tools, messages: chatHistory(own) });
      const { calls, results } = sentIds(h);
      assert.deepEqual(results, calls, model);
      for (const id of calls) assert.match(id, /^[a-zA-Z0-9_-]{1,64}$/, model);
      assert.equal(calls.at(-1), 'toolu_01A09q90qw90lq917835lq9', `${model}: Claude's own id goes as it is`);
      const message = await refusalOfOwnIds(h, own, calls);
      if (model === 'claude-invoke') {
        assert.match(calls[0]!, /^functions_Bash_0_[0-9a-f]{8}$/);
        assert.equal(message, "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'");
      } else {
        assert.match(calls[0]!, /^call_65OReGAIB0M4612fiyF6YMbI_fc_[0-9a-f]+_[0-9a-f]{8}$/);
        assert.match(message, /Member must satisfy regular expression pattern/);
      }
    }
  } finally {
    await h.close();
  }
});

test("tool ids: Claude Code's own Messages body carrying Kimi's ids (after a model switch) goes to Claude with them replaced, thinking untouched", async () => {
  const h = await startHarness({ models: MODELS });
  const client = new Anthropic({ baseURL: h.url, apiKey: 'unused', maxRetries: 0 });
  const thinking = { type: 'thinking' as const, thinking: 'List first.', signature: 'c2lnbmVkLWJ5LWNsYXVkZQ==' };
  const messages: Anthropic.MessageParam[] = [
    { role: 'user', content: 'List the files, then count them.' },
    { role: 'assistant', content: [{ type: 'tool_use', id: KIMI, name: 'Bash', input: { command: 'ls' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: KIMI, content: 'a.txt b.txt' }] },
    { role: 'assistant', content: [thinking, { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'Bash', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: 'done' }] },
  ];
  let first: string | undefined;
  try {
    for (const round of [1, 2]) {
      h.emu.script({ type: 'text', text: 'Two files.' });
      const answer = await client.messages.create({
        model: 'claude-invoke',
        max_tokens: 100,
        tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
        messages,
      });
      assert.deepEqual(answer.content, [{ type: 'text', text: 'Two files.' }]);
      const { calls, results } = sentIds(h);
      assert.deepEqual(results, calls);
      assert.match(calls[0]!, /^functions_Bash_0_[0-9a-f]{8}$/, `round ${round}`);
      first ??= calls[0];
      assert.equal(calls[0], first, 'the same alias on every request');
      assert.equal(calls[1], 'toolu_01A09q90qw90lq917835lq9');
      const sent = sentBody(h).messages as Array<{ content: Json[] }>;
      assert.deepEqual(sent[3]!.content[0], thinking, 'the signed thinking goes byte for byte');
      const replaced = h.logs.filter((l) => String(l.msg).includes('tool-call ids'));
      assert.equal(replaced.length, round, 'one debug line per request');
      assert.ok(String(replaced.at(-1)!.msg).includes(`${KIMI} → ${calls[0]}`), String(replaced.at(-1)!.msg));
      assert.equal(
        await refusalOfOwnIds(h, [KIMI], [calls[0]!]),
        "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
      );
    }
  } finally {
    await h.close();
  }
});
