/**
 * Failover for embeddings (docs/contract.md#failover-and-overload): the whole request moves to the next
 * alias of the chain (never single batches, so an answer never mixes two models' vectors), signed for the
 * fallback's region; a fallback that cannot embed is skipped; a 400 never fails over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/index.ts';
import { deterministicVector } from '../../src/emulator/embeddings.ts';
import { CLAUDE_INVOKE, startHarness, type Harness, withSecondRegion } from '../helpers/harness.ts';

function withRig(primary: Record<string, unknown>, run: (h: Harness, west: Emulator) => Promise<void>): Promise<void> {
  return withSecondRegion(
    (westUrl) => ({
      upstream: { max_attempts: 1 },
      models: [
        { name: 'cohere-east', model: 'bedrock/invoke/cohere.embed-v4:0', region: 'us-east-1', fallbacks: ['cohere-west'], ...primary },
        { name: 'cohere-west', model: 'bedrock/invoke/cohere.embed-v4:0', region: 'us-west-2', endpoint: westUrl },
        CLAUDE_INVOKE,
      ],
    }),
    run,
  );
}

const post = (h: Harness, body: unknown): Promise<Response> =>
  fetch(`${h.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify(body) });

test('embeddings failover: a throttled primary moves the whole request to its fallback, signed for its region', () =>
  withRig({}, async (h, west) => {
    h.emu.setBehavior({ kind: 'throttle' });
    const input = Array.from({ length: 100 }, (_, i) => `text ${i}`);
    const res = await post(h, { model: 'cohere-east', input, encoding_format: 'float' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sidecar-served-by'), 'cohere-west');
    const body = (await res.json()) as { model: string; data: Array<{ embedding: number[] }> };
    assert.equal(body.model, 'cohere-west');
    assert.deepEqual(body.data[99]!.embedding, deterministicVector('cohere-v4', 'text 99', 1536));
    assert.equal(west.requests.length, 2, 'both batches went to the fallback');
    for (const r of west.requests) assert.match(String(r.headers.authorization), /\/us-west-2\/bedrock\/aws4_request/);
    const line = h.logs.filter((l) => l.msg === 'request completed').at(-1)!;
    assert.equal(line.surface, 'embeddings');
    assert.equal(line.alias, 'cohere-east');
    assert.equal(line.servedBy, 'cohere-west');
  }));

test('embeddings failover: a fallback that cannot embed is skipped', () =>
  withRig({ fallbacks: ['claude-invoke', 'cohere-west'] }, async (h, west) => {
    h.emu.setBehavior({ kind: 'throttle' });
    const res = await post(h, { model: 'cohere-east', input: 'x' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-sidecar-served-by'), 'cohere-west');
    assert.equal(west.requests.length, 1);
    assert.ok(!h.emu.requests.some((r) => String(r.modelId).includes('claude')), 'the chat model was never called');
  }));

test('embeddings failover: a 400 from Bedrock never fails over', () =>
  withRig({}, async (h, west) => {
    h.emu.script({ type: 'error', status: 400, errorType: 'ValidationException', message: 'too long' });
    const res = await post(h, { model: 'cohere-east', input: 'x' });
    assert.equal(res.status, 400);
    assert.equal(west.requests.length, 0);
  }));

test('embeddings overload: past server.max_inflight an embeddings request is a 503 overloaded with retry-after, at once', async () => {
  const h = await startHarness({
    server: { max_inflight: 1 },
    models: [{ name: 'titan', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' }],
  });
  try {
    h.emu.script({ type: 'delay', ms: 10_000, then: { type: 'text', text: '' } });
    const controller = new AbortController();
    const first = post2(h, controller.signal);
    const deadline = Date.now() + 5_000;
    while (h.emu.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const second = await post(h, { model: 'titan', input: 'x' });
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('retry-after'), '1');
    assert.equal(((await second.json()) as { error: { type: string } }).error.type, 'overloaded');
    controller.abort();
    await first;
  } finally {
    await h.close();
  }
});

function post2(h: Harness, signal: AbortSignal): Promise<unknown> {
  return fetch(`${h.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'titan', input: 'slow' }), signal }).catch(
    () => undefined,
  );
}
