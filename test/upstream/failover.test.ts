import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { SidecarError } from '../../src/errors.ts';
import { Breaker, Failover, fallbackReason } from '../../src/upstream/failover.ts';
import { ConnectionSlots } from '../../src/upstream/slots.ts';
import { classifyAnswer, classifyNetworkError } from '../../src/upstream/bedrock-errors.ts';

const answer = (status: number, errorType: string): SidecarError => classifyAnswer({ status, errorType, message: 'x' });

test('fallbackReason: throttling, 5xx, ModelNotReady, timeouts and connection errors move on; 400s and model failures never', () => {
  assert.equal(fallbackReason(answer(429, 'ThrottlingException'), []), 'throttled');
  assert.equal(fallbackReason(answer(429, 'ModelNotReadyException'), []), 'model_not_ready');
  assert.equal(fallbackReason(answer(503, 'ServiceUnavailableException'), []), 'unavailable');
  assert.equal(fallbackReason(answer(500, 'InternalServerException'), []), 'unavailable');
  assert.equal(fallbackReason(classifyNetworkError({ code: 'UND_ERR_CONNECT_TIMEOUT', message: 't' }), []), 'timeout');
  assert.equal(fallbackReason(classifyNetworkError({ code: 'UND_ERR_HEADERS_TIMEOUT', message: 't' }), []), 'timeout');
  assert.equal(fallbackReason(classifyNetworkError({ code: 'ECONNREFUSED', message: 'r' }), []), 'connection');
  assert.equal(fallbackReason(answer(400, 'ValidationException'), []), undefined);
  assert.equal(fallbackReason(answer(400, 'ServiceQuotaExceededException'), []), undefined);
  assert.equal(fallbackReason(answer(424, 'ModelErrorException'), []), undefined);
  assert.equal(fallbackReason(answer(408, 'ModelTimeoutException'), []), undefined);
  assert.equal(fallbackReason(answer(403, 'AccessDeniedException'), []), undefined);
  assert.equal(fallbackReason(answer(403, 'AccessDeniedException'), ['access_denied']), 'access_denied');
  assert.equal(fallbackReason(new SidecarError('unavailable', 'cancelled', { upstreamCode: 'ABORTED' }), []), undefined);
  // A request undici refuses to send never reached Bedrock: not a failure of it or of the network.
  const refused = classifyNetworkError({ code: 'UND_ERR_INVALID_ARG', message: 'invalid x-amzn-bedrock-projectidentifier header' });
  assert.equal(fallbackReason(refused, []), undefined);
  assert.equal(refused.type, 'internal_error');
});

test('breaker: opens after N consecutive failures, one probe after the cool-down, which doubles on a failed probe', () => {
  const changes: boolean[] = [];
  const b = new Breaker({ failures: 2, cooldownMs: 100, maxCooldownMs: 300 }, (open) => changes.push(open));
  const fail = answer(503, 'ServiceUnavailableException');
  assert.equal(b.allow(0), true);
  b.failure(0, fail);
  assert.equal(b.allow(1), true, 'one failure is not enough');
  b.failure(1, fail);
  assert.deepEqual(changes, [true]);
  assert.equal(b.allow(50), false);
  assert.equal(b.allow(101), true, 'the probe');
  assert.equal(b.allow(102), false, 'only one probe at a time');
  b.failure(102, fail);
  assert.equal(b.allow(250), false, 'cool-down doubled to 200');
  assert.equal(b.allow(302), true);
  b.failure(302, fail);
  assert.equal(b.allow(302 + 299), false, 'capped at 300');
  assert.equal(b.allow(302 + 300), true);
  b.success();
  assert.deepEqual(changes, [true, false]);
  assert.equal(b.allow(603), true);
  b.failure(603, fail);
  assert.equal(b.allow(604), true, 'the count starts afresh after a success');
});

test('breaker: a probe that ends without a verdict hands the probe to the next request', () => {
  const b = new Breaker({ failures: 1, cooldownMs: 10, maxCooldownMs: 10 }, () => undefined);
  b.failure(0, answer(429, 'ThrottlingException'));
  assert.equal(b.allow(10), true);
  b.release();
  assert.equal(b.allow(11), true);
});

test("failover: with every target skipped as unable to serve, the first target's own error is the answer", async () => {
  const failover = new Failover(
    { failoverBudgetMs: 1000, breakerFailures: 5, breakerCooldownMs: 100, breakerMaxCooldownMs: 1000 },
    { onFallback: () => undefined, onSkip: () => undefined, onBreaker: () => undefined },
  );
  const chain = [
    { name: 'a', alias: { name: 'a', fallbackOn: [] } },
    { name: 'b', alias: { name: 'b', fallbackOn: [] } },
  ];
  await assert.rejects(
    failover.run({
      chain,
      signal: new AbortController().signal,
      prepare: (t) => {
        throw new SidecarError('unsupported_parameter', `${t.name} has no tools`);
      },
      send: async () => 'never',
    }),
    /a has no tools/,
  );
});

test("failover: a run that succeeded leaves no listener on the request's signal; the signal it gave the target still follows the client", async () => {
  const failover = new Failover(
    { failoverBudgetMs: 1000, breakerFailures: 5, breakerCooldownMs: 100, breakerMaxCooldownMs: 1000 },
    { onFallback: () => undefined, onSkip: () => undefined, onBreaker: () => undefined },
  );
  const lone = [{ name: 'a', alias: { name: 'a', fallbackOn: [] } }];
  const chain = [...lone, { name: 'b', alias: { name: 'b', fallbackOn: [] } }];
  for (const targets of [lone, chain]) {
    const client = new AbortController();
    const result = await failover.run({
      chain: targets,
      signal: client.signal,
      prepare: (t) => t.name,
      send: async (_p, _t, signal) => signal,
    });
    assert.equal(getEventListeners(client.signal, 'abort').length, 0, `${targets.length} target(s): no listener left behind`);
    assert.equal(result.value.aborted, false);
    client.abort();
    assert.equal(result.value.aborted, true, `${targets.length} target(s): the body's signal is aborted with the client`);
  }
});

test("failover: a spent budget aborts the attempt in flight, not the client's signal", async () => {
  const failover = new Failover(
    { failoverBudgetMs: 20, breakerFailures: 5, breakerCooldownMs: 100, breakerMaxCooldownMs: 1000 },
    { onFallback: () => undefined, onSkip: () => undefined, onBreaker: () => undefined },
  );
  const chain = [
    { name: 'a', alias: { name: 'a', fallbackOn: [] } },
    { name: 'b', alias: { name: 'b', fallbackOn: [] } },
  ];
  const client = new AbortController();
  await assert.rejects(
    failover.run({
      chain,
      signal: client.signal,
      prepare: (t) => t.name,
      // A call that never answers (its timer stands for the socket that keeps a real process alive).
      send: (_p, _t, signal) =>
        new Promise((_resolve, reject) => {
          const pending = setTimeout(() => undefined, 10_000);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(pending);
              reject(new SidecarError('unavailable', 'aborted', { upstreamCode: 'ABORTED' }));
            },
            { once: true },
          );
        }),
    }),
    /failover_budget_ms \(20 ms\); tried a/,
  );
  assert.equal(client.signal.aborted, false);
});

test('slots: at most N per origin; a waiter gets the slot when one is released, or an overloaded error after the timeout', async () => {
  const slots = new ConnectionSlots(1, 50);
  const signal = new AbortController().signal;
  const first = slots.acquire('http://a', signal);
  assert.equal(typeof first, 'function');
  const other = slots.acquire('http://b', signal);
  assert.equal(typeof other, 'function', 'another origin has its own slots');
  const waiting = slots.acquire('http://a', signal) as Promise<() => void>;
  assert.equal(slots.waiting, 1);
  (first as () => void)();
  const second = await waiting;
  const late = slots.acquire('http://a', signal) as Promise<() => void>;
  await assert.rejects(late, (e: SidecarError) => e.type === 'overloaded' && /queue_timeout_ms \(50 ms/.test(e.message));
  second();
  second(); // releasing twice frees one slot only
  const again = slots.acquire('http://a', signal);
  assert.equal(typeof again, 'function');
  const blocked = slots.acquire('http://a', signal);
  assert.notEqual(typeof blocked, 'function');
  await assert.rejects(blocked as Promise<unknown>);
});
