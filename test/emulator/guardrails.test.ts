// ApplyGuardrail through the SDK (block, mask, pass, scripted failure and delay), and bedrock-native
// guardrails: invoke headers → `amazon-bedrock-guardrailAction`, converse guardrailConfig → `guardrail_intervened`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyGuardrailCommand, ConverseStreamCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.ts';
import { CLAUDE, chunkEvents, claudeBody, decodeFrames, post, sdkClient } from './helpers.ts';
import { withEmulator } from '../helpers/emulator.ts';

type Json = Record<string, unknown>;
const RULES: EmulatorOptions['guardrails'] = {
  blockTerms: ['project nightingale'],
  maskTerms: [{ term: 'Alice Smith', type: 'NAME' }],
  blockedMessage: 'Blocked by policy.',
};

async function withEmu(fn: (emu: Emulator) => Promise<void>): Promise<void> {
  await withEmulator(
    async (emu) => {
      await fn(emu);
    },
    { guardrails: RULES },
  );
}

const apply = (emu: Emulator, text: string, guardrailIdentifier = 'gr123abc') =>
  sdkClient(emu.url).send(
    new ApplyGuardrailCommand({
      guardrailIdentifier,
      guardrailVersion: 'DRAFT',
      source: 'OUTPUT',
      content: [{ text: { text } }],
    }),
  );

test('apply-guardrail: a block term intervenes with the blocked message and a BLOCKED word policy', () =>
  withEmu(async (emu) => {
    const out = await apply(emu, 'Tell me about Project Nightingale please');
    assert.equal(out.action, 'GUARDRAIL_INTERVENED');
    assert.deepEqual(out.outputs, [{ text: 'Blocked by policy.' }]);
    assert.equal(out.assessments![0]!.wordPolicy!.customWords![0]!.action, 'BLOCKED');
    assert.equal(out.assessments![0]!.topicPolicy!.topics![0]!.action, 'BLOCKED');
    assert.equal(typeof out.usage!.topicPolicyUnits, 'number');
    const rec = emu.requests[0]!;
    assert.equal(rec.operation, 'ApplyGuardrail');
    assert.equal(rec.guardrailId, 'gr123abc');
    assert.equal(rec.guardrailVersion, 'DRAFT');
    assert.equal(rec.signature, 'valid');
  }));

test('apply-guardrail: mask terms become {TYPE} with an ANONYMIZED sensitive-information policy', () =>
  withEmu(async (emu) => {
    const out = await apply(emu, 'Call alice smith today');
    assert.equal(out.action, 'GUARDRAIL_INTERVENED');
    assert.deepEqual(out.outputs, [{ text: 'Call {NAME} today' }]);
    assert.deepEqual(out.assessments![0]!.sensitiveInformationPolicy!.piiEntities![0], {
      match: 'alice smith',
      type: 'NAME',
      action: 'ANONYMIZED',
      detected: true,
    });
  }));

test('apply-guardrail: clean text passes with action NONE; an ARN identifier routes', () =>
  withEmu(async (emu) => {
    const out = await apply(emu, 'hello', 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abcd1234');
    assert.equal(out.action, 'NONE');
    assert.deepEqual(out.outputs, []);
    assert.equal(emu.requests[0]!.guardrailId, 'arn:aws:bedrock:us-east-1:123456789012:guardrail/abcd1234');
  }));

test('apply-guardrail: scripted failure and slowness', () =>
  withEmu(async (emu) => {
    emu.scriptGuardrail(
      { type: 'error', status: 429, errorType: 'ThrottlingException', message: 'guardrail busy' },
      { type: 'delay', ms: 120, then: { type: 'pass' } },
    );
    await assert.rejects(apply(emu, 'x'), (e: Error) => e instanceof ThrottlingException && e.message === 'guardrail busy');
    const t0 = Date.now();
    const out = await apply(emu, 'project nightingale');
    assert.ok(Date.now() - t0 >= 110);
    assert.equal(out.action, 'NONE');
  }));

test('apply-guardrail: validation of body and path', () =>
  withEmu(async (emu) => {
    const bad = await post(emu.url, '/guardrail/gr1/version/DRAFT/apply', JSON.stringify({ source: 'SIDEWAYS', content: [] }));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body.toString()).message, /Member must satisfy enum value set: \[INPUT, OUTPUT\]/);
    const badVersion = await post(emu.url, '/guardrail/gr1/version/v0/apply', JSON.stringify({ source: 'INPUT', content: [] }));
    assert.equal(badVersion.status, 400);
    assert.match(JSON.parse(badVersion.body.toString()).message, /guardrailVersion/);
  }));

test('native guardrail on invoke: a block term in the output ends the stream with guardrailAction INTERVENED', () =>
  withEmu(async (emu) => {
    emu.script(
      { type: 'text', text: 'Sure. Project Nightingale is a secret plan that nobody should discuss.' },
      { type: 'text', text: 'All fine here.' },
    );
    const headers = { 'x-amzn-bedrock-guardrailidentifier': 'gr1', 'x-amzn-bedrock-guardrailversion': '1' };
    const streamPath = `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`;
    const res = await post(emu.url, streamPath, JSON.stringify(claudeBody()), { headers });
    const events = chunkEvents(decodeFrames(res.body));
    const last = events.at(-1)!;
    assert.equal(last.type, 'message_stop');
    assert.equal(last['amazon-bedrock-guardrailAction'], 'INTERVENED');
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as Json).text)
      .join('');
    assert.ok(!text.toLowerCase().includes('nightingale'), text);
    const ok = await post(emu.url, streamPath, JSON.stringify(claudeBody()), { headers });
    assert.equal(chunkEvents(decodeFrames(ok.body)).at(-1)!['amazon-bedrock-guardrailAction'], 'NONE');
  }));

test('native guardrail on invoke: body guardrailConfig needs the identifier header', () =>
  withEmu(async (emu) => {
    const body = JSON.stringify(claudeBody('hi', { 'amazon-bedrock-guardrailConfig': { streamProcessingMode: 'ASYNCHRONOUS' } }));
    const res = await post(emu.url, `/model/${encodeURIComponent(CLAUDE)}/invoke`, body);
    assert.equal(res.status, 400);
    const withHeader = await post(emu.url, `/model/${encodeURIComponent(CLAUDE)}/invoke`, body, {
      headers: { 'x-amzn-bedrock-guardrailidentifier': 'gr1', 'x-amzn-bedrock-guardrailversion': '1' },
    });
    assert.equal(withHeader.status, 200);
    assert.equal(JSON.parse(withHeader.body.toString())['amazon-bedrock-guardrailAction'], 'NONE');
  }));

test('native guardrail on converse-stream: stopReason guardrail_intervened and a trace in metadata', () =>
  withEmu(async (emu) => {
    emu.script({ type: 'text', text: 'The answer involves project nightingale, which I will now explain in detail.' });
    const out = await sdkClient(emu.url).send(
      new ConverseStreamCommand({
        modelId: CLAUDE,
        messages: [{ role: 'user', content: [{ text: 'tell me' }] }],
        guardrailConfig: { guardrailIdentifier: 'gr1', guardrailVersion: '1', trace: 'enabled', streamProcessingMode: 'sync' },
      }),
    );
    const events = [];
    for await (const ev of out.stream ?? []) events.push(ev);
    assert.equal(events.find((e) => e.messageStop)!.messageStop!.stopReason, 'guardrail_intervened');
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    assert.ok(!text.toLowerCase().includes('nightingale'));
    assert.ok(events.at(-1)!.metadata!.trace!.guardrail);
  }));

test('native guardrail on converse (non-stream): blocked answer replaced, stopReason guardrail_intervened', () =>
  withEmu(async (emu) => {
    emu.script({ type: 'text', text: 'project nightingale details' });
    const res = await post(
      emu.url,
      `/model/${encodeURIComponent(CLAUDE)}/converse`,
      JSON.stringify({
        messages: [{ role: 'user', content: [{ text: 'q' }] }],
        guardrailConfig: { guardrailIdentifier: 'gr1', guardrailVersion: '1' },
      }),
    );
    const out = JSON.parse(res.body.toString()) as Json;
    assert.equal(out.stopReason, 'guardrail_intervened');
    assert.deepEqual(out.output, { message: { role: 'assistant', content: [{ text: 'Blocked by policy.' }] } });
  }));
