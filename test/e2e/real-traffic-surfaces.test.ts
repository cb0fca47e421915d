/**
 * Every recording of real Bedrock Runtime in test/fixtures/real-traffic/ through the sidecar's real process on
 * the Anthropic Messages and OpenAI Responses surfaces, streamed and whole, from an upstream on 127.0.0.1 that
 * replays the recorded status, headers and body (docs/contract.md#anthropic-messages,
 * docs/contract.md#openai-responses). What each surface's client gets is held against the same oracle as the
 * Chat replay (test/helpers/real-traffic-oracle.ts, read from the recorded bytes with no src/ code), in the
 * surface's own terms: the text byte for byte, the reasoning, the tool calls (id, name, arguments), the stop
 * (Messages' `stop_reason`, Responses' status and `incomplete_details`), usage, and for a recorded error the
 * status in the surface's error shape. One pipeline: every surface must tell the same answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRecordings, type Recording } from '../helpers/real-traffic.ts';
import { expectedOf, type Expected, type Json, type ToolCall } from '../helpers/real-traffic-oracle.ts';
import { startReplaySidecar, type ReplaySidecar } from '../helpers/replay-sidecar.ts';

type Answer = Extract<Expected, { kind: 'answer' }>;

/** What one client got, in the oracle's terms (usage as its three counts). */
interface Got {
  content: string;
  reasoning: string;
  tools: ToolCall[];
  /** The surface's own stop, checked against the oracle's finish by `STOPS`. */
  stop: string;
  /** `written`: cache writes, Messages' `cache_creation_input_tokens`, Responses' `cache_write_tokens` (absent: none). */
  usage: { prompt: number; completion: number; cached: number; written: number };
}

/** The oracle's finish (docs/contract.md#streaming-and-errors) as each surface says it. */
const STOPS: Record<'messages' | 'responses', Record<string, readonly string[]>> = {
  messages: { stop: ['end_turn', 'stop_sequence'], length: ['max_tokens'], tool_calls: ['tool_use'], content_filter: ['refusal'] },
  responses: {
    stop: ['completed'],
    tool_calls: ['completed'],
    length: ['incomplete:max_output_tokens'],
    content_filter: ['incomplete:content_filter'],
  },
};

function sseEvents(text: string): Array<{ event: string; data: Json }> {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes('data: '))
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? '';
      const data = lines.find((l) => l.startsWith('data: '))!.slice('data: '.length);
      return { event, data: JSON.parse(data) as Json };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Anthropic Messages.

function messagesUsage(usage: Json): Got['usage'] {
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const cached = n(usage.cache_read_input_tokens);
  const written = n(usage.cache_creation_input_tokens);
  return { prompt: n(usage.input_tokens) + cached + written, completion: n(usage.output_tokens), cached, written };
}

function fromMessage(message: Json): Got {
  const got: Got = {
    content: '',
    reasoning: '',
    tools: [],
    stop: String(message.stop_reason),
    usage: messagesUsage(message.usage as Json),
  };
  for (const block of message.content as Json[]) {
    if (block.type === 'text') got.content += block.text as string;
    if (block.type === 'thinking') got.reasoning += block.thinking as string;
    if (block.type === 'tool_use')
      got.tools.push({ id: block.id as string, name: block.name as string, arguments: JSON.stringify(block.input) });
  }
  return got;
}

function fromMessagesStream(text: string, label: string): Got {
  const events = sseEvents(text);
  const types = events.map((e) => e.data.type as string);
  assert.equal(types[0], 'message_start', label);
  assert.equal(types.at(-1), 'message_stop', `${label}: the stream ends with message_stop: ${text.slice(-300)}`);
  assert.equal(types.filter((t) => t === 'error').length, 0, label);
  const start = (events[0]!.data.message as Json).usage as Json;
  const got: Got = { content: '', reasoning: '', tools: [], stop: '', usage: messagesUsage(start) };
  const blocks = new Map<number, Json>();
  for (const { data } of events) {
    if (data.type === 'content_block_start') {
      const block = { ...(data.content_block as Json) };
      if (block.type === 'tool_use') block.input = '';
      blocks.set(data.index as number, block);
    } else if (data.type === 'content_block_delta') {
      const block = blocks.get(data.index as number)!;
      const delta = data.delta as Json;
      if (delta.type === 'text_delta') got.content += delta.text as string;
      if (delta.type === 'thinking_delta') got.reasoning += delta.thinking as string;
      if (delta.type === 'input_json_delta') block.input = `${block.input as string}${delta.partial_json as string}`;
    } else if (data.type === 'content_block_stop') {
      const block = blocks.get(data.index as number)!;
      if (block.type === 'tool_use')
        got.tools.push({ id: block.id as string, name: block.name as string, arguments: (block.input as string) || '{}' });
    } else if (data.type === 'message_delta') {
      got.stop = String((data.delta as Json).stop_reason);
      const usage = data.usage as Json;
      got.usage = messagesUsage({ ...start, ...Object.fromEntries(Object.entries(usage).filter(([, v]) => v !== null)) });
    }
  }
  return got;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAI Responses.

function fromResponse(response: Json): Got {
  const got: Got = { content: '', reasoning: '', tools: [], stop: '', usage: { prompt: 0, completion: 0, cached: 0, written: 0 } };
  const incomplete = response.incomplete_details as Json | null | undefined;
  got.stop = response.status === 'incomplete' ? `incomplete:${String(incomplete?.reason)}` : String(response.status);
  for (const item of response.output as Json[]) {
    if (item.type === 'message')
      for (const part of item.content as Json[]) if (part.type === 'output_text') got.content += part.text as string;
    if (item.type === 'reasoning') for (const part of item.summary as Json[]) got.reasoning += part.text as string;
    if (item.type === 'function_call')
      got.tools.push({ id: item.call_id as string, name: item.name as string, arguments: item.arguments as string });
  }
  const usage = response.usage as Json;
  got.usage = {
    prompt: usage.input_tokens as number,
    completion: usage.output_tokens as number,
    cached: (usage.input_tokens_details as Json).cached_tokens as number,
    written: ((usage.input_tokens_details as Json).cache_write_tokens as number | undefined) ?? 0,
  };
  return got;
}

function fromResponsesStream(text: string, label: string): Got {
  const events = sseEvents(text);
  const last = events.at(-1)!;
  assert.ok(
    ['response.completed', 'response.incomplete'].includes(last.data.type as string),
    `${label}: ends with ${String(last.data.type)}`,
  );
  assert.deepEqual(
    events.map((e) => e.data.sequence_number),
    events.map((_, i) => i),
    `${label}: sequence numbers`,
  );
  const got = fromResponse(last.data.response as Json);
  // The deltas tell the same text as the final response.
  const deltas = events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta as string);
  assert.equal(deltas.join(''), got.content, `${label}: the text deltas`);
  return got;
}

// ---------------------------------------------------------------------------------------------------------
// The replay.

let sidecar: ReplaySidecar;

before(async () => {
  sidecar = await startReplaySidecar();
});

after(() => sidecar.close());

const postJson = (path: string, body: Json): Promise<Response> =>
  fetch(`${sidecar.proxy}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });

function check(surface: 'messages' | 'responses', label: string, got: Got, expected: Answer): void {
  assert.equal(got.content, expected.content, `${label}: content`);
  assert.equal(got.reasoning, expected.reasoning, `${label}: reasoning`);
  assert.deepEqual(
    got.tools.map((t) => ({ ...t, arguments: JSON.parse(t.arguments) as unknown })),
    expected.tools.map((t) => ({ ...t, arguments: JSON.parse(t.arguments || '{}') as unknown })),
    `${label}: tool calls`,
  );
  assert.ok(STOPS[surface][expected.finish]?.includes(got.stop), `${label}: stop ${got.stop} for finish ${expected.finish}`);
  assert.deepEqual(
    got.usage,
    {
      prompt: expected.usage.prompt_tokens,
      completion: expected.usage.completion_tokens,
      cached: expected.usage.cached_tokens,
      written: expected.usage.cache_write_tokens,
    },
    `${label}: usage`,
  );
}

async function replay(rec: Recording, surface: 'messages' | 'responses', stream: boolean): Promise<void> {
  const label = `${rec.id} on ${surface}${stream ? ', streamed' : ''}`;
  const expected = expectedOf(rec);
  // The recording answers whatever the route's operation is: a stream only when it was recorded as one.
  if (stream !== rec.operation.endsWith('stream') && expected.kind === 'answer') return;
  sidecar.play(rec);
  const res =
    surface === 'messages'
      ? await postJson('/v1/messages', { model: rec.route, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }], stream })
      : await postJson('/v1/responses', { model: rec.route, input: 'Hello', stream, store: false });
  const text = await res.text();
  if (expected.kind === 'error') {
    assert.equal(res.status, expected.status, `${label}: ${text}`);
    const body = JSON.parse(text) as Json;
    if (surface === 'messages') assert.equal(body.type, 'error', label);
    else assert.equal(typeof (body.error as Json).message, 'string', label);
    return;
  }
  assert.equal(res.status, 200, `${label}: ${text.slice(0, 400)}`);
  const got =
    surface === 'messages'
      ? stream
        ? fromMessagesStream(text, label)
        : fromMessage(JSON.parse(text) as Json)
      : stream
        ? fromResponsesStream(text, label)
        : fromResponse(JSON.parse(text) as Json);
  check(surface, label, got, expected);
}

const RECORDINGS = loadRecordings();

for (const surface of ['messages', 'responses'] as const) {
  test(`every recording replayed through the sidecar process on the ${surface} surface, streamed and whole`, async (t) => {
    for (const rec of RECORDINGS)
      await t.test(rec.id, async () => {
        await replay(rec, surface, true);
        await replay(rec, surface, false);
      });
  });
}
