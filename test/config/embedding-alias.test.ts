/**
 * The alias key `embedding: {input_type, dimensions}` (docs/contract.md#configuration): read with the
 * rest of sidecar.yaml, then checked against the model the alias names when the registry is built; every
 * mistake names its key and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { ModelRegistry } from '../../src/models/resolve.ts';
import { routeSupport } from '../../src/providers/index.ts';

function load(yaml: string): ModelRegistry {
  return new ModelRegistry(parseConfig(yaml, 'sidecar.yaml'), { AWS_REGION: 'us-east-1' }, routeSupport);
}

test('config: an embedding alias with input_type and dimensions loads, and the target carries them', () => {
  const registry = load(`models:
  - name: titan-embed
    model: bedrock/invoke/amazon.titan-embed-text-v2:0
    embedding: {dimensions: 512}
  - name: cohere-query
    model: bedrock/invoke/cohere.embed-v4:0
    embedding:
      input_type: search_query
      dimensions: 1024
`);
  const titan = registry.resolve('titan-embed');
  assert.equal(titan.family, 'amazon-titan-embed');
  assert.deepEqual(titan.alias?.embedding, { inputType: undefined, dimensions: 512 });
  assert.deepEqual(registry.resolve('cohere-query').alias?.embedding, { inputType: 'search_query', dimensions: 1024 });
});

const BAD: Array<[string, string, RegExp]> = [
  [
    'a size the model cannot give',
    `models:
  - name: titan-embed
    model: bedrock/invoke/amazon.titan-embed-text-v2:0
    embedding:
      dimensions: 1536
`,
    /^sidecar\.yaml:5: models\[0\]\.embedding\.dimensions: Titan Text Embeddings v2 gives 256, 512 or 1024 dimensions, not 1536$/,
  ],
  [
    'an input_type Titan has no use for',
    `models:
  - name: titan-embed
    model: bedrock/invoke/amazon.titan-embed-text-v2:0
    embedding:
      input_type: search_query
`,
    /^sidecar\.yaml:5: models\[0\]\.embedding\.input_type: Titan Text Embeddings v2 takes no input type$/,
  ],
  [
    'an unknown input_type',
    `models:
  - name: nova
    model: bedrock/invoke/amazon.nova-2-multimodal-embeddings-v1:0
    embedding: {input_type: questions}
`,
    /models\[0\]\.embedding\.input_type: must be one of search_document, search_query, classification, clustering, got "questions"/,
  ],
  [
    'an unknown key under embedding',
    `models:
  - name: nova
    model: bedrock/invoke/amazon.nova-2-multimodal-embeddings-v1:0
    embedding: {dimension: 384}
`,
    /models\[0\]\.embedding\.dimension: unknown key \(did you mean "dimensions"\?\)/,
  ],
  [
    'embedding on a chat model',
    `models:
  - name: claude
    model: bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0
    embedding: {dimensions: 512}
`,
    /^sidecar\.yaml:4: models\[0\]\.embedding: only applies to embedding models, not the anthropic family$/,
  ],
  [
    'an embedding model on the converse route',
    `models:
  - name: cohere
    model: bedrock/converse/cohere.embed-v4:0
`,
    /models\[0\]\.model: the converse route cannot serve the cohere-embed family; use bedrock\/invoke\/cohere\.embed-v4:0/,
  ],
  [
    'additional_model_request_fields on an embedding model',
    `models:
  - name: cohere
    model: bedrock/invoke/cohere.embed-v4:0
    additional_model_request_fields: {truncate: END}
`,
    /models\[0\]\.additional_model_request_fields: does not apply to an embedding model/,
  ],
];

for (const [what, yaml, message] of BAD) {
  test(`config: ${what} is a config error naming the key and its line`, () => {
    assert.throws(
      () => load(yaml),
      (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, message);
        return true;
      },
    );
  });
}
