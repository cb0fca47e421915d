/**
 * LangChain's `OpenAIEmbeddings` (@langchain/openai), the client most RAG code in JavaScript goes
 * through, against the sidecar and the emulator for every embedding family: embedDocuments over more
 * inputs than one Bedrock call takes, embedQuery, and `dimensions` passed through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAIEmbeddings } from '@langchain/openai';
import { deterministicVector, type EmbeddingModelName } from '../../src/emulator/embeddings.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { EMBEDDING_ALIASES } from './embeddings-helpers.ts';

const FAMILIES: Array<{ alias: string; emulated: EmbeddingModelName; dims: number; inputs: number }> = [
  { alias: 'titan-embed', emulated: 'titan-v2', dims: 512, inputs: 4 },
  { alias: 'cohere-v4', emulated: 'cohere-v4', dims: 256, inputs: 150 },
  { alias: 'cohere-v3', emulated: 'cohere-v3', dims: 1024, inputs: 100 },
  { alias: 'nova-embed', emulated: 'nova-mme', dims: 1024, inputs: 3 },
];

describe('embeddings with LangChain', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ models: EMBEDDING_ALIASES });
  });
  after(async () => h.close());

  const embeddings = (model: string, extra: Record<string, unknown> = {}): OpenAIEmbeddings =>
    new OpenAIEmbeddings({ model, apiKey: 'x', maxRetries: 0, configuration: { baseURL: `${h.url}/v1` }, ...extra });

  for (const f of FAMILIES) {
    test(`LangChain OpenAIEmbeddings, ${f.alias}: embedDocuments (${f.inputs} texts) and embedQuery`, async () => {
      const docs = Array.from({ length: f.inputs }, (_, i) => `${f.alias} document ${i}`);
      const vectors = await embeddings(f.alias).embedDocuments(docs);
      assert.equal(vectors.length, f.inputs);
      vectors.forEach((v, i) => {
        const expected = deterministicVector(f.emulated, docs[i]!, f.dims);
        assert.equal(v.length, f.dims);
        assert.ok(
          v.every((x, j) => Math.fround(x) === expected[j]),
          `document ${i} has its own vector, in order`,
        );
      });
      const query = await embeddings(f.alias).embedQuery('what is a sidecar?');
      assert.deepEqual(query.map(Math.fround), deterministicVector(f.emulated, 'what is a sidecar?', f.dims));
    });
  }

  test('LangChain OpenAIEmbeddings: dimensions reaches the model', async () => {
    h.emu.reset();
    const [v] = await embeddings('nova-embed', { dimensions: 256 }).embedDocuments(['short']);
    assert.equal(v!.length, 256);
    assert.equal(
      (h.emu.requests[0]!.json as { singleEmbeddingParams: { embeddingDimension: number } }).singleEmbeddingParams.embeddingDimension,
      256,
    );
  });
});
