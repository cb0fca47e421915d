/**
 * Codex's remote compaction on the Responses surface (docs/contract.md#openai-responses), against the sidecar
 * and the emulator: a request ending with `{"type":"compaction_trigger"}` asks the alias's model for a
 * summary and is answered with exactly one `compaction` item (streamed and whole); that item sent back in
 * `input` reaches the model as the summary in place of the history; an item the sidecar did not write, or
 * a trigger that is not last, is a 400 naming it. The request shapes are Codex 0.171's (captured with
 * `openai_base_url` at a recording server: the trigger last, the compaction item with its id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness, type Harness } from '../helpers/harness.ts';
import { COMPACTION_INSTRUCTION } from '../../src/surfaces/openai-responses/compaction.ts';

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1' };
const BASE = { models: [CLAUDE, NOVA] };

const TOOLS = [
  {
    type: 'function',
    name: 'exec_command',
    description: 'Runs a command',
    parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] },
    strict: false,
  },
];

/** A Codex turn's history: its instructions, the user's task, a tool call and its output. */
const HISTORY = [
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are a coding agent.' }] },
  { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Find the build flag in Makefile.' }] },
  {
    type: 'function_call',
    id: 'fc_1',
    call_id: 'call_1',
    name: 'exec_command',
    arguments: '{"cmd":"grep FLAG Makefile"}',
    status: 'completed',
  },
  { type: 'function_call_output', call_id: 'call_1', output: 'FLAG=-O2' },
];

function post(h: Harness, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${h.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-codex-beta-features': 'remote_compaction_v2' },
    body: JSON.stringify(body),
  });
}

/** The Responses SSE events of a stream, in order. */
function events(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('event: '))
    .map((frame) => JSON.parse(frame.split('\n')[1]!.slice('data: '.length)) as Record<string, unknown>);
}

test('responses compaction: a compaction_trigger asks the model for a summary and streams exactly one compaction item', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({
      type: 'text',
      text: 'The user wants the build flag; grep showed FLAG=-O2.',
      deltas: ['The user wants', ' the build flag; grep showed FLAG=-O2.'],
    });
    const res = await post(h, {
      model: 'claude',
      stream: true,
      store: false,
      tools: TOOLS,
      tool_choice: 'auto',
      input: [...HISTORY, { type: 'compaction_trigger' }],
    });
    assert.equal(res.status, 200);
    const stream = events(await res.text());
    // What Bedrock was asked: the whole conversation, then our instruction; the tools declared, none to be called.
    const sent = h.emu.requests[0]!.json as {
      messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
      tools?: unknown[];
      tool_choice?: unknown;
    };
    const last = sent.messages.at(-1)!;
    assert.equal(last.role, 'user');
    assert.ok(last.content.some((b) => b.type === 'tool_result' && b.tool_use_id === 'call_1'));
    assert.deepEqual(last.content.at(-1), { type: 'text', text: COMPACTION_INSTRUCTION });
    assert.equal(sent.tools?.length, 1);
    assert.deepEqual(sent.tool_choice, { type: 'none' });
    // The answer: no text deltas, one compaction item added and done, the same item the only output.
    const types = stream.map((e) => e.type);
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = stream.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Record<string, unknown>);
    assert.equal(done.length, 1);
    assert.equal(done[0]!.type, 'compaction');
    assert.match(String(done[0]!.id), /^cmp_/);
    assert.match(String(done[0]!.encrypted_content), /^bscc1\./);
    const completed = stream.at(-1)!.response as { status: string; output: unknown[]; usage: unknown };
    assert.equal(completed.status, 'completed');
    assert.deepEqual(completed.output, done);
    assert.ok(completed.usage);
  }));

test('responses compaction: the whole answer is one item, not stored; sent back, it reaches the model as the summary in place of the history', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'text', text: 'Summary: the build flag is FLAG=-O2.' });
    const first = await post(h, { model: 'nova', tools: TOOLS, input: [...HISTORY, { type: 'compaction_trigger' }] });
    assert.equal(first.status, 200);
    const answer = (await first.json()) as { id: string; output: Array<Record<string, unknown>> };
    // Not kept even with store on: the item is the state, sent back in input.
    assert.equal((await fetch(`${h.url}/v1/responses/${answer.id}`)).status, 404);
    // Whole (not streamed): the same one item.
    assert.equal(answer.output.length, 1);
    const item = answer.output[0]!;
    assert.equal(item.type, 'compaction');
    // Converse: the history's tool blocks keep the tools declared, with no choice (Converse has no "none").
    const asked = h.emu.requests[0]!.json as { toolConfig?: { tools: unknown[]; toolChoice?: unknown } };
    assert.equal(asked.toolConfig?.tools.length, 1);
    assert.equal(asked.toolConfig?.toolChoice, undefined);

    h.emu.script({ type: 'text', text: 'It is -O2.' });
    const next = await post(h, {
      model: 'nova',
      store: false,
      tools: TOOLS,
      input: [HISTORY[0], HISTORY[1], item, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'So which flag?' }] }],
    });
    assert.equal(next.status, 200);
    const sent = h.emu.requests[1]!.json as { messages: Array<{ role: string; content: Array<{ text?: string }> }> };
    const texts = sent.messages.flatMap((m) => m.content.map((c) => c.text ?? ''));
    assert.ok(
      texts.some((t) => t.includes('Summary: the build flag is FLAG=-O2.')),
      JSON.stringify(sent.messages),
    );
    assert.ok(!JSON.stringify(sent.messages).includes('grep FLAG Makefile'), 'the replaced tool call is gone');
  }));

test('responses compaction: an encrypted_content the sidecar did not write is a 400 naming it', () =>
  withHarness(BASE, async (h) => {
    for (const encrypted_content of [
      'gAAAAABforeign',
      'bscc1.bm90LWpzb24',
      'bscc1.' + Buffer.from('{"v":2,"summary":"x"}').toString('base64url'),
    ]) {
      const res = await post(h, {
        model: 'claude',
        input: [HISTORY[1], { type: 'compaction', id: 'cmp_x', encrypted_content }, { role: 'user', content: 'go on' }],
      });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { param: string; message: string } };
      assert.equal(body.error.param, 'input[1].encrypted_content');
      assert.match(body.error.message, /not a compaction this sidecar wrote/);
    }
    assert.equal(h.emu.requests.length, 0);
  }));

test('responses compaction: a compaction_trigger that is not the last input item is a 400 naming it', () =>
  withHarness(BASE, async (h) => {
    const res = await post(h, { model: 'claude', input: [HISTORY[1], { type: 'compaction_trigger' }, { role: 'user', content: 'more' }] });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    assert.equal(body.error.param, 'input[1]');
    assert.match(body.error.message, /must be the last input item/);
  }));

test('responses compaction: an answer with no summary text fails instead of answering an empty compaction', () =>
  withHarness(BASE, async (h) => {
    h.emu.script({ type: 'tool_use', calls: [{ id: 'toolu_1', name: 'exec_command', input: { cmd: 'ls' } }] });
    const res = await post(h, { model: 'claude', stream: true, tools: TOOLS, input: [...HISTORY, { type: 'compaction_trigger' }] });
    const stream = events(await res.text());
    assert.deepEqual(
      stream.map((e) => e.type),
      ['response.created', 'response.in_progress', 'error', 'response.failed'],
    );
    assert.match(String(stream[2]!.message), /no summary/);
  }));
