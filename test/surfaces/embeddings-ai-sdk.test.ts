/**
 * POST /v1/embeddings through the Vercel AI SDK's OpenAI provider (`embed`, `embedMany`), one of the real
 * clients the contract names (docs/contract.md#embeddings): it asks for floats, reads `data[].embedding` and
 * `usage.prompt_tokens`, and must get every vector in input order — a Cohere batch over 96 split by the
 * sidecar — and a failed Bedrock call as an error it raises with the sidecar's status and message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APICallError, embed, embedMany } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { deterministicVector, tokenEstimate } from '../../src/emulator/embeddings.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { EMBEDDING_ALIASES } from './embeddings-helpers.ts';

describe('embeddings with the AI SDK', () => {
  let h: Harness;
  let provider: ReturnType<typeof createOpenAI>;
  before(async () => {
    h = await startHarness({ models: EMBEDDING_ALIASES, upstream: { max_attempts: 1 } });
    provider = createOpenAI({ baseURL: `${h.url}/v1`, apiKey: 'unused' });
  });
  after(async () => h.close());

  test('AI SDK embedMany: 150 texts to Cohere v4 come back in order, in two Bedrock calls, with the usage summed', async () => {
    h.emu.reset();
    const values = Array.from({ length: 150 }, (_, i) => `document ${i} ${'·'.repeat(i % 5)}`);
    const { embeddings, usage } = await embedMany({ model: provider.embedding('cohere-v4'), values, maxRetries: 0 });
    assert.equal(embeddings.length, values.length);
    embeddings.forEach((vector, i) => {
      const expected = deterministicVector('cohere-v4', values[i]!, 256);
      assert.deepEqual(
        vector.map((x) => Math.fround(x)),
        expected.map((x) => Math.fround(x)),
        `value ${i}`,
      );
    });
    assert.equal(
      usage.tokens,
      values.reduce((sum, v) => sum + tokenEstimate(v), 0),
    );
    assert.deepEqual(
      h.emu.requests.map((r) => (r.json as { texts: string[] }).texts.length).sort((a, b) => b - a),
      [96, 54],
    );
  });

  test("AI SDK embed: the provider's dimensions option reaches Nova as its own size key", async () => {
    h.emu.reset();
    const { embedding } = await embed({
      model: provider.embedding('nova-embed'),
      value: 'one query',
      providerOptions: { openai: { dimensions: 384 } },
      maxRetries: 0,
    });
    assert.equal(embedding.length, 384);
    const body = h.emu.requests[0]!.json as { singleEmbeddingParams: { embeddingDimension: number } };
    assert.equal(body.singleEmbeddingParams.embeddingDimension, 384);
  });

  test('AI SDK embedMany: one failed Bedrock call is an APICallError with the status and message, never a partial list', async () => {
    h.emu.reset();
    h.emu.script({
      type: 'error',
      status: 400,
      errorType: 'ValidationException',
      message: 'Malformed input request: #/inputText: too long',
    });
    await assert.rejects(
      embedMany({ model: provider.embedding('titan-embed'), values: ['a', 'b', 'c'], maxRetries: 0 }),
      (error: unknown) => {
        assert.ok(APICallError.isInstance(error), String(error));
        assert.equal(error.statusCode, 400);
        assert.match(error.message, /ValidationException: Malformed input request/);
        return true;
      },
    );
  });
});
