/**
 * OpenAI's server-side compaction on the Responses surface (docs/contract.md#openai-responses):
 * `context_management: [{type: "compaction", compact_threshold}]`, which the Agents SDK sends from
 * `modelSettings.contextManagement` (and its sandbox agents' default compaction capability, on every request) and
 * the AI SDK from `providerOptions.openai.contextManagement`. The sidecar answers such a request as any other
 * (the entry dropped and logged, never sent to Bedrock); a `context_management` that is not a list of compaction
 * entries is a 400 naming what is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, OpenAIProvider, Runner, setTracingDisabled } from '@openai/agents';
import { withHarness, type Harness } from '../helpers/harness.ts';

setTracingDisabled(true);

const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };
const NOVA = { name: 'nova', model: 'bedrock/converse/us.amazon.nova-micro-v1:0', region: 'us-east-1' };
const CONFIG = { models: [CLAUDE, NOVA] };

const dropped = (h: Harness): boolean => h.logs.some((l) => String(l.msg).startsWith('"context_management" dropped'));

function post(h: Harness, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${h.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test("Agents SDK: modelSettings.contextManagement (what a sandbox agent's compaction sends) is answered, not refused", () =>
  withHarness(CONFIG, async (h) => {
    const runner = new Runner({ modelProvider: new OpenAIProvider({ apiKey: 'unused', baseURL: `${h.url}/v1`, useResponses: true }) });
    h.emu.script({ type: 'text', text: 'Hello from Bedrock' });
    const agent = new Agent({
      name: 'long-runner',
      instructions: 'Greet.',
      model: 'claude',
      modelSettings: { contextManagement: [{ type: 'compaction', compactThreshold: 180_000 }] },
    });
    const result = await runner.run(agent, 'Hello');
    assert.equal(result.finalOutput, 'Hello from Bedrock');
    const sent = h.emu.requests.at(-1)!.body.toString();
    assert.ok(!sent.includes('context_management') && !sent.includes('compact'), sent);
    assert.ok(dropped(h), 'the dropped entry is logged');
  }));

test('AI SDK: providerOptions.openai.contextManagement on the Converse route', () =>
  withHarness(CONFIG, async (h) => {
    const openai = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused' });
    h.emu.script({ type: 'text', text: 'Short answer' });
    const result = await generateText({
      model: openai('nova'),
      prompt: 'Say something short',
      maxRetries: 0,
      providerOptions: { openai: { contextManagement: [{ type: 'compaction', compactThreshold: 120_000 }] } },
    });
    assert.equal(result.text, 'Short answer');
    assert.ok(!h.emu.requests.at(-1)!.body.toString().includes('context_management'));
    assert.ok(dropped(h));
  }));

test('a context_management that is not a list of compaction entries is a 400 naming what is wrong', () =>
  withHarness(CONFIG, async (h) => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'compaction' }, 'context_management'],
      [[{ type: 'truncation' }], 'context_management[0].type'],
      [['compaction'], 'context_management[0].type'],
      [[{ type: 'compaction', compact_threshold: -5 }], 'context_management[0].compact_threshold'],
      [[{ type: 'compaction' }, { type: 'compaction', compact_threshold: '200k' }], 'context_management[1].compact_threshold'],
    ];
    for (const [value, param] of cases) {
      const res = await post(h, { model: 'nova', input: 'hi', context_management: value });
      assert.equal(res.status, 400, JSON.stringify(value));
      const body = (await res.json()) as { error: { type: string; param: string; message: string } };
      assert.equal(body.error.type, 'invalid_request_error');
      assert.equal(body.error.param, param);
      assert.match(body.error.message, /compaction|compact_threshold/);
    }
    assert.equal(h.emu.requests.length, 0, 'nothing reached Bedrock');

    // A compaction entry with no threshold, or a null one, is OpenAI's default threshold: answered.
    h.emu.script({ type: 'text', text: 'ok' });
    const res = await post(h, { model: 'nova', input: 'hi', context_management: [{ type: 'compaction', compact_threshold: null }] });
    assert.equal(res.status, 200);
  }));
