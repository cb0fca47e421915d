/**
 * Failover and overload end to end (docs/contract.md#failover-and-overload): real sockets, one emulator
 * per region, each with its own standing behaviour (throttle here, serve there, slow, down).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/index.ts';
import { chat, parseStream, startHarness, type Harness, type HarnessOptions } from '../helpers/harness.ts';
import { validateConfig } from '../../src/config/load.ts';
import { gate, startTestEmulator, withEmulator } from '../helpers/emulator.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const hi = [{ role: 'user', content: 'hi' }];

interface Rig {
  h: Harness;
  west: Emulator;
  close(): Promise<void>;
}

/** `primary` on the harness's emulator (us-east-1), `secondary` on a second one playing us-west-2. */
async function rig(
  config: Record<string, unknown> = {},
  extraModels: Array<Record<string, unknown>> = [],
  primary: Record<string, unknown> = {},
  options: HarnessOptions = {},
): Promise<Rig> {
  const west = await startTestEmulator();
  const models = [
    { name: 'primary', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1', fallbacks: ['secondary'], ...primary },
    { name: 'secondary', model: `bedrock/invoke/${CLAUDE}`, region: 'us-west-2', endpoint: west.url },
    ...extraModels,
  ];
  let h: Harness;
  try {
    h = await startHarness({ upstream: { max_attempts: 1 }, ...config, models }, options);
  } catch (error) {
    await west.close();
    throw error;
  }
  return {
    h,
    west,
    close: async () => {
      await h.close();
      await west.close();
    },
  };
}

async function withRig(
  config: Record<string, unknown>,
  run: (r: Rig) => Promise<void>,
  extraModels: Array<Record<string, unknown>> = [],
  primary: Record<string, unknown> = {},
  options: HarnessOptions = {},
): Promise<void> {
  const r = await rig(config, extraModels, primary, options);
  try {
    await run(r);
  } finally {
    await r.close();
  }
}

async function metric(h: Harness, name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

function requestLines(h: Harness): Array<Record<string, unknown>> {
  return h.logs.filter((l) => l.msg === 'request completed');
}

test('failover: a throttled primary moves the request to its fallback, which answers signed for its own region', () =>
  withRig({}, async ({ h, west }) => {
    h.emu.setBehavior({ kind: 'throttle' });
    west.script({ type: 'text', text: 'from the west' });
    const res = await chat(h, { model: 'primary', stream: true, messages: hi });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sidecar-served-by'), 'secondary');
    const s = parseStream(await res.text());
    assert.equal(s.text, 'from the west');
    assert.equal(s.doneCount, 1);
    assert.equal(h.emu.requests.length, 1, 'the primary was tried once (max_attempts: 1)');
    assert.equal(west.requests.length, 1);
    assert.equal(west.requests[0]!.region, 'us-west-2');
    assert.equal(west.requests[0]!.signature, 'valid');
    assert.equal(await metric(h, 'sidecar_fallbacks_total', 'from="primary",to="secondary",reason="throttled"'), 1);
    const line = requestLines(h).at(-1)!;
    assert.equal(line.alias, 'primary');
    assert.equal(line.servedBy, 'secondary');
  }));

test('failover: an answer served by the requested alias names it, and a 400 never fails over', () =>
  withRig({}, async ({ h, west }) => {
    const ok = await chat(h, { model: 'primary', messages: hi });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-sidecar-served-by'), 'primary');
    h.emu.script({ type: 'error', status: 400, errorType: 'ValidationException', message: 'bad input' });
    const bad = await chat(h, { model: 'primary', messages: hi });
    assert.equal(bad.status, 400);
    assert.equal(west.requests.length, 0);
  }));

test('failover: a stream that has started is never retried elsewhere', () =>
  withRig({}, async ({ h, west }) => {
    h.emu.script({
      type: 'text',
      text: 'part of an answer',
      fault: { afterFrames: 2, kind: 'exception', exceptionType: 'throttlingException' },
    });
    const res = await chat(h, { model: 'primary', stream: true, messages: hi });
    assert.equal(res.status, 200);
    const s = parseStream(await res.text());
    assert.equal(s.error?.type, 'rate_limit_error');
    assert.equal(s.doneCount, 1);
    assert.equal(west.requests.length, 0);
  }));

// The breakers read the sidecar's clock, which this test moves by hand: however slowly a loaded machine runs
// the requests, the cool-down is over exactly when the test says so.
let clock = Date.now();
test('failover: the breaker opens after breaker_failures, skips the target, and closes after a good probe', () =>
  withRig(
    { upstream: { max_attempts: 1, breaker_failures: 2, breaker_cooldown_ms: 150, breaker_max_cooldown_ms: 1000 } },
    async ({ h, west }) => {
      h.emu.setBehavior({ kind: 'unavailable' });
      for (let i = 0; i < 2; i++) {
        const res = await chat(h, { model: 'primary', messages: hi });
        assert.equal(res.headers.get('x-sidecar-served-by'), 'secondary');
      }
      assert.equal(h.emu.requests.length, 2);
      assert.equal(await metric(h, 'sidecar_breaker_open', 'model="primary"'), 1);
      const skipped = await chat(h, { model: 'primary', messages: hi });
      assert.equal(skipped.headers.get('x-sidecar-served-by'), 'secondary');
      assert.equal(h.emu.requests.length, 2, 'an open breaker is not called');
      assert.equal(await metric(h, 'sidecar_fallbacks_total', 'from="primary",to="secondary",reason="breaker_open"'), 1);
      clock += 149;
      const stillOpen = await chat(h, { model: 'primary', messages: hi });
      assert.equal(stillOpen.headers.get('x-sidecar-served-by'), 'secondary', 'within the cool-down the target stays skipped');
      assert.equal(h.emu.requests.length, 2);
      // The cool-down passes and the primary is healthy again: one probe closes the breaker.
      h.emu.setBehavior({ kind: 'serve' });
      clock += 1;
      const probe = await chat(h, { model: 'primary', messages: hi });
      assert.equal(probe.headers.get('x-sidecar-served-by'), 'primary');
      assert.equal(await metric(h, 'sidecar_breaker_open', 'model="primary"'), 0);
      assert.equal(west.requests.length, 4);
    },
    [],
    {},
    { app: { now: () => clock } },
  ));

test('failover: an open breaker with nowhere to go answers at once with retry-after', () =>
  withRig({ upstream: { max_attempts: 1, breaker_failures: 1, breaker_cooldown_ms: 60_000 } }, async ({ h, west }) => {
    west.setBehavior({ kind: 'throttle' });
    h.emu.setBehavior({ kind: 'throttle' });
    const first = await chat(h, { model: 'primary', messages: hi });
    assert.equal(first.status, 429);
    const before = h.emu.requests.length + west.requests.length;
    const started = performance.now();
    const res = await chat(h, { model: 'primary', messages: hi });
    // "At once": not after the cool-down (a minute), however slowly a loaded machine answers.
    assert.ok(performance.now() - started < 20_000);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 1, 'retry-after says when the breaker lets a call through');
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /circuit breaker open/);
    assert.equal(h.emu.requests.length + west.requests.length, before, 'nothing was called');
  }));

test('failover: a fallback that cannot serve the request (no tools) is skipped and the skip logged', () =>
  withRig({}, async ({ h }) => {
    await withEmulator(async (third) => {
      await h.close();
      const r = await startHarness({
        upstream: { max_attempts: 1 },
        models: [
          { name: 'primary', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1', fallbacks: ['titan', 'claude-west'] },
          { name: 'titan', model: 'bedrock/invoke/amazon.titan-text-express-v1', region: 'us-east-1', endpoint: third.url },
          { name: 'claude-west', model: `bedrock/invoke/${CLAUDE}`, region: 'us-west-2', endpoint: third.url },
        ],
      });
      try {
        r.emu.setBehavior({ kind: 'throttle' });
        const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
        const res = await chat(r, { model: 'primary', messages: hi, tools });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-sidecar-served-by'), 'claude-west');
        assert.equal(third.requests.length, 1);
        assert.match(third.requests[0]!.rawPath, /anthropic/);
        const skip = r.logs.find((l) => l.msg === 'fallback skipped');
        assert.equal(skip?.alias, 'titan');
        assert.match(String(skip?.why), /tools/);
      } finally {
        await r.close();
      }
    });
  }));

test('failover: the budget ends a chain of slow targets with one clear error', () =>
  withRig({ upstream: { max_attempts: 1, failover_budget_ms: 1500 } }, async ({ h, west }) => {
    h.emu.setBehavior({ kind: 'slow', ms: 100 });
    west.setBehavior({ kind: 'slow', ms: 60_000 });
    // The primary is slow but within its own first-byte timeout and leaves most of the budget for the
    // secondary (under load 300 ms of budget did not reach it, and the chain ended on the primary); the
    // secondary would take a minute, so only the budget can end the chain.
    h.emu.script({ type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' });
    const started = performance.now();
    const res = await chat(h, { model: 'primary', messages: hi });
    const elapsed = performance.now() - started;
    assert.equal(res.status, 504);
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'upstream_timeout');
    assert.match(body.error.message, /failover_budget_ms \(1500 ms\); tried primary → secondary/);
    assert.ok(elapsed >= 1400 && elapsed < 30_000, `ended by the budget (${Math.round(elapsed)} ms)`);
  }));

test('failover: a fallback that is down (connection dropped) is a connection failure, and the next target serves', () =>
  withRig({}, async ({ h, west }) => {
    h.emu.setBehavior({ kind: 'down' });
    const res = await chat(h, { model: 'primary', stream: true, messages: hi });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sidecar-served-by'), 'secondary');
    assert.equal(parseStream(await res.text()).doneCount, 1);
    assert.equal(west.requests.length, 1);
    assert.ok((await metric(h, 'sidecar_fallbacks_total', 'from="primary",to="secondary",reason="connection"'))! >= 1);
  }));

test("failover: the requested alias's guardrails apply to a fallback's answer", () =>
  withRig(
    { guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['nightingale'], stages: ['output'] }] },
    async ({ h, west }) => {
      h.emu.setBehavior({ kind: 'throttle' });
      west.script({ type: 'text', text: 'the codename is nightingale' });
      const res = await chat(h, { model: 'primary', messages: hi });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { type: string; guardrail: string } };
      assert.equal(body.error.type, 'guardrail_violation');
      assert.equal(body.error.guardrail, 'no-secrets');
    },
    [],
    { guardrails: ['no-secrets'] },
  ));

test("failover: a fallback's own guardrails apply to its answer too, on top of the requested alias's", () =>
  withEmulator(async (west) => {
    const h = await startHarness({
      upstream: { max_attempts: 1 },
      guardrails: [
        { name: 'no-birds', type: 'regex', patterns: ['nightingale'], stages: ['output'] },
        { name: 'no-fish', type: 'regex', patterns: ['herring'], stages: ['output'] },
      ],
      models: [
        { name: 'primary', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1', fallbacks: ['secondary'], guardrails: ['no-birds'] },
        { name: 'secondary', model: `bedrock/invoke/${CLAUDE}`, region: 'us-west-2', endpoint: west.url, guardrails: ['no-fish'] },
      ],
    });
    try {
      h.emu.setBehavior({ kind: 'throttle' });
      // The secondary's own guardrail judges the answer it serves for the primary …
      west.script({ type: 'text', text: 'a red herring' });
      const own = await chat(h, { model: 'primary', messages: hi });
      assert.equal(own.status, 400);
      assert.equal(((await own.json()) as { error: { guardrail: string } }).error.guardrail, 'no-fish');
      // … and the primary's still does.
      west.script({ type: 'text', text: 'the nightingale' });
      const requested = await chat(h, { model: 'primary', stream: true, messages: hi });
      assert.equal(requested.headers.get('x-sidecar-served-by'), 'secondary');
      const s = parseStream(await requested.text());
      assert.equal(s.error?.guardrail, 'no-birds');
      assert.equal(s.doneCount, 1);
      assert.equal(west.requests.length, 2);
    } finally {
      await h.close();
    }
  }));

test('overload: beyond server.max_inflight a request gets 503 overloaded at once; streams in flight are untouched', () =>
  withRig({ server: { max_inflight: 2 } }, async ({ h }) => {
    // Both streams stay in flight until the test opens the gate (paced streams ended first under load, and
    // the third request was served): a 503 now is "at once", a queued request would wait for the gate.
    const held = gate();
    const slow = { type: 'text' as const, text: 'a slow and steady answer', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } };
    h.emu.script(slow, slow);
    const streams = [chat(h, { model: 'primary', stream: true, messages: hi }), chat(h, { model: 'primary', stream: true, messages: hi })];
    const [a, b] = await Promise.all(streams);
    const over = await chat(h, { model: 'primary', messages: hi }, {}, AbortSignal.timeout(20_000)).finally(held.open);
    assert.equal(over.status, 503);
    assert.equal(over.headers.get('retry-after'), '1');
    assert.equal(over.headers.get('x-should-retry'), 'true');
    assert.equal(((await over.json()) as { error: { type: string } }).error.type, 'overloaded');
    for (const res of [a!, b!]) {
      const s = parseStream(await res.text());
      assert.equal(s.text, 'a slow and steady answer');
      assert.equal(s.doneCount, 1);
    }
    // Capacity is back once they are done.
    assert.equal((await chat(h, { model: 'primary', messages: hi })).status, 200);
  }));

test('overload: a request that waits longer than upstream.queue_timeout_ms for a connection gets 503 overloaded with retry-after, on every surface', () =>
  withRig({ upstream: { max_attempts: 1, connections: 1, queue_timeout_ms: 100 } }, async ({ h }) => {
    // The holder keeps the only connection until the test opens the gate (a paced stream could end before
    // the queue timeout on a loaded machine): an answer before that can only be the queue timeout's.
    const held = gate();
    h.emu.script({ type: 'text', text: 'holding the only connection', pause: { afterFrames: 2, until: held.opened, ms: 60_000 } });
    const holder = await chat(h, { model: 'primary', stream: true, messages: hi });
    assert.equal(holder.status, 200);
    const started = performance.now();
    let queued: Response;
    // Every surface's request waits for the same connection, and each is refused in its own shape, with
    // retry-after (docs/contract.md#failover-and-overload).
    const others: Array<[string, unknown, (body: Record<string, any>, res: Response) => void]> = [
      ['/v1/responses', { model: 'primary', input: 'hi' }, (b) => assert.equal(b.error.type, 'overloaded')],
      [
        '/v1/messages',
        { model: 'primary', max_tokens: 10, messages: hi },
        (b) => assert.deepEqual([b.type, b.error.type], ['error', 'overloaded_error']),
      ],
      [
        '/model/primary/invoke',
        { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: hi },
        (b, res) => {
          assert.equal(res.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
          assert.match(b.message as string, /queue_timeout_ms/);
        },
      ],
    ];
    try {
      queued = await chat(h, { model: 'primary', messages: hi }, {}, AbortSignal.timeout(20_000));
      for (const [path, body, check] of others) {
        const res = await fetch(`${h.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        });
        assert.equal(res.status, 503, path);
        assert.equal(res.headers.get('retry-after'), '1', path);
        check((await res.json()) as Record<string, any>, res);
      }
    } finally {
      held.open();
    }
    const waited = performance.now() - started;
    assert.equal(queued.status, 503);
    assert.equal(queued.headers.get('retry-after'), '1');
    assert.equal(queued.headers.get('x-should-retry'), 'true');
    assert.equal(((await queued.json()) as { error: { type: string; message: string } }).error.type, 'overloaded');
    assert.ok(waited >= 90, `waited ${Math.round(waited)} ms`);
    const s = parseStream(await holder.text());
    assert.equal(s.text, 'holding the only connection');
    // The slot is free again once the stream ended.
    assert.equal((await chat(h, { model: 'primary', messages: hi })).status, 200);
  }));

test('config: fallbacks must name defined aliases, not the alias itself; fallback_on takes its two triggers', () => {
  const base = { name: 'a', model: `bedrock/invoke/${CLAUDE}` };
  assert.throws(() => validateConfig({ models: [{ ...base, fallbacks: ['nope'] }] }), /models\[0\]\.fallbacks\[0\].*no alias named "nope"/);
  assert.throws(() => validateConfig({ models: [{ ...base, fallbacks: ['a'] }] }), /alias itself/);
  assert.throws(
    () => validateConfig({ models: [{ ...base, fallback_on: ['bad_request'] }] }),
    /fallback_on\[0\].*access_denied, model_not_ready/,
  );
  const ok = validateConfig({
    models: [
      { ...base, fallbacks: ['b'], fallback_on: ['access_denied'] },
      { name: 'b', model: `bedrock/invoke/${CLAUDE}` },
    ],
  });
  assert.deepEqual(ok.models[0]!.fallbacks, ['b']);
  assert.equal(ok.upstream.failoverBudgetMs, 10_000);
  assert.equal(ok.server.maxInflight, 1024);
});
