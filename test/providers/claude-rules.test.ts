/**
 * Claude's reasoning rules per model generation (src/providers/claude-rules.ts): the table itself, the
 * golden bodies `reasoning_effort` builds per generation and route, the refusals, and the Messages-side
 * `adaptClaudeThinking`. Golden bodies live in test/fixtures/providers/rules/ (UPDATE_GOLDENS=1 rewrites).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Route } from '../../src/config/schema.ts';
import { SidecarError } from '../../src/errors.ts';
import { adapterFor, applyParamPolicy } from '../../src/providers/index.ts';
import { adaptClaudeThinking, claudeReasoning, claudeRule, continuesUnsignedToolTurn } from '../../src/providers/claude-rules.ts';
import { readChatRequest } from '../../src/surfaces/chat-request.ts';
import { expectJsonGolden } from '../helpers/golden.ts';
import { targetFor } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/providers/rules');

function build(
  route: Route,
  modelId: string,
  extra: Record<string, unknown>,
  dropParams = false,
): { body: Record<string, unknown>; notes: string[] } {
  const target = targetFor({ route, modelId });
  const adapter = adapterFor(route, target.family);
  assert.ok(adapter);
  const { request, unknown } = readChatRequest({
    model: `bedrock/${route}/${modelId}`,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Why is the sky blue?' },
    ],
    max_tokens: 2048,
    ...extra,
  });
  const notes: string[] = [];
  const note = (m: string): void => {
    notes.push(m);
  };
  const prepared = applyParamPolicy(request, unknown, adapter, dropParams, modelId, note);
  return { body: adapter.buildBody(prepared, { target, note, dropParams }), notes };
}

function golden(name: string, body: unknown): void {
  expectJsonGolden(join(FIXTURES, `${name}.json`), body);
}

const GOLDEN: Array<[string, Route, string, Record<string, unknown>]> = [
  ['claude-3-7-invoke-budget', 'invoke', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', { reasoning_effort: 'low' }],
  ['claude-4-5-converse-budget', 'converse', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', { reasoning_effort: 'high' }],
  ['claude-4-5-invoke-minimal', 'invoke', 'anthropic.claude-haiku-4-5-20251001-v1:0', { reasoning_effort: 'minimal' }],
  ['claude-opus-4-6-invoke-adaptive', 'invoke', 'us.anthropic.claude-opus-4-6-v1', { reasoning_effort: 'medium' }],
  ['claude-opus-4-6-converse-xhigh', 'converse', 'us.anthropic.claude-opus-4-6-v1', { reasoning_effort: 'xhigh' }],
  ['claude-sonnet-4-6-converse-adaptive', 'converse', 'global.anthropic.claude-sonnet-4-6', { reasoning_effort: 'high' }],
  ['claude-opus-4-7-invoke-adaptive', 'invoke', 'anthropic.claude-opus-4-7', { reasoning_effort: 'high' }],
  ['claude-opus-4-7-converse-none', 'converse', 'us.anthropic.claude-opus-4-7', { reasoning_effort: 'none' }],
  ['claude-opus-4-8-converse-minimal', 'converse', 'global.anthropic.claude-opus-4-8', { reasoning_effort: 'minimal' }],
  ['claude-opus-5-invoke-xhigh', 'invoke', 'anthropic.claude-opus-5', { reasoning_effort: 'xhigh' }],
  ['claude-sonnet-5-converse-low', 'converse', 'us.anthropic.claude-sonnet-5', { reasoning_effort: 'low' }],
  ['claude-fable-5-invoke-medium', 'invoke', 'anthropic.claude-fable-5', { reasoning_effort: 'medium' }],
  ['claude-future-invoke-high', 'invoke', 'anthropic.claude-opus-6-1', { reasoning_effort: 'high' }],
  [
    'claude-arn-profile-converse',
    'converse',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-7',
    { reasoning_effort: 'low' },
  ],
];

for (const [name, route, modelId, extra] of GOLDEN) {
  test(`claude rules golden body: ${name} (${modelId}, ${route}, ${JSON.stringify(extra)})`, () => {
    const stream = build(route, modelId, { ...extra, stream: true }).body;
    assert.deepEqual(build(route, modelId, extra).body, stream, 'stream and non-stream build one body');
    golden(name, stream);
  });
}

test('claude rules: the table per generation, suffix-less ids and ids the table does not know', () => {
  assert.equal(claudeRule('anthropic.claude-3-5-sonnet-20240620-v1:0').thinking, 'none');
  assert.equal(claudeRule('us.anthropic.claude-3-7-sonnet-20250219-v1:0').thinking, 'budget');
  assert.equal(claudeRule('anthropic.claude-sonnet-4-20250514-v1:0').thinking, 'budget');
  assert.equal(claudeRule('anthropic.claude-opus-4-1-20250805-v1:0').thinking, 'budget');
  assert.equal(claudeRule('anthropic.claude-opus-4-5-20251101-v1:0').thinking, 'budget');
  assert.equal(claudeRule('anthropic.claude-opus-4-6-v1').thinking, 'adaptive');
  assert.equal(claudeRule('global.anthropic.claude-sonnet-4-6').thinking, 'adaptive');
  for (const id of [
    'anthropic.claude-opus-4-7',
    'anthropic.claude-opus-4-8-20260601-v1:0',
    'eu.anthropic.claude-sonnet-5',
    'anthropic.claude-opus-5',
    'anthropic.claude-fable-5',
    'anthropic.claude-mythos-5-1',
    'anthropic.claude-nova-9',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-7',
  ]) {
    assert.equal(claudeRule(id).thinking, 'adaptive-only', id);
    assert.equal(claudeRule(id).hidesThinking, true, id);
  }
  assert.equal(claudeRule('anthropic.claude-fable-5').canTurnOff, false);
  assert.equal(claudeRule('anthropic.claude-opus-4-7').canTurnOff, true);
  assert.equal(claudeRule('anthropic.claude-opus-4-6-v1').hidesThinking, false);
  // A forced tool while thinking: refused up to Opus 4.7, taken from Opus 4.8 on (and by a Claude the table does not know).
  for (const id of [
    'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
    'anthropic.claude-haiku-4-5-20251001-v1:0',
    'global.anthropic.claude-sonnet-4-6',
    'anthropic.claude-opus-4-7',
  ])
    assert.equal(claudeRule(id).forcedToolWithThinking, false, id);
  for (const id of ['anthropic.claude-opus-4-8', 'eu.anthropic.claude-sonnet-5', 'anthropic.claude-fable-5', 'anthropic.claude-nova-9'])
    assert.equal(claudeRule(id).forcedToolWithThinking, true, id);
  // A forced tool at all: not on Fable 5.1 / Mythos 5.1. Structured outputs: up to Opus 4.6 only.
  for (const id of ['global.anthropic.claude-fable-5-1', 'anthropic.claude-mythos-5-1']) assert.equal(claudeRule(id).forcedTool, false, id);
  assert.equal(claudeRule('anthropic.claude-fable-5').forcedTool, true);
  for (const id of ['anthropic.claude-opus-4-5-20251101-v1:0', 'anthropic.claude-opus-4-6-v1', 'global.anthropic.claude-sonnet-4-6'])
    assert.equal(claudeRule(id).structuredOutputs, true, id);
  for (const id of [
    'anthropic.claude-opus-4-7',
    'anthropic.claude-opus-4-8',
    'eu.anthropic.claude-sonnet-5',
    'anthropic.claude-fable-5',
    'anthropic.claude-nova-9',
  ])
    assert.equal(claudeRule(id).structuredOutputs, false, id);
});

test('claude rules: claudeReasoning answers the native fields or why not', () => {
  assert.deepEqual(claudeReasoning('anthropic.claude-opus-4-7', 'high'), {
    ok: true,
    fields: { thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'high' } },
    thinking: true,
  });
  assert.deepEqual(claudeReasoning('anthropic.claude-opus-4-7', 'none'), { ok: true, fields: {}, thinking: false });
  // Opus 5 and Sonnet 5 think when `thinking` is left out: off is `disabled`. Opus 5.5 always thinks.
  for (const id of ['anthropic.claude-sonnet-5', 'global.anthropic.claude-opus-5', 'anthropic.claude-opus-5-20260721-v1:0'])
    assert.deepEqual(claudeReasoning(id, 'none'), { ok: true, fields: { thinking: { type: 'disabled' } }, thinking: false }, id);
  const opus55 = claudeReasoning('us.anthropic.claude-opus-5-5', 'none');
  assert.ok(!opus55.ok && /always thinks/.test(opus55.why));
  assert.equal(claudeRule('us.anthropic.claude-opus-5-5').forcedTool, false);
  // Sonnet 5.5's least thinking is between tools; it takes no forced tool either.
  assert.deepEqual(claudeReasoning('global.anthropic.claude-sonnet-5-5', 'none'), {
    ok: true,
    fields: { thinking: { type: 'between_tools' } },
    thinking: false,
  });
  assert.equal(claudeRule('anthropic.claude-sonnet-5-5').forcedTool, false);
  assert.equal(claudeRule('anthropic.claude-haiku-5-5').thinkingOff, 'disabled');
  assert.deepEqual(claudeReasoning('anthropic.claude-sonnet-4-20250514-v1:0', 'medium'), {
    ok: true,
    fields: { thinking: { type: 'enabled', budget_tokens: 8192 } },
    budgetTokens: 8192,
    thinking: true,
  });
  const fable = claudeReasoning('anthropic.claude-fable-5', 'none');
  assert.equal(fable.ok, false);
  const sonnet = claudeReasoning('global.anthropic.claude-sonnet-4-6', 'xhigh');
  assert.equal(sonnet.ok, false);
  assert.equal(claudeReasoning('anthropic.claude-3-haiku-20240307-v1:0', 'low').ok, false);
});

function refusal(route: Route, modelId: string, extra: Record<string, unknown>): SidecarError {
  try {
    build(route, modelId, extra);
  } catch (err) {
    assert.ok(err instanceof SidecarError);
    return err;
  }
  assert.fail('expected a 400');
}

test('claude rules: what a model cannot take is a 400 naming reasoning_effort, or dropped with drop_params', () => {
  for (const route of ['invoke', 'converse'] as const) {
    const fable = refusal(route, 'anthropic.claude-fable-5', { reasoning_effort: 'none' });
    assert.equal(fable.type, 'unsupported_parameter');
    assert.equal(fable.param, 'reasoning_effort');
    assert.match(fable.message, /always thinks/);
    assert.match(refusal(route, 'global.anthropic.claude-sonnet-4-6', { reasoning_effort: 'xhigh' }).message, /"xhigh" is not supported/);
    assert.match(refusal(route, 'anthropic.claude-3-5-sonnet-20240620-v1:0', { reasoning_effort: 'low' }).message, /no extended thinking/);
    const dropped = build(route, 'anthropic.claude-fable-5', { reasoning_effort: 'none' }, true);
    assert.ok(!JSON.stringify(dropped.body).includes('thinking'));
    assert.ok(
      dropped.notes.some((n) => n.includes('reasoning_effort')),
      'the drop is logged',
    );
  }
});

test('claude rules: a thinking turn refuses temperature / top_k / low top_p / forced tools on adaptive models too', () => {
  for (const route of ['invoke', 'converse'] as const) {
    const t = refusal(route, 'anthropic.claude-opus-4-7', { reasoning_effort: 'low', temperature: 0.3 });
    assert.equal(t.param, 'temperature');
    assert.equal(refusal(route, 'anthropic.claude-opus-4-7', { reasoning_effort: 'low', top_p: 0.5 }).param, 'top_p');
    // none: no thinking, so sampling goes as asked where the model takes it (Opus 4.6; Opus 4.7 takes none at all)
    const body = JSON.stringify(build(route, 'anthropic.claude-opus-4-6-v1', { reasoning_effort: 'none', temperature: 0.3 }).body);
    assert.ok(body.includes('0.3'));
    assert.equal(refusal(route, 'anthropic.claude-opus-4-7', { reasoning_effort: 'none', temperature: 0.3 }).param, 'temperature');
  }
});

test('claude rules: Messages-side adaptClaudeThinking rewrites a shape the model does not take and keeps one it does', () => {
  const opus47 = adaptClaudeThinking('anthropic.claude-opus-4-7', { type: 'enabled', budget_tokens: 4000 }, undefined);
  assert.deepEqual(opus47.thinking, { type: 'adaptive', display: 'summarized' });
  assert.deepEqual(opus47.output_config, { effort: 'medium' });
  assert.equal(opus47.notes.length, 1);
  const kept = adaptClaudeThinking('anthropic.claude-opus-4-6-v1', { type: 'adaptive' }, { effort: 'max' });
  assert.deepEqual(kept, { thinking: { type: 'adaptive' }, output_config: { effort: 'max' }, notes: [] });
  const old = adaptClaudeThinking('anthropic.claude-sonnet-4-5-20250929-v1:0', { type: 'adaptive' }, { effort: 'low' });
  assert.deepEqual(old.thinking, { type: 'enabled', budget_tokens: 2048 });
  assert.equal(old.output_config, undefined);
  const fable = adaptClaudeThinking('anthropic.claude-fable-5', { type: 'disabled' }, undefined);
  assert.equal(fable.thinking, undefined);
  assert.equal(fable.notes.length, 1);
  const display = adaptClaudeThinking('anthropic.claude-opus-5', { type: 'adaptive' }, undefined);
  assert.deepEqual(display.thinking, { type: 'adaptive', display: 'summarized' });
  const omitted = adaptClaudeThinking('anthropic.claude-opus-5', { type: 'adaptive', display: 'omitted' }, undefined);
  assert.deepEqual(omitted.thinking, { type: 'adaptive', display: 'omitted' });
});

test("Messages' effort without thinking: both routes send output_config where the model has effort, neither where it has none", () => {
  const cases: Array<[string, boolean]> = [
    ['us.anthropic.claude-opus-4-6-v1', true],
    ['us.anthropic.claude-opus-4-7', true],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', false],
  ];
  for (const [modelId, takes] of cases) {
    for (const route of ['invoke', 'converse'] as const) {
      const target = targetFor({ route, modelId });
      const adapter = adapterFor(route, target.family);
      assert.ok(adapter);
      const notes: string[] = [];
      // No `anthropic` native body: the translation (a converse alias, or invoke after an input guardrail's mask).
      const body = adapter.buildBody(
        {
          model: modelId,
          stream: false,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
          params: { max_tokens: 50, effort: 'low' },
          sidecar: { streamChunkSize: undefined, guardrails: [], includeUsage: false },
        },
        { target, note: (m) => notes.push(m), dropParams: false },
      ) as Record<string, any>;
      const fields = route === 'invoke' ? body : (body.additionalModelRequestFields ?? {});
      assert.deepEqual(fields.output_config, takes ? { effort: 'low' } : undefined, `${modelId} on ${route}`);
      assert.equal(fields.thinking, undefined, `${modelId} on ${route}: no thinking is asked for`);
      assert.equal(
        notes.some((n) => n.includes('output_config.effort dropped')),
        !takes,
        `${modelId} on ${route}`,
      );
    }
  }
});

test('claude rules: sampling — Opus 4.1, the 4.5s and 4.6s take temperature or top_p, not both; the default one is left out', () => {
  for (const route of ['invoke', 'converse'] as const) {
    for (const model of [
      'anthropic.claude-opus-4-1-20250805-v1:0',
      'global.anthropic.claude-haiku-4-5-20251001-v1:0',
      'us.anthropic.claude-sonnet-4-6',
    ]) {
      const both = refusal(route, model, { temperature: 0.2, top_p: 0.9 });
      assert.equal(both.param, 'top_p');
      assert.match(both.message, /cannot be combined with temperature/);
      const dropped = build(route, model, { temperature: 0.2, top_p: 0.9 }, true);
      assert.ok(
        JSON.stringify(dropped.body).includes('0.2') && !JSON.stringify(dropped.body).includes('0.9'),
        'drop_params keeps temperature',
      );
      const defaultTopP = build(route, model, { temperature: 0.2, top_p: 1 });
      assert.ok(!/top_?p/i.test(JSON.stringify(defaultTopP.body)), JSON.stringify(defaultTopP.body));
      assert.ok(defaultTopP.notes.some((n) => n.startsWith('top_p 1 (the default) left out')));
      const defaultTemperature = JSON.stringify(build(route, model, { temperature: 1, top_p: 0.9 }).body);
      assert.ok(!defaultTemperature.includes('temperature') && defaultTemperature.includes('0.9'), defaultTemperature);
      // One of them alone goes as asked.
      assert.ok(JSON.stringify(build(route, model, { top_p: 0.9 }).body).includes('0.9'));
    }
    // Claude 4 (Sonnet 4, Opus 4) and older take both.
    const sonnet4 = JSON.stringify(build(route, 'us.anthropic.claude-sonnet-4-20250514-v1:0', { temperature: 0.2, top_p: 0.9 }).body);
    assert.ok(sonnet4.includes('0.2') && sonnet4.includes('0.9'), sonnet4);
  }
});

test('claude rules: sampling — from Opus 4.7 on (and a Claude this table does not know) temperature, top_p and top_k are refused; a default 1 is left out', () => {
  for (const route of ['invoke', 'converse'] as const) {
    for (const model of [
      'anthropic.claude-opus-4-7',
      'us.anthropic.claude-opus-4-8',
      'anthropic.claude-opus-5',
      'anthropic.claude-fable-5',
      'anthropic.claude-lyric-6',
    ]) {
      assert.equal(refusal(route, model, { temperature: 0.3 }).param, 'temperature');
      assert.equal(refusal(route, model, { top_p: 0.5 }).param, 'top_p');
      assert.equal(refusal(route, model, { top_k: 40 }).param, 'top_k');
      const defaults = build(route, model, { temperature: 1, top_p: 1 });
      assert.ok(!/temperature|top_?p/i.test(JSON.stringify(defaults.body)), JSON.stringify(defaults.body));
      const dropped = JSON.stringify(build(route, model, { temperature: 0.3 }, true).body);
      assert.ok(!dropped.includes('temperature'), dropped);
    }
  }
});

test('claude rules: a tool continuation whose calling turn lacks signed thinking is found; signed or redacted thinking first is not', () => {
  const user = { role: 'user' as const, content: [{ type: 'text' as const, text: 'q' }] };
  const call = { id: 't1', name: 'f', arguments: '{}' };
  const result = { role: 'tool' as const, toolCallId: 't1', content: [{ type: 'text' as const, text: 'ok' }] };
  const assistant = (reasoning?: Array<{ text: string; signature?: string } | { redacted: string }>) => ({
    role: 'assistant' as const,
    content: [],
    toolCalls: [call],
    ...(reasoning ? { reasoning } : {}),
  });
  assert.equal(continuesUnsignedToolTurn([user, assistant(), result]), true);
  assert.equal(continuesUnsignedToolTurn([user, assistant([{ text: 'unsigned' }]), result]), true, 'unsigned reasoning is not sent');
  assert.equal(continuesUnsignedToolTurn([user, assistant(), result, user]), true, 'user text after the results is the same turn');
  assert.equal(continuesUnsignedToolTurn([user, assistant([{ text: 'why', signature: 'c2ln' }]), result]), false);
  assert.equal(continuesUnsignedToolTurn([user, assistant([{ redacted: 'ZGF0YQ==' }]), result]), false);
  assert.equal(continuesUnsignedToolTurn([user]), false);
  assert.equal(
    continuesUnsignedToolTurn([
      user,
      assistant(),
      result,
      { role: 'assistant', content: [{ type: 'text', text: 'done' }], toolCalls: [] },
      user,
    ]),
    false,
  );
});
