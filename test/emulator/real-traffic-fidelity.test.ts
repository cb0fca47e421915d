/**
 * The emulator's fidelity, measured against real Bedrock: for every recording in
 * test/fixtures/real-traffic/, the emulator is scripted to say what the recording says (its text pieces,
 * reasoning, tool calls, stop reason and counts, read from the recorded events) and called with the same
 * operation and model id; then the two answers are compared structurally: status, header names, the
 * order and types of the stream's events, the field paths of every event (so where usage and invocation
 * metrics sit), and the spelling of the stop reason. Values (text, ids, latencies) are not compared.
 *
 * What the emulator deliberately does not reproduce is listed in NOT_COMPARED (whole recordings) and
 * ACCEPTED (paths), each with its reason; everything else must match.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/index.ts';
import type { ScriptedReply } from '../../src/emulator/types.ts';
import { loadRecordings, streamEvents, type Json, type Recording } from '../helpers/real-traffic.ts';
import { claudeBody, decodeFrames, post } from './helpers.ts';
import { startTestEmulator } from '../helpers/emulator.ts';

let emu: Emulator;
before(async () => {
  emu = await startTestEmulator();
});
after(async () => {
  await emu.close();
});

/** Recordings whose shape the emulator does not model at all, and why. */
const NOT_COMPARED: Record<string, string> = {
  'cs-nova2-lite-server-tool': 'Nova 2 built-in server tools (server_tool_use, toolResult blocks) are not scriptable',
  'cv-nova2-lite-server-tool': 'Nova 2 built-in server tools (server_tool_use, toolResult blocks) are not scriptable',
  'cs-anthropic-claude37-redacted-thinking': 'redacted reasoning (redactedContent) is not scriptable',
  'cv-anthropic-claude37-redacted-thinking': 'redacted reasoning (redactedContent) is not scriptable',
};

/**
 * Paths a recording may have and the emulator not, or the reverse, and why. `*` applies to every
 * recording. A path is `event.key.key[]…` as `paths()` writes it.
 */
const ACCEPTED: Record<string, { paths: RegExp; why: string }> = {
  '*': {
    // Guardrail traces and actions come from a guardrail configured in the recorded call; the emulator's
    // native guardrail is checked in guardrails.test.ts. The padding `p` is random by design.
    paths: /^(p|trace(\..*)?|amazon-bedrock-trace(\..*)?|amazon-bedrock-guardrailAction|metadata\.trace(\..*)?)$/,
    why: 'guardrail traces depend on the guardrail the recorded call used; padding is random',
  },
  'is-titan-express-two-chunks': {
    paths: /^(completionReason|totalOutputTextTokenCount|inputTextTokenCount)$/,
    why: 'an older Titan stream sends null for keys that do not apply; the newer is-titan-express-text omits them, as the emulator does',
  },
  'is-nova-micro-text': {
    paths: /^(metadata\.usage|amazon-bedrock-invocationMetrics)\.cache(Read|Write)InputTokenCount$/,
    why: 'this Nova stream has no cache counts; is-nova-pro-text and is-nova-micro-tool-use carry them (0), as the emulator does',
  },
};

/**
 * Members older recordings predate and the emulator sends as Bedrock does now: converse `serverToolUsage`,
 * Claude's cache counts (always present on current models) and their split by TTL. Where a recording has
 * none of them, the emulator's are not compared.
 */
const NEWER_THAN_RECORDING = /(^|\.)usage\.(serverToolUsage|cache_creation_input_tokens|cache_read_input_tokens|cache_creation\..*)$/;

/** Recordings made through a mock server that kept only some response headers (their header names are not compared). */
const PARTIAL_HEADERS = (rec: Recording): boolean => String(rec.provenance.path).includes('_mock_external_bedrock_server');

// ---------------------------------------------------------------------------------------------------------
// Reading what a recording says, as a script for the emulator.

const TO_CONVERSE_STOP: Record<string, string> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  tool_use: 'tool_use',
  stop_sequence: 'stop_sequence',
  guardrail_intervened: 'guardrail_intervened',
  FINISH: 'end_turn',
  LENGTH: 'max_tokens',
  stop: 'end_turn',
  length: 'max_tokens',
  MAX_TOKENS: 'max_tokens',
  COMPLETE: 'end_turn',
};

function converseStop(native: unknown): string {
  assert.equal(typeof native, 'string');
  const stop = TO_CONVERSE_STOP[native as string];
  assert.ok(stop, `a converse reading of ${String(native)}`);
  return stop;
}

interface Said {
  deltas: string[];
  reasoning: string[];
  calls: Array<{ id: string; name: string; argumentDeltas: string[] }>;
  stop?: string;
  usage: { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number; cacheWriteTokens?: number };
}

function n(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function metricsUsage(e: Json, usage: Said['usage']): void {
  const m = e['amazon-bedrock-invocationMetrics'] as Json | undefined;
  if (!m) return;
  usage.inputTokens = n(m.inputTokenCount);
  usage.outputTokens = n(m.outputTokenCount);
  if (n(m.cacheReadInputTokenCount)) usage.cacheReadTokens = n(m.cacheReadInputTokenCount);
  if (n(m.cacheWriteInputTokenCount)) usage.cacheWriteTokens = n(m.cacheWriteInputTokenCount);
}

function converseUsage(u: Json | undefined, usage: Said['usage']): void {
  if (!u) return;
  usage.inputTokens = n(u.inputTokens) ?? usage.inputTokens;
  usage.outputTokens = n(u.outputTokens) ?? usage.outputTokens;
  const read = n(u.cacheReadInputTokens) ?? n(u.cacheReadInputTokenCount);
  const write = n(u.cacheWriteInputTokens) ?? n(u.cacheWriteInputTokenCount);
  if (read !== undefined && (read > 0 || u.cacheReadInputTokens !== undefined)) usage.cacheReadTokens = read;
  if (write !== undefined && (write > 0 || u.cacheWriteInputTokens !== undefined)) usage.cacheWriteTokens = write;
}

function saidInStream(rec: Recording, family: string): Said {
  const said: Said = { deltas: [], reasoning: [], calls: [], usage: {} };
  const calls = new Map<number, Said['calls'][number]>();
  const events = streamEvents(rec.body, rec.operation);
  // gpt-oss opens with an empty text block before its reasoning; the emulator adds that block itself.
  const opening = events.findIndex((e) => e.name === 'contentBlockStop');
  if (family === 'openai' && opening === 2 && (events[1]!.event.delta as Json | undefined)?.text === '') events.splice(1, 2);
  for (const { name, event } of events) {
    const e = rec.operation === 'converse-stream' || family === 'nova' ? ((event[name] as Json | undefined) ?? event) : event;
    if (rec.operation === 'converse-stream' || family === 'nova') {
      if (name === 'contentBlockStart') {
        const t = (e.start as Json).toolUse as Json;
        const call = { id: t.toolUseId as string, name: t.name as string, argumentDeltas: [] as string[] };
        calls.set(e.contentBlockIndex as number, call);
        said.calls.push(call);
      } else if (name === 'contentBlockDelta') {
        const d = e.delta as Json;
        if (typeof d.text === 'string') said.deltas.push(d.text);
        const r = d.reasoningContent as Json | undefined;
        if (typeof r?.text === 'string') said.reasoning.push(r.text);
        const t = d.toolUse as Json | undefined;
        if (typeof t?.input === 'string') calls.get(e.contentBlockIndex as number)!.argumentDeltas.push(t.input);
      } else if (name === 'messageStop') {
        said.stop = converseStop(e.stopReason);
      } else if (name === 'metadata') {
        converseUsage(e.usage as Json | undefined, said.usage);
        metricsUsage(event, said.usage);
      }
      continue;
    }
    metricsUsage(e, said.usage);
    switch (family) {
      case 'anthropic':
        if (name === 'message_start') {
          const u = (e.message as Json).usage as Json;
          said.usage.inputTokens = n(u.input_tokens);
        } else if (name === 'content_block_delta') {
          const d = e.delta as Json;
          if (d.type === 'text_delta') said.deltas.push(d.text as string);
        } else if (name === 'message_delta') {
          said.stop = converseStop((e.delta as Json).stop_reason);
        }
        break;
      case 'titan':
        said.deltas.push(e.outputText as string);
        if (typeof e.completionReason === 'string') said.stop = converseStop(e.completionReason);
        break;
      case 'llama':
        said.deltas.push(e.generation as string);
        if (typeof e.stop_reason === 'string') said.stop = converseStop(e.stop_reason);
        break;
      case 'mistral': {
        const o = (e.outputs as Json[])[0]!;
        said.deltas.push(o.text as string);
        if (typeof o.stop_reason === 'string') said.stop = converseStop(o.stop_reason);
        break;
      }
      case 'cohere':
        if (name === 'text-generation') said.deltas.push(e.text as string);
        if (name === 'stream-end') said.stop = converseStop(e.finish_reason);
        break;
      default:
        throw new Error(`no reading of ${family} streams`);
    }
  }
  return said;
}

function saidInBody(rec: Recording, family: string): Said {
  const body = JSON.parse(rec.body.toString('utf8')) as Json;
  const said: Said = { deltas: [], reasoning: [], calls: [], usage: {} };
  const headers = rec.headers;
  if (rec.operation === 'converse' || family === 'nova') {
    for (const block of ((body.output as Json).message as Json).content as Json[]) {
      if (typeof block.text === 'string') said.deltas.push(block.text);
      const r = (block.reasoningContent as Json | undefined)?.reasoningText as Json | undefined;
      if (typeof r?.text === 'string') said.reasoning.push(r.text);
      const t = block.toolUse as Json | undefined;
      if (t) said.calls.push({ id: t.toolUseId as string, name: t.name as string, argumentDeltas: [JSON.stringify(t.input)] });
    }
    said.stop = converseStop(body.stopReason);
    converseUsage(body.usage as Json, said.usage);
  } else {
    switch (family) {
      case 'anthropic': {
        said.deltas.push(...(body.content as Json[]).map((b) => b.text as string));
        said.stop = converseStop(body.stop_reason);
        const u = body.usage as Json;
        said.usage = {
          inputTokens: n(u.input_tokens),
          outputTokens: n(u.output_tokens),
          cacheReadTokens: n(u.cache_read_input_tokens),
          cacheWriteTokens: n(u.cache_creation_input_tokens),
        };
        break;
      }
      case 'titan': {
        const r = (body.results as Json[])[0]!;
        said.deltas.push(r.outputText as string);
        said.stop = converseStop(r.completionReason);
        break;
      }
      case 'llama':
        said.deltas.push(body.generation as string);
        said.stop = converseStop(body.stop_reason);
        break;
      case 'mistral': {
        const o = (body.outputs as Json[])[0]!;
        said.deltas.push(o.text as string);
        said.stop = converseStop(o.stop_reason);
        break;
      }
      case 'cohere':
        said.deltas.push(body.text as string);
        said.stop = converseStop(body.finish_reason);
        break;
      case 'ai21':
      case 'openai': {
        const c = (body.choices as Json[])[0]!;
        said.deltas.push((c.message as Json).content as string);
        said.stop = converseStop(c.finish_reason);
        break;
      }
      default:
        throw new Error(`no reading of ${family} answers`);
    }
  }
  const h = (name: string): number | undefined => (headers[name] === undefined ? undefined : Number(headers[name]));
  said.usage.inputTokens = h('x-amzn-bedrock-input-token-count') ?? said.usage.inputTokens;
  said.usage.outputTokens = h('x-amzn-bedrock-output-token-count') ?? said.usage.outputTokens;
  said.usage.cacheReadTokens = h('x-amzn-bedrock-cache-read-input-token-count') ?? said.usage.cacheReadTokens;
  said.usage.cacheWriteTokens = h('x-amzn-bedrock-cache-write-input-token-count') ?? said.usage.cacheWriteTokens;
  return said;
}

function scriptOf(said: Said): ScriptedReply {
  const usage = Object.fromEntries(Object.entries(said.usage).filter(([, v]) => v !== undefined));
  const text = said.deltas.join('');
  const reasoning = said.reasoning.length > 0 ? { reasoning: said.reasoning.join(''), reasoningDeltas: said.reasoning } : {};
  if (said.calls.length > 0) {
    return {
      type: 'tool_use',
      text,
      deltas: said.deltas,
      ...reasoning,
      usage,
      ...(said.stop ? { stopReason: said.stop } : {}),
      calls: said.calls.map((c) => ({
        id: c.id,
        name: c.name,
        input: JSON.parse(c.argumentDeltas.join('')) as unknown,
        argumentDeltas: c.argumentDeltas,
      })),
    };
  }
  return { type: 'text', text, deltas: said.deltas, ...reasoning, usage, ...(said.stop ? { stopReason: said.stop } : {}) };
}

// ---------------------------------------------------------------------------------------------------------
// Calling the emulator as the recording's client called Bedrock.

function familyOf(rec: Recording): string {
  const id = rec.modelId.replace(/^arn:aws:bedrock:[^:]*::foundation-model\//, '').replace(/^(us|eu|apac)\./, '');
  if (id.startsWith('amazon.nova')) return 'nova';
  if (id.startsWith('amazon.titan')) return 'titan';
  if (id.startsWith('meta.')) return 'llama';
  return id.split('.')[0]!;
}

/** A minimal valid request body for the recording's operation and family. */
function requestBody(rec: Recording, family: string): Json {
  const converse = { messages: [{ role: 'user', content: [{ text: 'Hello' }] }] };
  if (rec.operation.startsWith('converse')) return converse;
  switch (family) {
    case 'anthropic':
      return { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] };
    case 'nova':
      return converse;
    case 'titan':
      return { inputText: 'Hello' };
    case 'llama':
      return { prompt: 'Hello', max_gen_len: 100 };
    case 'mistral':
      return /pixtral|large-2407/.test(rec.modelId)
        ? { messages: [{ role: 'user', content: 'Hello' }] }
        : { prompt: '<s>[INST] Hello [/INST]' };
    case 'cohere':
      return { message: 'Hello' };
    default:
      return { messages: [{ role: 'user', content: 'Hello' }] };
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  events: Array<{ name: string; event: Json }> | undefined;
  body: Json | undefined;
}

function answerOf(rec: Recording, status: number, headers: Record<string, string>, body: Buffer, fromEmulator: boolean): Answer {
  if (status === 200 && rec.operation.endsWith('stream')) {
    if (!fromEmulator) return { status, headers, events: streamEvents(body, rec.operation), body: undefined };
    // The emulator's bytes, decoded by the SDK's codec (CRCs checked), then named as the recording's are.
    const decoded = decodeFrames(body).map((f) => ({ headers: f.headers, json: f.json as Json }));
    const events = decoded.map(({ headers: h, json }) => {
      if (rec.operation === 'converse-stream') return { name: h[':event-type']!, event: json };
      const event = JSON.parse(Buffer.from(json.bytes as string, 'base64').toString('utf8')) as Json;
      const keys = Object.keys(event).filter((k) => !k.startsWith('amazon-bedrock-'));
      const name =
        typeof event.type === 'string'
          ? event.type
          : typeof event.event_type === 'string'
            ? event.event_type
            : keys.length === 1 && typeof event[keys[0]!] === 'object'
              ? keys[0]!
              : 'chunk';
      return { name, event };
    });
    return { status, headers, events, body: undefined };
  }
  return { status, headers, events: undefined, body: JSON.parse(body.toString('utf8')) as Json };
}

/** Every leaf path of a JSON value: `a.b`, arrays as `[]` (their elements' paths merged). */
function paths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.add(`${prefix}[]`);
    for (const item of value) paths(item, `${prefix}[]`, out);
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.add(prefix);
    for (const [k, v] of entries) paths(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.add(prefix);
  }
  return out;
}

/** Values of stop reasons, wherever a family puts them. */
function stopSpellings(value: unknown, prefix = '', out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) stopSpellings(item, prefix, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (/^(stopReason|stop_reason|completionReason|finish_reason)$/.test(k) && typeof v === 'string') out.push(`${prefix}${k}=${v}`);
      else stopSpellings(v, `${prefix}${k}.`, out);
    }
  }
  return out;
}

function comparable(set: Set<string>, id: string): string[] {
  const accepted = [ACCEPTED['*']!, ...(ACCEPTED[id] ? [ACCEPTED[id]] : [])];
  return [...set].filter((p) => !accepted.some((a) => a.paths.test(p))).sort();
}

function comparePaths(id: string, where: string, recorded: unknown, emulated: unknown): string[] {
  const r = comparable(paths(recorded), id);
  let e = comparable(paths(emulated), id);
  // serverToolUsage: the emulator sends it as Bedrock does now; a recording older than it has none.
  if (!r.some((p) => NEWER_THAN_RECORDING.test(p))) e = e.filter((p) => !NEWER_THAN_RECORDING.test(p));
  const problems: string[] = [];
  for (const p of r) if (!e.includes(p)) problems.push(`${where}: the emulator lacks ${p}`);
  for (const p of e) if (!r.includes(p)) problems.push(`${where}: the emulator adds ${p}`);
  return problems;
}

/** The response header names that say something about the answer (not date, request id, lengths). */
function headerNames(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-amzn-bedrock-') || k === 'content-type' || k === 'x-amzn-errortype')
    .sort();
}

function compare(rec: Recording, real: Answer, emulated: Answer): string[] {
  const problems: string[] = [];
  if (real.status !== emulated.status) return [`status ${emulated.status}, recorded ${real.status}`];
  const rh = headerNames(real.headers);
  const eh = headerNames(emulated.headers);
  if (!PARTIAL_HEADERS(rec) && JSON.stringify(rh) !== JSON.stringify(eh))
    problems.push(`header names ${JSON.stringify(eh)}, recorded ${JSON.stringify(rh)}`);
  for (const name of ['content-type', 'x-amzn-errortype', 'x-amzn-bedrock-content-type']) {
    if (real.headers[name] !== undefined && emulated.headers[name] !== real.headers[name]) {
      problems.push(`${name}: ${emulated.headers[name]}, recorded ${real.headers[name]}`);
    }
  }
  if (real.events && emulated.events) {
    const rn = real.events.map((e) => e.name);
    const en = emulated.events.map((e) => e.name);
    if (JSON.stringify(rn) !== JSON.stringify(en)) {
      problems.push(`event sequence ${JSON.stringify(en)}, recorded ${JSON.stringify(rn)}`);
      return problems;
    }
    real.events.forEach((r, i) => problems.push(...comparePaths(rec.id, `event ${i} (${r.name})`, r.event, emulated.events![i]!.event)));
    // Per event, in event order (the order of keys inside one event means nothing).
    const rs = real.events.flatMap((e) => stopSpellings(e.event).sort());
    const es = emulated.events.flatMap((e) => stopSpellings(e.event).sort());
    if (JSON.stringify(rs) !== JSON.stringify(es)) problems.push(`stop reasons ${JSON.stringify(es)}, recorded ${JSON.stringify(rs)}`);
  } else {
    problems.push(...comparePaths(rec.id, 'body', real.body, emulated.body));
    const rs = stopSpellings(real.body);
    const es = stopSpellings(emulated.body);
    if (JSON.stringify(rs) !== JSON.stringify(es)) problems.push(`stop reasons ${JSON.stringify(es)}, recorded ${JSON.stringify(rs)}`);
  }
  return problems;
}

const RECORDINGS = loadRecordings();

test('fidelity: the recordings not compared exist, and each says why', () => {
  for (const id of Object.keys(NOT_COMPARED))
    assert.ok(
      RECORDINGS.some((r) => r.id === id),
      id,
    );
});

for (const rec of RECORDINGS) {
  if (NOT_COMPARED[rec.id]) continue;
  test(`fidelity: ${rec.id} — the emulator says it as real Bedrock did`, async () => {
    const family = familyOf(rec);
    emu.reset(); // a call the emulator refused before taking its script leaves it queued
    if (rec.status === 200) {
      const said = rec.operation.endsWith('stream') ? saidInStream(rec, family) : saidInBody(rec, family);
      emu.script(scriptOf(said));
    } else {
      const body = JSON.parse(rec.body.toString('utf8')) as Json;
      emu.script({
        type: 'error',
        status: rec.status,
        errorType: rec.headers['x-amzn-errortype']!.split(':')[0]!,
        message: body.message as string,
      });
    }
    const res = await post(emu.url, `/model/${encodeURIComponent(rec.modelId)}/${rec.operation}`, JSON.stringify(requestBody(rec, family)));
    const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
    const real = answerOf(rec, rec.status, rec.headers, rec.body, false);
    const emulated = answerOf(rec, res.status, headers, res.body, true);
    const problems = compare(rec, real, emulated);
    assert.deepEqual(problems, [], `${rec.id}: the emulator differs from real Bedrock`);
  });
}

test('fidelity: an ExpiredTokenException is in the com.amazon.coral.service namespace, as real 403s of its kind are', async () => {
  emu.reset();
  emu.script({
    type: 'error',
    status: 403,
    errorType: 'ExpiredTokenException',
    message: 'The security token included in the request is expired',
  });
  const res = await post(emu.url, '/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke', JSON.stringify(claudeBody()));
  assert.equal(res.status, 403);
  assert.equal(res.headers['x-amzn-errortype'], 'ExpiredTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/');
});

/** Recorded requests that were not a real app's: mock servers keyed by a made-up member. */
const MOCK_REQUESTS: Record<string, string> = {
  'is-anthropic-claude3-sonnet-text-nopad': "New Relic's mock Bedrock, keyed by `prompt_key`",
  'is-mistral-7b-instruct-nopad': "New Relic's mock Bedrock, keyed by `prompt_key`",
};

test('fidelity: every request real Bedrock answered with a 200 is one the emulator takes', async () => {
  const refused: string[] = [];
  let sent = 0;
  for (const rec of RECORDINGS) {
    const request = rec.request;
    if (rec.status !== 200 || request === undefined || MOCK_REQUESTS[rec.id]) continue;
    const res = await post(emu.url, `/model/${encodeURIComponent(rec.modelId)}/${rec.operation}`, JSON.stringify(request));
    sent++;
    if (res.status !== 200) refused.push(`${rec.id}: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
  }
  assert.ok(sent >= 40, `${sent} recorded requests`);
  assert.deepEqual(refused, []);
  for (const id of Object.keys(MOCK_REQUESTS))
    assert.ok(
      RECORDINGS.some((r) => r.id === id),
      id,
    );
});
