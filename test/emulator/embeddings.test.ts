/**
 * The emulator's embedding models (src/emulator/embeddings.ts), checked on the wire and with the AWS SDK,
 * independently of the sidecar: the documented bodies answer vectors of the asked size, one text one
 * vector, token counts in the header; what Bedrock refuses is a ValidationException in its own dialect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import type { Emulator } from '../../src/emulator/index.ts';
import { post, sdkClient } from './helpers.ts';
import { startTestEmulator } from '../helpers/emulator.ts';

const TITAN = 'amazon.titan-embed-text-v2:0';
const COHERE_V3 = 'cohere.embed-english-v3';
const COHERE_V4 = 'cohere.embed-v4:0';
const NOVA = 'amazon.nova-2-multimodal-embeddings-v1:0';

const path = (modelId: string, op = 'invoke'): string => `/model/${encodeURIComponent(modelId)}/${op}`;

describe('emulator embedding models', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(async () => emu.close());

  async function invoke(
    modelId: string,
    body: unknown,
    op = 'invoke',
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
    const res = await post(emu.url, path(modelId, op), JSON.stringify(body));
    return { status: res.status, json: JSON.parse(res.body.toString('utf8')) as Record<string, unknown>, headers: res.headers };
  }

  test('emulator: Titan v2 answers a unit vector of the asked size, its token count in the body and the header', async () => {
    const { status, json, headers } = await invoke(TITAN, { inputText: 'hello there', dimensions: 256 });
    assert.equal(status, 200);
    const v = json.embedding as number[];
    assert.equal(v.length, 256);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'unit length');
    assert.deepEqual((json.embeddingsByType as { float: number[] }).float, v);
    assert.equal(json.inputTextTokenCount, 3);
    assert.equal(headers['x-amzn-bedrock-input-token-count'], '3');
    const again = await invoke(TITAN, { inputText: 'hello there', dimensions: 256 });
    assert.deepEqual(again.json.embedding, v, 'deterministic');
    assert.equal(((await invoke(TITAN, { inputText: 'x' })).json.embedding as number[]).length, 1024, 'default size');
  });

  test('emulator: Cohere answers one vector per text, by type when embedding_types is asked, floats otherwise', async () => {
    const byType = await invoke(COHERE_V4, {
      texts: ['a', 'b', 'c'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 512,
    });
    assert.equal(byType.status, 200);
    assert.equal(byType.json.response_type, 'embeddings_by_type');
    const floats = (byType.json.embeddings as { float: number[][] }).float;
    assert.deepEqual(
      floats.map((v) => v.length),
      [512, 512, 512],
    );
    assert.equal(byType.headers['x-amzn-bedrock-input-token-count'], '3');
    const plain = await invoke(COHERE_V3, { texts: ['a'], input_type: 'search_query' });
    assert.equal(plain.json.response_type, 'embeddings_floats');
    assert.equal((plain.json.embeddings as number[][])[0]!.length, 1024);
  });

  test('emulator: Nova multimodal embeddings answers a TEXT embedding of the asked size', async () => {
    const { status, json } = await invoke(NOVA, {
      taskType: 'SINGLE_EMBEDDING',
      singleEmbeddingParams: { embeddingPurpose: 'GENERIC_INDEX', embeddingDimension: 384, text: { truncationMode: 'END', value: 'doc' } },
    });
    assert.equal(status, 200);
    const [first] = json.embeddings as Array<{ embeddingType: string; embedding: number[] }>;
    assert.equal(first!.embeddingType, 'TEXT');
    assert.equal(first!.embedding.length, 384);
  });

  const REFUSED: Array<[string, string, unknown, RegExp, string?]> = [
    [
      'Titan v2: a size it does not give',
      TITAN,
      { inputText: 'x', dimensions: 100 },
      /^Malformed input request: #\/dimensions: 100 is not a valid enum value, please reformat/,
    ],
    ['Titan v2: an empty text', TITAN, { inputText: '' }, /#\/inputText: expected minLength: 1/],
    ['Titan v2: an unknown key', TITAN, { inputText: 'x', texts: ['x'] }, /extraneous key \[texts\] is not permitted/],
    [
      'Titan v2: over 50,000 characters',
      TITAN,
      { inputText: 'x'.repeat(50_001) },
      /#\/inputText: expected maxLength: 50000, actual: 50001/,
    ],
    ['Titan G1: dimensions', 'amazon.titan-embed-text-v1', { inputText: 'x', dimensions: 256 }, /extraneous key \[dimensions\]/],
    [
      'Cohere: more than 96 texts',
      COHERE_V4,
      { texts: Array.from({ length: 97 }, () => 'x'), input_type: 'search_document' },
      /#\/texts: expected maximum item count: 96, found: 97/,
    ],
    ['Cohere: no input_type', COHERE_V4, { texts: ['x'] }, /required key \[input_type\] not found/],
    [
      'Cohere v3: a text over 2048 characters',
      COHERE_V3,
      { texts: ['a', 'x'.repeat(2049)], input_type: 'search_document' },
      /#\/texts\/1: expected maxLength: 2048/,
    ],
    [
      'Cohere v3: output_dimension',
      COHERE_V3,
      { texts: ['x'], input_type: 'search_document', output_dimension: 256 },
      /extraneous key \[output_dimension\]/,
    ],
    [
      'Cohere v4: a size it does not give',
      COHERE_V4,
      { texts: ['x'], input_type: 'search_document', output_dimension: 384 },
      /#\/output_dimension: 384 is not a valid enum value/,
    ],
    [
      'Nova: a size it does not give',
      NOVA,
      {
        taskType: 'SINGLE_EMBEDDING',
        singleEmbeddingParams: { embeddingPurpose: 'GENERIC_INDEX', embeddingDimension: 512, text: { truncationMode: 'END', value: 'x' } },
      },
      /embeddingDimension: 512 is not a valid enum value/,
    ],
    [
      'Nova: no purpose',
      NOVA,
      { taskType: 'SINGLE_EMBEDDING', singleEmbeddingParams: { text: { truncationMode: 'END', value: 'x' } } },
      /required key \[embeddingPurpose\] not found/,
    ],
    ['streaming', TITAN, { inputText: 'x' }, /^The model is unsupported for streaming\.$/, 'invoke-with-response-stream'],
    [
      'Converse',
      TITAN,
      { messages: [{ role: 'user', content: [{ text: 'x' }] }] },
      /doesn't support the model that you provided/,
      'converse',
    ],
  ];
  for (const [what, modelId, body, message, op] of REFUSED) {
    test(`emulator: ${what} is a 400 ValidationException`, async () => {
      const { status, json, headers } = await invoke(modelId, body, op);
      assert.equal(status, 400);
      assert.match(String(headers['x-amzn-errortype']), /^ValidationException:/);
      assert.match(json.message as string, message);
    });
  }

  test("emulator: the AWS SDK's InvokeModel embeds with it as with Bedrock", async () => {
    const client = sdkClient(emu.url);
    const out = await client.send(
      new InvokeModelCommand({
        modelId: COHERE_V4,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({ texts: ['sdk'], input_type: 'search_query', embedding_types: ['float'] }),
      }),
    );
    const json = JSON.parse(new TextDecoder().decode(out.body)) as { embeddings: { float: number[][] } };
    assert.equal(json.embeddings.float[0]!.length, 1536);
    client.destroy();
  });
});
