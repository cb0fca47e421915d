/**
 * "The metrics of section 11, each with a `surface` label" (docs/contract.md#observability): the guardrail
 * intervention, upstream retry and in-flight metrics say which client protocol they served, as the request,
 * duration, time-to-first-token, chunk and token metrics do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAUDE_INVOKE, withHarness, type Harness } from '../helpers/harness.ts';
import { gate } from '../helpers/emulator.ts';
import { parsePrometheusText, sumOf, valueOf } from './prom-text.ts';

const CONFIG = {
  guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['SECRET'], action: 'block', stages: ['input'] }],
  models: [{ ...CLAUDE_INVOKE, guardrails: ['no-secrets'] }],
};

async function scrape(h: Harness): Promise<ReturnType<typeof parsePrometheusText>> {
  return parsePrometheusText(await (await fetch(`${h.adminUrl}/metrics`)).text());
}

function post(h: Harness, path: string, body: unknown): Promise<Response> {
  return fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test('metrics: a guardrail block on the Messages surface is counted with surface="messages"', () =>
  withHarness(CONFIG, async (h) => {
    const res = await post(h, '/v1/messages', {
      model: CLAUDE_INVOKE.name,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'the SECRET is out' }],
    });
    assert.equal(res.status, 400);
    const m = await scrape(h);
    assert.equal(valueOf(m, 'sidecar_guardrail_interventions_total', { guardrail: 'no-secrets', action: 'block', surface: 'messages' }), 1);
  }));

test('metrics: a retried Bedrock call of a Responses request is counted with surface="responses"', () =>
  withHarness(CONFIG, async (h) => {
    h.emu.script({ type: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' });
    h.emu.script({ type: 'text', text: 'hello' });
    const res = await post(h, '/v1/responses', { model: CLAUDE_INVOKE.name, input: 'hi' });
    assert.equal(res.status, 200, await res.clone().text());
    const m = await scrape(h);
    assert.equal(sumOf(m, 'sidecar_upstream_retries_total', { surface: 'responses' }), 1);
    assert.equal(sumOf(m, 'sidecar_upstream_retries_total'), 1);
  }));

test('metrics: sidecar_inflight_streams counts a running Messages stream under surface="messages"', () =>
  withHarness(CONFIG, async (h) => {
    const held = gate();
    h.emu.script({
      type: 'text',
      text: 'slow stream',
      deltas: ['slow ', 'stream'],
      pause: { afterFrames: 3, until: held.opened, ms: 60_000 },
    });
    const res = await post(h, '/v1/messages', {
      model: CLAUDE_INVOKE.name,
      max_tokens: 16,
      stream: true,
      messages: [{ role: 'user', content: 'slowly' }],
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    try {
      await reader.read();
      const m = await scrape(h);
      assert.equal(valueOf(m, 'sidecar_inflight_streams', { surface: 'messages' }), 1);
      assert.equal(valueOf(m, 'sidecar_inflight_streams', { surface: 'chat' }), 0);
    } finally {
      held.open();
    }
    while (!(await reader.read()).done);
  }));
