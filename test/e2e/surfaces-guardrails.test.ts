/**
 * Guardrails on every surface (docs/contract.md#guardrails, #surfaces), side by side: an input block is the
 * surface's own HTTP 400 before any model call; an output block after the commit is the surface's own
 * in-band error and end, in sync and async mode; a sync mask reaches the client masked. The message is
 * always `Violated guardrail policy` and the guardrail's name travels with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStream, startHarness, type Harness } from '../helpers/harness.ts';
import { decodeFrames } from '../surfaces/bedrock-native-helpers.ts';

const CLAUDE = 'bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const NOVA = 'bedrock/converse/us.amazon.nova-pro-v1:0';
const POLICY = 'Violated guardrail policy';

/** A rig whose aliases carry the guardrail `name`: `claude` (invoke) and `nova` (converse). */
async function rig(guardrail: Record<string, unknown>, streaming: Record<string, unknown> = {}): Promise<Harness> {
  const name = guardrail.name as string;
  return startHarness({
    streaming,
    guardrails: [guardrail],
    models: [
      { name: 'claude', model: CLAUDE, region: 'us-east-1', guardrails: [name] },
      { name: 'nova', model: NOVA, region: 'us-east-1', guardrails: [name] },
    ],
  });
}

function post(h: Harness, path: string, body: unknown): Promise<Response> {
  return fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The request of each text surface carrying `text` as the user's words. */
const SURFACES: ReadonlyArray<[string, string, (text: string, stream: boolean) => unknown]> = [
  ['chat', '/v1/chat/completions', (text, stream) => ({ model: 'claude', stream, messages: [{ role: 'user', content: text }] })],
  [
    'messages',
    '/v1/messages',
    (text, stream) => ({ model: 'claude', stream, max_tokens: 200, messages: [{ role: 'user', content: text }] }),
  ],
  ['responses', '/v1/responses', (text, stream) => ({ model: 'claude', stream, input: text })],
  ['native converse', '/model/nova/converse', (text) => ({ messages: [{ role: 'user', content: [{ text }] }] })],
  [
    'native invoke',
    '/model/claude/invoke',
    (text) => ({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, messages: [{ role: 'user', content: text }] }),
  ],
];

test("guardrails: an input block is each surface's own 400, with the message and the guardrail's name, before any model call", async () => {
  const h = await rig({ name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'], stages: ['input'] });
  try {
    for (const [surface, path, body] of SURFACES) {
      const res = await post(h, path, body('tell me about the nightingale', false));
      assert.equal(res.status, 400, surface);
      const json = (await res.json()) as Record<string, unknown>;
      if (surface === 'messages') {
        assert.deepEqual(json, { type: 'error', error: { type: 'invalid_request_error', message: POLICY, guardrail: 'no-birds' } });
      } else if (surface.startsWith('native')) {
        assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException', surface);
        assert.match(json.message as string, /Violated guardrail policy/);
        assert.equal(json.guardrail, 'no-birds', surface);
      } else {
        const error = json.error as Record<string, unknown>;
        assert.equal(error.message, POLICY, surface);
        assert.equal(error.type, 'guardrail_violation', surface);
        assert.equal(error.guardrail, 'no-birds', surface);
      }
    }
    assert.equal(h.emu.requests.length, 0, 'no model call for a blocked input');
  } finally {
    await h.close();
  }
});

/** How each streaming surface ended: the in-band error (with the guardrail's name where it has a place) and what came before. */
interface Ending {
  text: string;
  message: string | undefined;
  guardrail: string | undefined;
  finished: boolean;
}

async function streamed(h: Harness, surface: string, words: string): Promise<Ending> {
  if (surface === 'chat') {
    const s = parseStream(
      await (await post(h, '/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: words }] })).text(),
    );
    assert.equal(s.doneCount, 1);
    return {
      text: s.text,
      message: s.error?.message as string | undefined,
      guardrail: s.error?.guardrail as string | undefined,
      finished: s.finish !== null,
    };
  }
  if (surface === 'messages') {
    const frames = (
      await (
        await post(h, '/v1/messages', { model: 'claude', stream: true, max_tokens: 200, messages: [{ role: 'user', content: words }] })
      ).text()
    )
      .slice(0, -2)
      .split('\n\n')
      .map((f) => ({
        event: f.split('\n')[0]!.slice('event: '.length),
        data: JSON.parse(f.split('\n')[1]!.slice('data: '.length)) as Record<string, any>,
      }));
    const error = frames.find((f) => f.event === 'error');
    assert.ok(!error || frames.at(-1) === error, 'nothing after the error event');
    const text = frames
      .filter((f) => f.data.delta?.type === 'text_delta')
      .map((f) => f.data.delta.text as string)
      .join('');
    return {
      text,
      message: error?.data.error.message,
      guardrail: error?.data.error.guardrail,
      finished: frames.some((f) => f.event === 'message_stop'),
    };
  }
  if (surface === 'responses') {
    const frames = (await (await post(h, '/v1/responses', { model: 'claude', stream: true, input: words })).text())
      .slice(0, -2)
      .split('\n\n')
      .map((f) => JSON.parse(f.split('\n')[1]!.slice('data: '.length)) as Record<string, any>);
    const error = frames.find((f) => f.type === 'error');
    if (error) assert.equal(frames.at(-1)!.type, 'response.failed', 'response.failed ends a failed stream');
    const text = frames
      .filter((f) => f.type === 'response.output_text.delta')
      .map((f) => f.delta as string)
      .join('');
    return { text, message: error?.message, guardrail: error?.guardrail, finished: frames.some((f) => f.type === 'response.completed') };
  }
  const res = await post(h, '/model/nova/converse-stream', { messages: [{ role: 'user', content: [{ text: words }] }] });
  const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
  const last = frames.at(-1)!;
  const exception = last.headers[':message-type'] === 'exception' ? (last.payload as { message: string; guardrail?: string }) : undefined;
  const text = frames.map((f) => (f.payload as { delta?: { text?: string } }).delta?.text ?? '').join('');
  return {
    text,
    message: exception?.message,
    guardrail: exception?.guardrail,
    finished: frames.some((f) => f.headers[':event-type'] === 'messageStop'),
  };
}

const STREAMING = ['chat', 'messages', 'responses', 'native'];
const ANSWER = `${'A calm and harmless opening sentence. '.repeat(8)}Then the nightingale sings. And more after it.`;

for (const mode of ['sync', 'async'] as const) {
  test(`guardrails: an output block mid-stream (${mode}) is each surface's in-band error, never a finish`, async () => {
    const interval = 60;
    const h = await rig({
      name: 'no-birds',
      type: 'regex',
      patterns: ['(?i)nightingale'],
      stages: ['output'],
      stream_mode: mode,
      interval_chars: interval,
    });
    try {
      const cut = ANSWER.indexOf('nightingale');
      for (const surface of STREAMING) {
        h.emu.script({ type: 'text', text: ANSWER });
        const ending = await streamed(h, surface, 'sing');
        assert.equal(ending.finished, false, `${surface}: no finish after a block`);
        assert.match(ending.message ?? '', /Violated guardrail policy/, surface);
        assert.equal(ending.guardrail, 'no-birds', surface);
        assert.ok(ANSWER.startsWith(ending.text), `${surface}: what arrived is a prefix of the answer`);
        if (mode === 'sync') assert.ok(!ending.text.includes('nightingale'), `${surface}: sync lets nothing unchecked through`);
        else assert.ok(ending.text.length <= cut + 'nightingale'.length + interval, `${surface}: async leaks at most interval_chars`);
      }
    } finally {
      await h.close();
    }
  });
}

test('guardrails: a sync regex mask reaches every streaming surface masked, and the stream finishes', async () => {
  const h = await rig({
    name: 'mask-ids',
    type: 'regex',
    patterns: ['\\d{3}-\\d{2}-\\d{4}'],
    action: 'mask',
    stages: ['output'],
    stream_mode: 'sync',
    interval_chars: 30,
  });
  try {
    for (const surface of STREAMING) {
      h.emu.script({ type: 'text', text: 'The id is 123-45-6789, keep it safe.' });
      const ending = await streamed(h, surface, 'id?');
      assert.equal(ending.finished, true, surface);
      assert.equal(ending.message, undefined, surface);
      assert.ok(!ending.text.includes('123-45-6789'), `${surface}: ${ending.text}`);
      assert.match(ending.text, /^The id is .+, keep it safe\.$/, surface);
    }
  } finally {
    await h.close();
  }
});

test('messages: an idle stream gets ping events (never SSE comments) every heartbeat_ms', async () => {
  const h = await startHarness({ streaming: { heartbeat_ms: 40 }, models: [{ name: 'claude', model: CLAUDE, region: 'us-east-1' }] });
  try {
    h.emu.script({ type: 'text', text: 'slow words arriving', deltas: ['slow ', 'words ', 'arriving'], frameDelayMs: 150 });
    const sse = await (
      await post(h, '/v1/messages', { model: 'claude', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
    ).text();
    assert.ok(!sse.includes('\n:') && !sse.startsWith(':'), 'no SSE comment lines');
    const events = sse
      .slice(0, -2)
      .split('\n\n')
      .map((f) => f.split('\n')[0]);
    const pings = sse.split('event: ping\ndata: {"type":"ping"}\n\n').length - 1;
    assert.ok(pings >= 2, `pings: ${pings}`);
    assert.equal(events[0], 'event: message_start');
    assert.equal(events.at(-1), 'event: message_stop');
  } finally {
    await h.close();
  }
});
