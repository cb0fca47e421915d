/**
 * Input guardrails on embedding input (docs/contract.md#guardrails): every input is judged before any
 * model call; a block is the 400 `guardrail_violation` naming the guardrail, a mask changes what is
 * embedded, and a bedrock_native guardrail (which Bedrock cannot apply to embeddings) refuses, never
 * skipped silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness } from '../helpers/harness.ts';

const TITAN = { name: 'titan-embed', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' };

test('embeddings guardrails: a regex block on one input is a 400 guardrail_violation before any call; the SDK raises it', async () => {
  const h = await startHarness({
    guardrails: [{ name: 'no-secrets', type: 'regex', patterns: ['(?i)project\\s+nightingale'] }],
    models: [{ ...TITAN, guardrails: ['no-secrets'] }],
  });
  try {
    const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      client.embeddings.create({ model: 'titan-embed', input: ['fine', 'all about Project Nightingale'] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /Violated guardrail policy/);
        assert.equal(error.type, 'guardrail_violation');
        assert.equal((error.error as { guardrail?: string }).guardrail, 'no-secrets');
        return true;
      },
    );
    assert.equal(h.emu.requests.length, 0, 'no model call');
    const line = h.logs.filter((l) => l.msg === 'request completed').at(-1)!;
    assert.equal(line.status, 400);
    assert.match(String(line.guardrail), /input:no-secrets:block/);
    const ok = await client.embeddings.create({ model: 'titan-embed', input: ['fine'] });
    assert.equal(ok.data.length, 1);
  } finally {
    await h.close();
  }
});

test('embeddings guardrails: a regex mask changes the text that is embedded', async () => {
  const h = await startHarness({
    guardrails: [{ name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' }],
    models: [TITAN],
  });
  try {
    const res = await fetch(`${h.url}/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'titan-embed', input: ['id 123-45-6789 here', 'clean'], guardrails: ['mask-ids'] }),
    });
    assert.equal(res.status, 200);
    const sent = h.emu.requests.map((r) => (r.json as { inputText: string }).inputText).sort();
    assert.deepEqual(sent, ['clean', 'id [REDACTED] here']);
  } finally {
    await h.close();
  }
});

test('embeddings guardrails: a Bedrock ApplyGuardrail block is the same 400, and only the guardrail was called', async () => {
  const h = await startHarness(
    {
      guardrails: [{ name: 'corp-policy', type: 'bedrock', id: 'gr0corp', version: '1', stages: ['input'] }],
      models: [{ ...TITAN, guardrails: ['corp-policy'] }],
    },
    { emulator: { guardrails: { blockTerms: ['forbidden'] } } },
  );
  try {
    const res = await fetch(`${h.url}/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'titan-embed', input: ['a', 'something forbidden'] }),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { type: string; message: string; guardrail: string } };
    assert.deepEqual([error.type, error.message, error.guardrail], ['guardrail_violation', 'Violated guardrail policy', 'corp-policy']);
    assert.deepEqual(
      h.emu.requests.map((r) => r.operation),
      ['ApplyGuardrail'],
    );
  } finally {
    await h.close();
  }
});

test('embeddings guardrails: a bedrock_native guardrail cannot judge embedding input: a 400 naming it, no call', async () => {
  const h = await startHarness({
    guardrails: [{ name: 'native', type: 'bedrock_native', id: 'gr0native', version: '2' }],
    models: [{ ...TITAN, guardrails: ['native'] }],
  });
  try {
    const res = await fetch(`${h.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'titan-embed', input: 'x' }) });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: { message: string } };
    assert.match(error.message, /guardrail "native" is bedrock_native/);
    assert.equal(h.emu.requests.length, 0);
  } finally {
    await h.close();
  }
});
