/**
 * The native surface against real Bedrock (docs/contract.md#bedrock-native): every recording in
 * test/fixtures/real-traffic/ of an operation the native surface serves — Converse and ConverseStream of
 * every family, InvokeModel and InvokeModelWithResponseStream of Claude and Nova — is asked of the sidecar's
 * real process with the request the recording's app sent, on `/model/{id}/{operation}` as the AWS SDK sends
 * it (InvokeModel of the prompt families too: Llama, Mistral's prompt models, Titan Text; and of OpenAI's models, AI21 Jamba and Cohere Command R), while an upstream on 127.0.0.1 replays what Bedrock answered. The app must get Bedrock's answer: the
 * same content blocks (text byte for byte, reasoning and its signature, tool uses), stop reason and usage,
 * the same events in the same order, in frames whose CRCs check. What legitimately differs is named here:
 * latencies and ids are the sidecar's own, empty deltas are not relayed (so block indexes may close up),
 * Nova's invoke stream carries its text in one block where Bedrock's gives each piece its own, and a guardrail `trace` (the app's own
 * `guardrailConfig`, which the sidecar does not forward: the alias's guardrails apply) is absent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRecordings, type Json, type Recording } from '../helpers/real-traffic.ts';
import { startReplaySidecar, type ReplaySidecar } from '../helpers/replay-sidecar.ts';
import { decodeFrames } from '../surfaces/bedrock-native-helpers.ts';

/** Families whose own invoke body the native InvokeModel takes (the rest are served through Converse). */
const INVOKE_FAMILIES = new Set(['anthropic', 'amazon-nova', 'meta', 'mistral', 'amazon-titan', 'openai', 'ai21', 'cohere']);

/**
 * Recordings whose request was not a real app's (a mock server keyed by a made-up member), or that ask for
 * what the sidecar refuses on purpose: each with the 400 the app gets instead.
 */
const REFUSED: Readonly<Record<string, RegExp>> = {
  // New Relic's mock Bedrock is keyed by `prompt_key`: Bedrock's Claude body has no such member.
  'is-anthropic-claude3-sonnet-text-nopad': /extraneous key \[prompt_key\]/,
  'is-mistral-7b-instruct-nopad': /extraneous key \[prompt_key\] is not permitted#: required key \[prompt\] not found/,
  // Nova 2's Bedrock-run tools (`systemTool`): their calls and results would need block kinds no other
  // surface has; README "Decisions".
  'cs-nova2-lite-server-tool': /toolConfig\.tools\.1/,
  'cv-nova2-lite-server-tool': /toolConfig\.tools\.1/,
};

interface Case {
  rec: Recording;
  request: Json;
}

function cases(): Case[] {
  return loadRecordings()
    .filter((rec) => (rec.operation.startsWith('converse') ? true : INVOKE_FAMILIES.has(rec.family) && rec.status === 200))
    .filter((rec) => !(rec.status !== 200 && rec.operation.startsWith('invoke')))
    .map((rec) => ({ rec, request: rec.request ?? {} }));
}

// ---------------------------------------------------------------------------------------------------------
// What an answer says, format by format, with what may differ taken out.

interface Said {
  /** The content blocks in order: kind and what they carry, deltas joined. */
  blocks: Json[];
  stop: unknown;
  usage: unknown;
  /** Event names in order, one delta per block (their number is the split's, not the answer's). */
  events: string[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function converseUsage(usage: Json | undefined): Json {
  return {
    inputTokens: num(usage?.inputTokens),
    outputTokens: num(usage?.outputTokens),
    cacheRead: num(usage?.cacheReadInputTokens),
    cacheWrite: num(usage?.cacheWriteInputTokens),
  };
}

function claudeUsage(input: Json | undefined, output: Json | undefined): Json {
  return {
    input: num(input?.input_tokens),
    output: num(output?.output_tokens),
    cacheRead: num(input?.cache_read_input_tokens),
    cacheWrite: num(input?.cache_creation_input_tokens),
  };
}

/** A Converse answer (or Nova's invoke answer, which has its shape): its message's blocks. */
function converseWhole(body: Json): Said {
  const message = (body.output as Json).message as Json;
  return {
    blocks: (message.content as Json[]).map((b) => b),
    stop: body.stopReason,
    usage: converseUsage(body.usage as Json),
    events: [],
  };
}

function claudeWhole(body: Json): Said {
  return {
    blocks: (body.content as Json[]).map((b) => b),
    stop: [body.stop_reason, body.stop_sequence],
    usage: claudeUsage(body.usage as Json, body.usage as Json),
    events: [String(body.type), String(body.role)],
  };
}

/** Converse stream events (`{name, event}`, the event without its `p` padding), as Said. */
function converseStream(events: Array<{ name: string; event: Json }>): Said {
  const blocks = new Map<number, Json>();
  const names: string[] = [];
  let stop: unknown;
  let usage: unknown;
  for (const { name, event } of events) {
    const index = event.contentBlockIndex as number | undefined;
    if (name === 'contentBlockDelta') {
      const delta = event.delta as Json;
      if (delta.text === '' || (delta.toolUse as Json | undefined)?.input === '') continue; // empty: not relayed
      const block = blocks.get(index!) ?? {};
      for (const [kind, value] of Object.entries(delta)) {
        if (kind === 'text') block.text = `${(block.text as string | undefined) ?? ''}${value as string}`;
        else if (kind === 'toolUse') block.input = `${(block.input as string | undefined) ?? ''}${(value as Json).input as string}`;
        else if (kind === 'reasoningContent') {
          const r = value as Json;
          for (const [k, v] of Object.entries(r))
            block[`reasoning.${k}`] = `${(block[`reasoning.${k}`] as string | undefined) ?? ''}${v as string}`;
        } else block[kind] = value;
      }
      blocks.set(index!, block);
      if (names.at(-1) !== `delta ${blocks.size}`) names.push(`delta ${blocks.size}`);
      continue;
    }
    if (name === 'contentBlockStart') {
      blocks.set(index!, { ...blocks.get(index!), start: (event.start as Json).toolUse ?? event.start });
    }
    if (name === 'contentBlockStop' && !blocks.has(index!)) continue; // the stop of a block only empty deltas made
    if (name === 'messageStop') stop = event.stopReason;
    if (name === 'metadata') usage = converseUsage(event.usage as Json);
    names.push(name === 'contentBlockStart' || name === 'contentBlockStop' ? `${name} ${[...blocks.keys()].indexOf(index!) + 1}` : name);
  }
  return { blocks: [...blocks.values()], stop, usage, events: names };
}

/** Claude's invoke stream events (`chunk` payloads, decoded). */
function claudeStream(events: Json[]): Said {
  const blocks: Json[] = [];
  const names: string[] = [];
  let stop: unknown;
  let input: Json | undefined;
  let output: Json | undefined;
  for (const event of events) {
    const type = event.type as string;
    if (type === 'ping') continue;
    if (type === 'message_start') input = (event.message as Json).usage as Json;
    if (type === 'content_block_start') blocks[event.index as number] = { start: event.content_block };
    if (type === 'content_block_delta') {
      const block = blocks[event.index as number]!;
      for (const [k, v] of Object.entries(event.delta as Json))
        if (k !== 'type') block[k] = `${(block[k] as string | undefined) ?? ''}${v as string}`;
      if (names.at(-1) === type) continue;
    }
    if (type === 'message_delta') {
      stop = [(event.delta as Json).stop_reason, (event.delta as Json).stop_sequence];
      output = event.usage as Json;
    }
    names.push(type);
  }
  return { blocks, stop, usage: claudeUsage(input, output), events: names };
}

/** Nova's invoke stream: its events are Converse's, each wrapped in its own name. */
function novaStream(events: Json[]): Said {
  const named = events.map((e) => {
    const name = Object.keys(e).find((k) => !k.startsWith('amazon-bedrock-'))!;
    return { name, event: e[name] as Json };
  });
  // Bedrock's Nova sends each piece of text as a block of its own (its own index, opened by its delta and
  // closed after it); the sidecar sends the answer's text as one block. Consecutive text pieces are one block.
  const out: Array<{ name: string; event: Json }> = [];
  const remap = new Map<number, number>();
  let lastText: number | undefined;
  for (const e of named) {
    const index = e.event.contentBlockIndex as number | undefined;
    const isText = e.name === 'contentBlockDelta' && typeof (e.event.delta as Json).text === 'string';
    if (isText && lastText !== undefined && index !== lastText) {
      // Reopened: drop the stop that closed the previous piece, and carry on in its block.
      const stop = out.findLastIndex((o) => o.name === 'contentBlockStop' && o.event.contentBlockIndex === lastText);
      if (stop === out.length - 1) out.pop();
      remap.set(index!, lastText);
    }
    const mapped = index !== undefined && remap.has(index) ? { ...e.event, contentBlockIndex: remap.get(index) } : e.event;
    out.push({ name: e.name, event: mapped });
    if (isText) lastText = mapped.contentBlockIndex as number;
    else if (e.name !== 'contentBlockStop') lastText = undefined;
  }
  return converseStream(out);
}

/**
 * One answer piece of a prompt family (Llama, Mistral's prompt models, Titan Text) or a chat family (OpenAI's
 * models, AI21 Jamba, Cohere Command R): its text, stop and counts.
 */
interface Piece {
  text?: string;
  stop?: unknown;
  input?: unknown;
  output?: unknown;
}

/** A chat.completion (`message`) or one of its chunks (`delta`; a usage chunk has no choice). */
function chatPiece(e: Json): Piece {
  const choice = (e.choices as Json[] | undefined)?.[0];
  const part = (choice?.message ?? choice?.delta) as Json | undefined;
  const usage = e.usage as Json | undefined;
  return {
    text: (part?.content as string | null | undefined) ?? '',
    stop: choice?.finish_reason,
    input: usage?.prompt_tokens,
    output: usage?.completion_tokens,
  };
}

const PIECES: Readonly<Record<string, (event: Json) => Piece>> = {
  openai: chatPiece,
  ai21: chatPiece,
  // Cohere's whole answer, or its chunks: `text-generation` pieces, then `stream-end` (whose `response`
  // repeats the whole text) with the reason.
  cohere: (e) => (e.event_type === 'stream-end' ? { stop: e.finish_reason } : { text: e.text as string, stop: e.finish_reason }),
  meta: (e) => ({ text: e.generation as string, stop: e.stop_reason, input: e.prompt_token_count, output: e.generation_token_count }),
  mistral: (e) => {
    const out = (e.outputs as Json[])[0]!;
    return { text: out.text as string, stop: out.stop_reason };
  },
  'amazon-titan': (e) => {
    const result = Array.isArray(e.results) ? (e.results as Json[])[0]! : e;
    return {
      text: result.outputText as string,
      stop: result.completionReason,
      input: e.inputTextTokenCount,
      output: result.tokenCount ?? e.totalOutputTextTokenCount,
    };
  },
};

/**
 * A prompt family's answer, whole (one piece) or streamed (a piece per chunk): the text joined, the last
 * stop reason given, and the counts — the last given, or Bedrock's invocation metrics on the last chunk.
 */
function promptSaid(family: string, events: Json[]): Said {
  let text = '';
  let stop: unknown;
  let input: unknown;
  let output: unknown;
  for (const event of events) {
    const piece = PIECES[family]!(event);
    text += piece.text ?? '';
    if (piece.stop !== null && piece.stop !== undefined) stop = piece.stop;
    if (typeof piece.input === 'number') input = piece.input;
    if (typeof piece.output === 'number') output = piece.output;
    const metrics = event['amazon-bedrock-invocationMetrics'] as Json | undefined;
    if (metrics) {
      input = metrics.inputTokenCount;
      output = metrics.outputTokenCount;
    }
  }
  return { blocks: [{ text }], stop, usage: { input, output }, events: [] };
}

function streamSaid(rec: Recording, body: Buffer): Said {
  const frames = decodeFrames(body);
  for (const f of frames) assert.equal(f.headers[':message-type'], 'event', `${rec.id}: ${JSON.stringify(f)}`);
  if (rec.operation === 'converse-stream')
    return converseStream(
      frames.map((f) => {
        const { p: _padding, ...event } = f.payload as Json;
        return { name: f.headers[':event-type']!, event };
      }),
    );
  const chunks = frames.map((f) => JSON.parse(Buffer.from((f.payload as Json).bytes as string, 'base64').toString('utf8')) as Json);
  if (rec.family === 'anthropic') return claudeStream(chunks);
  return rec.family === 'amazon-nova' ? novaStream(chunks) : promptSaid(rec.family, chunks);
}

function said(rec: Recording, body: Buffer): Said {
  if (rec.operation.endsWith('stream')) return streamSaid(rec, body);
  const json = JSON.parse(body.toString('utf8')) as Json;
  if (rec.operation === 'invoke' && PIECES[rec.family]) return promptSaid(rec.family, [json]);
  return rec.family === 'anthropic' && rec.operation === 'invoke' ? claudeWhole(json) : converseWhole(json);
}

// ---------------------------------------------------------------------------------------------------------
// The replay upstream and the sidecar process.

let replay: ReplaySidecar;

before(async () => {
  replay = await startReplaySidecar();
});

after(() => replay.close());

async function ask({ rec, request }: Case): Promise<Response> {
  replay.play(rec);
  return fetch(`${replay.proxy}/model/${encodeURIComponent(rec.modelId)}/${rec.operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
}

test('the native surface gives the app what real Bedrock answered, for every recording of an operation it serves', async (t) => {
  const all = cases();
  assert.ok(all.length >= 40, `${all.length} recordings in scope`);
  for (const c of all) {
    await t.test(c.rec.id, async () => {
      const res = await ask(c);
      const body = Buffer.from(await res.arrayBuffer());
      // Bedrock's own content type, exactly: every recorded answer and error says it without a charset.
      assert.equal(res.headers.get('content-type'), REFUSED[c.rec.id] ? 'application/json' : c.rec.headers['content-type']);
      const refused = REFUSED[c.rec.id];
      if (refused) {
        assert.equal(res.status, 400, body.toString('utf8'));
        assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException');
        assert.match((JSON.parse(body.toString('utf8')) as Json).message as string, refused);
        return;
      }
      if (c.rec.status !== 200) {
        // Bedrock's own refusal, relayed in Bedrock's shape with its status and error type.
        assert.equal(res.status, c.rec.status, body.toString('utf8'));
        assert.equal(res.headers.get('x-amzn-errortype'), c.rec.headers['x-amzn-errortype']!.split(':')[0]);
        const recorded = (JSON.parse(c.rec.body.toString('utf8')) as Json).message as string;
        assert.ok(((JSON.parse(body.toString('utf8')) as Json).message as string).includes(recorded), body.toString('utf8'));
        return;
      }
      assert.equal(res.status, 200, body.toString('utf8'));
      const expected = said(c.rec, c.rec.body);
      const got = said(c.rec, body);
      assert.deepEqual(got.blocks, expected.blocks, 'content blocks');
      assert.deepEqual(got.stop, expected.stop, 'stop reason');
      assert.deepEqual(got.usage, expected.usage, 'usage');
      assert.deepEqual(got.events, expected.events, 'events');
    });
  }
});
