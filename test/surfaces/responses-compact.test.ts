/**
 * `POST /v1/responses/compact` (docs/contract.md#openai-responses) through the real clients that call it: the
 * `openai` SDK's `client.responses.compact()` and the OpenAI Agents SDK's `OpenAIResponsesCompactionSession`.
 * The summary request reaches Bedrock with the sidecar's instruction; the answer is a compacted response (the
 * user messages in order, then one compaction item, and the usage); that output sent back as input reaches
 * the model as the user messages and the summary, not the replaced history; a bad body is a 400 naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Agent, MemorySession, OpenAIProvider, OpenAIResponsesCompactionSession, Runner, setTracingDisabled } from '@openai/agents';
import { withHarness, type Harness } from '../helpers/harness.ts';
import { COMPACTION_INSTRUCTION } from '../../src/surfaces/openai-responses/compaction.ts';

setTracingDisabled(true);

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1' };
/** The Agents SDK compacts only for a model named like OpenAI's: an alias so named. */
const GPT = { name: 'gpt-5.5', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const BASE = { models: [CLAUDE, NOVA, GPT] };

function client(h: Harness): OpenAI {
  return new OpenAI({ apiKey: 'unused', baseURL: `${h.url}/v1`, maxRetries: 0 });
}

/** A conversation: two user messages around a tool call and its output, and the assistant's answer. */
const HISTORY: OpenAI.Responses.ResponseInputItem[] = [
  { role: 'user', content: 'Find the build flag in Makefile.' },
  { type: 'function_call', call_id: 'call_1', name: 'exec_command', arguments: '{"cmd":"grep FLAG Makefile"}' },
  { type: 'function_call_output', call_id: 'call_1', output: 'FLAG=-O2' },
  { role: 'assistant', content: 'It is -O2.' },
  { role: 'user', content: [{ type: 'input_text', text: 'Now make it -O3.' }] },
];

type Sent = { system?: unknown; messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };

test('responses compact: the openai SDK compacts input; Bedrock gets the conversation and the instruction; the answer is the user messages then one compaction item', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'text', text: 'Goal: set FLAG in Makefile. Found FLAG=-O2; user wants -O3.' });
    const compacted = await client(h).responses.compact({ model: 'claude', instructions: 'You are a coding agent.', input: HISTORY });

    const sent = h.emu.requests[0]!.json as Sent;
    assert.deepEqual(sent.messages.at(-1)!.content.at(-1), { type: 'text', text: COMPACTION_INSTRUCTION });
    assert.ok(JSON.stringify(sent.messages).includes('grep FLAG Makefile'), 'the whole history is summarised');
    assert.match(JSON.stringify(sent.system), /You are a coding agent\./);
    // The history's tool is declared (compact takes no tools), none to be called.
    const asked = h.emu.requests[0]!.json as { tools?: Array<{ name: string }>; tool_choice?: unknown };
    assert.deepEqual(
      asked.tools?.map((t) => t.name),
      ['exec_command'],
    );
    assert.deepEqual(asked.tool_choice, { type: 'none' });

    assert.equal(compacted.object, 'response.compaction');
    assert.match(compacted.id, /^resp_/);
    assert.equal(typeof compacted.created_at, 'number');
    const output = compacted.output as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      output.map((item) => [item.type, item.role]),
      [
        ['message', 'user'],
        ['message', 'user'],
        ['compaction', undefined],
      ],
    );
    assert.deepEqual(output[0]!.content, [{ type: 'input_text', text: 'Find the build flag in Makefile.' }]);
    assert.deepEqual(output[1]!.content, [{ type: 'input_text', text: 'Now make it -O3.' }]);
    assert.match(String(output[0]!.id), /^msg_/);
    assert.match(String(output[2]!.id), /^cmp_/);
    assert.match(String(output[2]!.encrypted_content), /^bscc1\./);
    assert.ok(compacted.usage.input_tokens > 0 && compacted.usage.output_tokens > 0);
    assert.equal(compacted.usage.total_tokens, compacted.usage.input_tokens + compacted.usage.output_tokens);
    // Not a stored response.
    assert.equal((await fetch(`${h.url}/v1/responses/${compacted.id}`)).status, 404);

    // The output as the next input: the user messages and the summary reach the model, the tool call does not.
    h.emu.script({ type: 'text', text: 'Done.' });
    const next = await client(h).responses.create({
      model: 'claude',
      store: false,
      input: [...(compacted.output as unknown as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'Go on.' }],
    });
    assert.equal(next.output_text, 'Done.');
    const after = JSON.stringify((h.emu.requests[1]!.json as Sent).messages);
    assert.ok(after.includes('Goal: set FLAG in Makefile.'), after);
    assert.ok(after.includes('Now make it -O3.'), after);
    assert.ok(!after.includes('grep FLAG Makefile'), 'the replaced tool call is gone');
  }));

test('responses compact: previous_response_id compacts the stored conversation; an earlier summary is not kept as a user message', () =>
  withHarness(BASE, async (h) => {
    const openai = client(h);
    h.emu.script({ type: 'text', text: 'Paris.' });
    const first = await openai.responses.create({ model: 'nova', input: 'Capital of France?' });
    h.emu.script({ type: 'text', text: 'The user asked for the capital of France: Paris.' });
    const compacted = await openai.responses.compact({ model: 'nova', previous_response_id: first.id });
    const sent = JSON.stringify((h.emu.requests[1]!.json as Sent).messages);
    assert.ok(sent.includes('Capital of France?') && sent.includes('Paris.') && sent.includes(COMPACTION_INSTRUCTION), sent);
    const output = compacted.output as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      output.map((item) => item.type),
      ['message', 'compaction'],
    );
    assert.deepEqual(output[0]!.content, [{ type: 'input_text', text: 'Capital of France?' }]);

    // Compacting again over the compacted output: the earlier compaction item is summarised, not echoed.
    h.emu.script({ type: 'text', text: 'Second summary.' });
    const again = await openai.responses.compact({
      model: 'nova',
      input: [...(compacted.output as unknown as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'And Spain?' }],
    });
    const items = again.output as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      items.map((item) => (item.type === 'message' ? (item.content as Array<{ text: string }>)[0]!.text : item.type)),
      ['Capital of France?', 'And Spain?', 'compaction'],
    );
  }));

test('responses compact: a body without a conversation, an unknown previous_response_id, a parameter compact does not take are refused by name', () =>
  withHarness(BASE, async (h) => {
    const post = async (body: Record<string, unknown>): Promise<{ status: number; error: { param?: string; message: string } }> => {
      const res = await fetch(`${h.url}/v1/responses/compact`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, error: ((await res.json()) as { error: { param?: string; message: string } }).error };
    };
    const none = await post({ model: 'claude' });
    assert.equal(none.status, 400);
    assert.equal(none.error.param, 'input');
    assert.match(none.error.message, /"input" or "previous_response_id" is required/);

    const missing = await post({ model: 'claude', previous_response_id: 'resp_gone' });
    assert.equal(missing.status, 404);
    assert.equal(missing.error.param, 'previous_response_id');

    const extra = await post({ model: 'claude', input: 'hi', temperature: 0.2 });
    assert.equal(extra.status, 400);
    assert.equal(extra.error.param, 'temperature');

    const bare = await fetch(`${h.url}/responses/compact`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"claude"}',
    });
    assert.equal(bare.status, 400, 'served without /v1 too, as /responses is');

    const noModel = await post({ input: 'hi' });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.error.param, 'model');
    assert.equal(h.emu.requests.length, 0);
  }));

test('responses compact: a model answer with no summary text is a 502, never an empty compaction', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_1', name: 'exec_command', input: { cmd: 'ls' } }] });
    const res = await fetch(`${h.url}/v1/responses/compact`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', input: HISTORY }),
    });
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.match(body.error.message, /no summary/);
  }));

for (const mode of ['previous_response_id', 'input'] as const) {
  test(`responses compact: the Agents SDK OpenAIResponsesCompactionSession compacts by ${mode} through the sidecar, and the next run reads the summary`, () =>
    withHarness(BASE, async (h) => {
      // What the session sends to the compact endpoint, as it went on the wire.
      const compactBodies: Array<Record<string, unknown>> = [];
      const openai = new OpenAI({
        apiKey: 'unused',
        baseURL: `${h.url}/v1`,
        maxRetries: 0,
        fetch: async (url: string | URL | Request, init?: RequestInit) => {
          const path = url instanceof Request ? url.url : url.toString();
          if (path.endsWith('/responses/compact') && typeof init?.body === 'string')
            compactBodies.push(JSON.parse(init.body) as Record<string, unknown>);
          return fetch(url, init);
        },
      });
      const runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: openai, useResponses: true }) });
      const session = new OpenAIResponsesCompactionSession({
        client: openai,
        model: 'gpt-5.5',
        compactionMode: mode,
        underlyingSession: new MemorySession(),
      });
      const agent = new Agent({ name: 'helper', instructions: 'Help.', model: 'gpt-5.5' });

      h.emu.script({ type: 'text', text: 'Noted: the code word is heron.' });
      await runner.run(agent, 'Remember the code word heron.', { session });
      h.emu.script({ type: 'text', text: 'The user set the code word: heron.' });
      await session.runCompaction({ force: true });
      assert.equal(compactBodies.length, 1);
      if (mode === 'input') assert.ok(Array.isArray(compactBodies[0]!.input));
      else assert.match(String(compactBodies[0]!.previous_response_id), /^resp_/);
      const compactCall = h.emu.requests.at(-1)!.json as Sent;
      assert.deepEqual(compactCall.messages.at(-1)!.content.at(-1), { type: 'text', text: COMPACTION_INSTRUCTION });
      assert.ok(JSON.stringify(compactCall.messages).includes('Noted: the code word is heron.'));

      const items = (await session.getItems()) as Array<{ type: string; role?: string }>;
      assert.deepEqual(
        items.map((item) => [item.type, item.role]),
        [
          ['message', 'user'],
          ['compaction', undefined],
        ],
      );

      h.emu.script({ type: 'text', text: 'heron' });
      const next = await runner.run(agent, 'What is the code word?', { session });
      assert.equal(next.finalOutput, 'heron');
      const last = JSON.stringify((h.emu.requests.at(-1)!.json as Sent).messages);
      assert.ok(last.includes('The user set the code word: heron.'), last);
      assert.ok(!last.includes('Noted: the code word is heron.'), 'the replaced answer is gone');
    }));
}
