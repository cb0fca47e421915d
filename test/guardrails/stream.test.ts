import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.ts';
import type { GuardrailConfig } from '../../src/config/schema.ts';
import { createRegexGuardrail } from '../../src/guardrails/regex.ts';
import { GuardrailRecorder } from '../../src/guardrails/recorder.ts';
import { StreamGuard } from '../../src/guardrails/stream.ts';
import type { Segment, TextGuardrail, Verdict } from '../../src/guardrails/types.ts';
import type { StreamEvent } from '../../src/pipeline/events.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { Metrics } from '../../src/ops/metrics.ts';

function config(name: string, extra: Record<string, unknown> = {}): GuardrailConfig {
  return validateConfig({ guardrails: [{ name, type: 'regex', patterns: ['x'], ...extra }] }).guardrails[0]!;
}

interface Asked {
  segments: Segment[];
  signal: AbortSignal;
}

/** A guardrail that blocks when its window holds `term`; answers after `delayMs` (0: synchronously). */
function blockingOn(term: string, name: string, extra: Record<string, unknown> = {}, delayMs = 0): TextGuardrail & { asked: Asked[] } {
  const asked: Asked[] = [];
  return {
    config: config(name, extra),
    contextChars: 16,
    asked,
    check(_source, segments, signal) {
      asked.push({ segments: [...segments], signal });
      const hit = segments.some((s) => (s.context + s.text).includes(term));
      const verdict: Verdict = hit ? { kind: 'block', reason: 'term' } : { kind: 'pass' };
      if (delayMs === 0) return verdict;
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(verdict), delayMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve({ kind: 'cancelled' });
          },
          { once: true },
        );
      });
    },
  };
}

function recorder(): GuardrailRecorder {
  return new GuardrailRecorder(new Metrics({ processMetrics: false }), createLogger('silent'), false, 'chat');
}

function guard(options: { sync?: TextGuardrail[]; async?: TextGuardrail[]; native?: GuardrailConfig }): StreamGuard {
  return new StreamGuard({ sync: options.sync ?? [], async: options.async ?? [], native: options.native, recorder: recorder() });
}

const text = (t: string): StreamEvent => ({ kind: 'text', text: t });
const finish: StreamEvent = { kind: 'finish', reason: 'stop', upstreamReason: 'end_turn' };
const usage: StreamEvent = { kind: 'usage', usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 } };

/** Pushes each batch in turn (awaiting, as the stage does), then ends; returns what came out of each call. */
async function feed(g: StreamGuard, batches: StreamEvent[][]): Promise<StreamEvent[][]> {
  const out: StreamEvent[][] = [];
  for (const batch of batches) out.push(await g.push(batch));
  out.push(await g.end());
  return out;
}

/** The result of a push that must have been answered synchronously (regex checks never wait). */
function now(result: StreamEvent[] | Promise<StreamEvent[]>): StreamEvent[] {
  assert.ok(Array.isArray(result), 'answered synchronously');
  return result;
}

function textOf(events: readonly StreamEvent[]): string {
  return events.map((e) => (e.kind === 'text' ? e.text : '')).join('');
}

function lastError(events: readonly StreamEvent[]): StreamEvent | undefined {
  return events.at(-1)?.kind === 'error' ? events.at(-1) : undefined;
}

test('stream guard, sync: text is held until interval_chars, judged, then released in order', async () => {
  const g = blockingOn('never', 'corp', { interval_chars: 10 });
  const sg = guard({ sync: [g] });
  assert.deepEqual(sg.push([text('abc')]), []);
  assert.deepEqual(sg.push([text('defgh')]), []);
  assert.deepEqual(sg.push([text('ij'), text('k')]), [text('abc'), text('defgh'), text('ij')]);
  assert.deepEqual(
    g.asked.map((a) => a.segments),
    [[{ context: '', text: 'abcdefghij' }]],
  );
  assert.deepEqual(sg.push([finish, usage]), [text('k'), finish, usage]);
  assert.deepEqual(g.asked[1]!.segments, [{ context: 'abcdefghij', text: 'k' }], 'the next check carries context');
});

test('stream guard, sync: at most interval_chars plus one delta is ever held', async () => {
  const interval = 37;
  const sg = guard({ sync: [blockingOn('never', 'corp', { interval_chars: interval }, 1)] });
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let sent = 0;
  let released = 0;
  for (let i = 0; i < 300; i++) {
    const delta = 'x'.repeat(1 + rand(20));
    sent += delta.length;
    released += textOf(await sg.push([text(delta)])).length;
    assert.ok(sent - released < interval + delta.length, `held ${sent - released} chars after a ${delta.length}-char delta`);
  }
  released += textOf(await sg.push([finish])).length;
  assert.equal(released, sent);
});

test('stream guard, sync: a block releases nothing of the failing window and ends with the error', async () => {
  const g = blockingOn('SECRET', 'corp', { interval_chars: 8 }, 2);
  const out = (
    await feed(guard({ sync: [g] }), [[text('hello ')], [text('wor')], [text('ld SEC')], [text('RET more')], [text('tail')], [finish]])
  ).flat();
  // Checks at 9 ("hello wor") and at 14 ("ld SECRET more", with "hello wor" as context): the second blocks.
  assert.equal(textOf(out), 'hello wor', 'the window with the match never went out');
  const error = lastError(out);
  assert.ok(error?.kind === 'error');
  assert.equal(error.error.type, 'guardrail_violation');
  assert.equal(error.error.message, 'Violated guardrail policy');
  assert.equal(error.error.guardrail, 'corp');
  assert.equal(out.filter((e) => e.kind === 'error').length, 1);
});

test('stream guard, sync: a mask rewrites the channel text where it started, other events keep their place', () => {
  const masker: TextGuardrail = {
    config: config('pii', { action: 'mask' }),
    contextChars: 8,
    check: (_s, segments) => ({ kind: 'mask', texts: segments.map((s) => s.text.replaceAll('Alice', '{NAME}')), reason: 'pii' }),
  };
  const sg = guard({ sync: [masker] });
  const out = now(sg.push([text('Hi Al'), { kind: 'reasoning', text: 'thinking' }, text('ice!'), finish]));
  assert.deepEqual(out, [text('Hi {NAME}!'), { kind: 'reasoning', text: 'thinking' }, finish]);
});

test('stream guard, sync: regex block exactly on an interval_chars boundary', () => {
  const regex = (interval: number): TextGuardrail =>
    createRegexGuardrail(config('no-secrets', { patterns: ['SECRET'], interval_chars: interval }));
  // The match ends exactly at the 10th character: the first check sees it, nothing goes out.
  let out = now(guard({ sync: [regex(10)] }).push([text('abcd'), text('SECRET'), text('tail'), finish]));
  assert.deepEqual(
    out.map((e) => e.kind),
    ['error'],
  );
  // The match starts exactly at the boundary: the first 10 characters went out, then the block.
  out = now(guard({ sync: [regex(10)] }).push([text('abcdefghij'), text('SECRET'), text('0123456789'), finish]));
  assert.equal(textOf(out), 'abcdefghij');
  assert.equal(out.at(-1)!.kind, 'error');
  // The match straddles the boundary: the passed beginning ("SEC") is out, the match itself never is.
  out = now(guard({ sync: [regex(10)] }).push([text('abcdefgSEC'), text('RET and more'), finish]));
  assert.equal(textOf(out), 'abcdefgSEC');
  assert.equal(out.at(-1)!.kind, 'error');
});

test('stream guard, sync: a boundary inside a multi-byte character never splits it', () => {
  const g = createRegexGuardrail(config('no-secrets', { patterns: ['🚫'], interval_chars: 3 }));
  // "ab" + "😀" is 3 code points (4 UTF-16 units): the check runs after the emoji, which is released whole.
  const out = now(guard({ sync: [g] }).push([text('ab'), text('😀'), text('c🚫d'), finish]));
  assert.equal(textOf(out), 'ab😀');
  assert.equal(out.at(-1)!.kind, 'error');
  assert.ok(!textOf(out).includes('\ufffd'));
  // A blocked term that is itself multi-byte, cut across deltas by the model.
  const cut = guard({ sync: [createRegexGuardrail(config('no-secrets', { patterns: ['日本'], interval_chars: 2 }))] });
  const out2 = now(cut.push([text('x日'), text('本y'), finish]));
  // "x日" passed on its own and went out; the straddling match is found with it as context, before "本" goes.
  assert.equal(textOf(out2), 'x日');
  assert.equal(out2.at(-1)!.kind, 'error');
});

test('stream guard: reasoning and each tool call are judged as channels of their own', () => {
  const g = blockingOn('DROP TABLE', 'sql', { interval_chars: 1000 });
  const sg = guard({ sync: [g] });
  const out = now(
    sg.push([
      { kind: 'reasoning', text: 'let me think' },
      text('Running it.'),
      { kind: 'tool_start', index: 0, id: 't1', name: 'sql' },
      { kind: 'tool_delta', index: 0, arguments: '{"q":"DROP ' },
      { kind: 'tool_delta', index: 0, arguments: 'TABLE x"}' },
      finish,
    ]),
  );
  assert.deepEqual(
    out.map((e) => e.kind),
    ['error'],
  );
  assert.deepEqual(
    g.asked[0]!.segments.map((s) => s.text),
    ['let me think', 'Running it.', '{"q":"DROP TABLE x"}'],
  );
});

test("stream guard: a Claude compaction's summary is judged as a channel of its own: blocked, or masked with its encrypted_content kept", () => {
  const compaction = (content: string): StreamEvent => ({ kind: 'compaction', content, encryptedContent: 'opaque' });
  const blocked = now(
    guard({ sync: [blockingOn('DROP TABLE', 'sql', { interval_chars: 1000 })] }).push([
      compaction('They ran DROP TABLE x.'),
      text('ok'),
      finish,
    ]),
  );
  assert.deepEqual(
    blocked.map((e) => e.kind),
    ['error'],
  );

  const masker: TextGuardrail = {
    config: config('pii', { interval_chars: 1000 }),
    contextChars: 0,
    check: (_source, segments) => ({ kind: 'mask', reason: 'phone', texts: segments.map((s) => s.text.replace('555-0100', '{PHONE}')) }),
  };
  const masked = now(guard({ sync: [masker] }).push([compaction('Call 555-0100 back.'), text('ok'), finish]));
  assert.deepEqual(masked[0], { kind: 'compaction', content: 'Call {PHONE} back.', encryptedContent: 'opaque' });
});

test('stream guard, async: a compaction goes out whole, once every check (its own included) passed', async () => {
  const long = `Summary: ${'s'.repeat(300)}`;
  const passing = blockingOn('never', 'corp', { interval_chars: 10, stream_mode: 'async' }, 2);
  const out = (await feed(guard({ async: [passing] }), [[text('hello')], [{ kind: 'compaction', content: long }], [finish]])).flat();
  assert.deepEqual(
    out.filter((e) => e.kind === 'compaction'),
    [{ kind: 'compaction', content: long }],
    'one block, never cut into pieces',
  );
  assert.ok(
    passing.asked.some((a) => a.segments.some((s) => s.text === long)),
    'the summary judged whole',
  );

  const blocking = blockingOn('SECRET', 'corp', { interval_chars: 10, stream_mode: 'async' }, 2);
  const cut = (
    await feed(guard({ async: [blocking] }), [[{ kind: 'compaction', content: `a SECRET ${'s'.repeat(50)}` }], [finish]])
  ).flat();
  assert.deepEqual(
    cut.map((e) => e.kind),
    ['error'],
    'a blocked summary never goes out',
  );
});

test('stream guard, async: text flows at once; the bound waits for the check in flight', async () => {
  const g = blockingOn('never', 'corp', { interval_chars: 10, stream_mode: 'async' }, 20);
  const sg = guard({ async: [g] });
  assert.deepEqual(sg.push([text('0123456789')]), [text('0123456789')], 'released before any check');
  assert.equal(g.asked.length, 1, 'a check started at interval_chars');
  const next = sg.push([text('abc')]);
  assert.ok(next instanceof Promise, '10 unchecked characters are out: the next delta waits');
  assert.deepEqual(await next, [text('abc')]);
  assert.deepEqual(await sg.push([finish]), [finish]);
  assert.deepEqual(
    g.asked.map((a) => a.segments[0]!.text),
    ['0123456789', 'abc'],
  );
});

test('stream guard, async: a block ends the stream; text after the last passed check may have gone out', async () => {
  const g = blockingOn('SECRET', 'corp', { interval_chars: 10, stream_mode: 'async' }, 5);
  const out = (await feed(guard({ async: [g] }), [[text('abcdSECRET')], [text('more text')], [text('and more')], [finish]])).flat();
  assert.equal(textOf(out), 'abcdSECRET');
  assert.equal(out.at(-1)!.kind, 'error');
});

test('stream guard, async: a delta longer than the room left goes out in pieces, each after the check before it passed', async () => {
  // One 5007-character delta with the blocked term at its start: only the first interval_chars may go out.
  const blocked = blockingOn('BADTERM', 'corp', { interval_chars: 100, stream_mode: 'async' }, 5);
  const cut = (await feed(guard({ async: [blocked] }), [[text(`BADTERM${'b'.repeat(5000)}`)], [finish]])).flat();
  assert.equal(textOf(cut), `BADTERM${'b'.repeat(93)}`, 'no more than interval_chars past the last passed check (none)');
  assert.equal(cut.at(-1)!.kind, 'error');

  // Text that passes comes out whole and in order. A delta that does not fit waits for the check of the
  // text before it; one longer than interval_chars goes out in pieces of interval_chars, never cut inside
  // a surrogate pair (the emoji is one character), each character judged exactly once.
  const passing = blockingOn('never', 'corp', { interval_chars: 10, stream_mode: 'async' }, 2);
  const long = `0123456789abcdefghi😀${'x'.repeat(15)}`;
  const out = (await feed(guard({ async: [passing] }), [[text('12345')], [text(long)], [finish]])).flat();
  assert.equal(textOf(out), `12345${long}`);
  const pieces = out.filter((e) => e.kind === 'text').map((e) => (e as { text: string }).text);
  assert.deepEqual(pieces, ['12345', '0123456789', 'abcdefghi😀', 'xxxxxxxxxx', 'xxxxx']);
  assert.deepEqual(
    passing.asked.map((a) => a.segments[0]!.text),
    pieces,
    'each piece judged once, in order',
  );
});

test('stream guard, async: a block found while idle is delivered through onInterrupt', async () => {
  const g = blockingOn('SECRET', 'corp', { interval_chars: 6, stream_mode: 'async' }, 5);
  const sg = guard({ async: [g] });
  const interrupted: StreamEvent[][] = [];
  sg.onInterrupt((events) => interrupted.push(events));
  assert.deepEqual(sg.push([text('SECRET')]), [text('SECRET')]);
  // Nothing else is pushed: the block can only arrive through onInterrupt (polled, not a fixed 30 ms after a
  // 5 ms check: on a loaded machine the interrupt may take its turn later).
  const deadline = Date.now() + 10_000;
  while (interrupted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(interrupted.length, 1);
  assert.equal(interrupted[0]![0]!.kind, 'error');
  assert.deepEqual(await sg.push([text('late')]), [], 'nothing after the error');
});

test('stream guard, async: the finish waits for every check; a mask answer is a block', async () => {
  const masker: TextGuardrail = {
    config: config('pii', { stream_mode: 'async', interval_chars: 100 }),
    contextChars: 0,
    check: async (_s, segments) => ({ kind: 'mask', texts: segments.map(() => '{NAME}'), reason: 'pii' }),
  };
  const out = await guard({ async: [masker] }).push([text('Alice'), finish]);
  assert.deepEqual(
    out.map((e) => e.kind),
    ['text', 'error'],
  );
});

test('stream guard: sync and async guardrails together — async ones judge what sync ones released', async () => {
  const s = blockingOn('never', 'sync-one', { interval_chars: 5 });
  const a = blockingOn('never', 'async-one', { interval_chars: 5, stream_mode: 'async' }, 1);
  const out = (await feed(guard({ sync: [s], async: [a] }), [[text('abc')], [text('defgh')], [finish]])).flat();
  assert.equal(textOf(out), 'abcdefgh');
  assert.equal(out.at(-1)!.kind, 'finish');
  // Released as two deltas: "abc" is judged before "defgh" would put more than 5 unjudged characters out.
  assert.deepEqual(
    a.asked.map((x) => x.segments[0]),
    [
      { context: '', text: 'abc' },
      { context: 'abc', text: 'defgh' },
    ],
  );
});

test("stream guard, bedrock_native: an intervention in the finish becomes the native guardrail's block", () => {
  const native = validateConfig({ guardrails: [{ name: 'native', type: 'bedrock_native', id: 'gr1', version: '1' }] }).guardrails[0]!;
  const out = now(
    guard({ native }).push([
      text('Sorry.'),
      { kind: 'finish', reason: 'content_filter', upstreamReason: 'guardrail_intervened', guardrailIntervened: true },
      usage,
    ]),
  );
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], text('Sorry.'));
  assert.ok(out[1]!.kind === 'error' && out[1].error.guardrail === 'native');
  // Without a native guardrail attached, the same finish is a plain content_filter finish.
  const plain = now(
    guard({ sync: [blockingOn('never', 'corp')] }).push([
      { kind: 'finish', reason: 'content_filter', upstreamReason: 'guardrail_intervened', guardrailIntervened: true },
    ]),
  );
  assert.deepEqual(
    plain.map((e) => e.kind),
    ['finish'],
  );
});

test('stream guard: an upstream error passes through and drops the text that was never judged', () => {
  const sg = guard({ sync: [blockingOn('never', 'corp', { interval_chars: 100 })] });
  const upstream: StreamEvent = { kind: 'error', error: Object.assign(new Error('throttled'), { name: 'SidecarError' }) as never };
  assert.deepEqual(sg.push([text('partial'), upstream, text('x')]), [upstream]);
  assert.deepEqual(sg.push([text('more')]), []);
});

test('stream guard: abort() cancels the checks in flight', async () => {
  const g = blockingOn('never', 'corp', { interval_chars: 3 }, 10_000);
  const sg = guard({ sync: [g] });
  const pending = sg.push([text('abcdef')]);
  assert.ok(pending instanceof Promise);
  sg.abort();
  assert.equal(g.asked[0]!.signal.aborted, true);
  assert.deepEqual(await pending, []);
});
