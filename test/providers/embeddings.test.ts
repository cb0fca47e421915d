/**
 * Embedding families (src/providers/embeddings/): golden request bodies per family and generation
 * (`test/fixtures/providers/embeddings/<case>.json`, regenerate with UPDATE_GOLDENS=1 and review the
 * diff), model detection from ids, and answers that are not the documented shape failing loudly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { familyOf, inspectModelId } from '../../src/models/route.ts';
import { embeddingModel, type EmbeddingOptions } from '../../src/providers/embeddings/index.ts';
import { expectJsonGolden } from '../helpers/golden.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/providers/embeddings');

interface Case {
  name: string;
  modelId: string;
  texts: string[];
  options: EmbeddingOptions;
}

const CASES: Case[] = [
  {
    name: 'titan-v2',
    modelId: 'amazon.titan-embed-text-v2:0',
    texts: ['The sidecar signs — 署名 👋'],
    options: { dimensions: 512, inputType: undefined },
  },
  {
    name: 'titan-v2-default-size',
    modelId: 'amazon.titan-embed-text-v2:0',
    texts: ['plain'],
    options: { dimensions: undefined, inputType: undefined },
  },
  { name: 'titan-g1', modelId: 'amazon.titan-embed-text-v1', texts: ['plain'], options: { dimensions: undefined, inputType: undefined } },
  {
    name: 'cohere-v3',
    modelId: 'cohere.embed-multilingual-v3',
    texts: ['first', 'second — 二'],
    options: { dimensions: undefined, inputType: 'search_query' },
  },
  { name: 'cohere-v4', modelId: 'us.cohere.embed-v4:0', texts: ['first', 'second'], options: { dimensions: 256, inputType: 'clustering' } },
  { name: 'cohere-v4-defaults', modelId: 'cohere.embed-v4:0', texts: ['only'], options: { dimensions: undefined, inputType: undefined } },
  {
    name: 'nova-mme',
    modelId: 'amazon.nova-2-multimodal-embeddings-v1:0',
    texts: ['a query'],
    options: { dimensions: 384, inputType: 'search_query' },
  },
  {
    name: 'nova-mme-defaults',
    modelId: 'amazon.nova-2-multimodal-embeddings-v1:0',
    texts: ['a document'],
    options: { dimensions: undefined, inputType: undefined },
  },
];

function modelFor(modelId: string): ReturnType<typeof embeddingModel> {
  const family = familyOf(inspectModelId(modelId).baseModelId!);
  assert.ok(
    family === 'amazon-titan-embed' || family === 'cohere-embed' || family === 'amazon-nova-embed',
    `${modelId} is an embedding model (${family})`,
  );
  return embeddingModel(family, modelId);
}

for (const c of CASES) {
  test(`embedding golden body: ${c.name} (${c.modelId}) builds the documented InvokeModel body`, () => {
    const body = modelFor(c.modelId).buildBody(c.texts, c.options);
    expectJsonGolden(join(FIXTURES, `${c.name}.json`), body);
  });
}

test('embedding families: ids name the family and generation; chat ids of the same provider stay chat families', () => {
  assert.equal(familyOf('amazon.nova-2-multimodal-embeddings-v1:0'), 'amazon-nova-embed');
  assert.equal(familyOf('amazon.nova-2-lite-v1:0'), 'amazon-nova');
  assert.equal(familyOf('amazon.titan-embed-text-v2:0'), 'amazon-titan-embed');
  assert.equal(familyOf('amazon.titan-text-express-v1'), 'amazon-titan');
  assert.equal(familyOf('cohere.embed-english-v3'), 'cohere-embed');
  assert.equal(familyOf('cohere.command-r-plus-v1:0'), 'cohere');
  assert.equal(modelFor('cohere.embed-english-v3').label, 'Cohere Embed v3');
  assert.equal(modelFor('eu.cohere.embed-v4:0').label, 'Cohere Embed v4');
  assert.equal(modelFor('amazon.titan-embed-g1-text-02').label, 'Titan Embeddings G1 - Text');
  // An application inference profile names no model: the family's newest generation answers for it.
  assert.equal(
    embeddingModel('cohere-embed', 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc').label,
    'Cohere Embed v4',
  );
  assert.deepEqual([...modelFor('cohere.embed-v4:0').dimensions], [256, 512, 1024, 1536]);
  assert.equal(modelFor('cohere.embed-v4:0').maxInputsPerCall, 96);
  assert.equal(modelFor('amazon.titan-embed-text-v2:0').maxInputsPerCall, 1);
  assert.equal(modelFor('amazon.nova-2-multimodal-embeddings-v1:0').maxInputsPerCall, 1);
});

test('embedding answers: vectors in order, token counts from the header, else the body', () => {
  const headers = { 'x-amzn-bedrock-input-token-count': '9' };
  const titan = modelFor('amazon.titan-embed-text-v2:0').parseResponse({ embedding: [0.5, -0.25], inputTextTokenCount: 3 }, 1, headers);
  assert.deepEqual(titan, { vectors: [[0.5, -0.25]], inputTokens: 9 });
  // Real Titan answers may write the count as a float.
  const titanBody = modelFor('amazon.titan-embed-text-v2:0').parseResponse({ embedding: [0.5], inputTextTokenCount: 28.0 }, 1, {});
  assert.equal(titanBody.inputTokens, 28);
  const cohere = modelFor('cohere.embed-v4:0').parseResponse(
    {
      embeddings: {
        float: [
          [1, 2],
          [3, 4],
        ],
      },
      response_type: 'embeddings_by_type',
    },
    2,
    headers,
  );
  assert.deepEqual(cohere, {
    vectors: [
      [1, 2],
      [3, 4],
    ],
    inputTokens: 9,
  });
  const cohereFloats = modelFor('cohere.embed-english-v3').parseResponse(
    { embeddings: [[1, 2]], response_type: 'embeddings_floats' },
    1,
    {},
  );
  assert.deepEqual(cohereFloats, { vectors: [[1, 2]], inputTokens: undefined });
  const nova = modelFor('amazon.nova-2-multimodal-embeddings-v1:0').parseResponse(
    { embeddings: [{ embeddingType: 'TEXT', embedding: [0.1] }] },
    1,
    headers,
  );
  assert.deepEqual(nova, { vectors: [[0.1]], inputTokens: 9 });
});

const BAD_ANSWERS: Array<[string, string, unknown, number]> = [
  ['titan: no embedding', 'amazon.titan-embed-text-v2:0', { inputTextTokenCount: 3 }, 1],
  ['titan: a string in the vector', 'amazon.titan-embed-text-v2:0', { embedding: [0.1, 'x'] }, 1],
  ['titan: an empty vector', 'amazon.titan-embed-text-v2:0', { embedding: [] }, 1],
  ['cohere: fewer vectors than texts', 'cohere.embed-v4:0', { embeddings: { float: [[1]] } }, 2],
  ['cohere: no float list', 'cohere.embed-v4:0', { embeddings: { int8: [[1]] } }, 1],
  ['cohere: a list, not an object', 'cohere.embed-v4:0', [[1]], 1],
  ['nova: no embeddings list', 'amazon.nova-2-multimodal-embeddings-v1:0', { embedding: [1] }, 1],
  ['nova: a null vector', 'amazon.nova-2-multimodal-embeddings-v1:0', { embeddings: [{ embedding: null }] }, 1],
];

for (const [name, modelId, body, count] of BAD_ANSWERS) {
  test(`embedding answers: ${name} is an upstream_protocol_error, never an empty success`, () => {
    assert.throws(
      () => modelFor(modelId).parseResponse(body, count, {}),
      (error: Error & { type?: string }) => {
        assert.equal(error.type, 'upstream_protocol_error');
        assert.match(error.message, /unexpected .* body/);
        return true;
      },
    );
  });
}
