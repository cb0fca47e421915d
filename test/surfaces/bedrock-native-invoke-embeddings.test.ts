// InvokeModel of an embedding model on the native surface (docs/contract.md#bedrock-native): the usual way an
// AWS SDK app embeds — Titan Text Embeddings v2, Cohere Embed v3 and v4, Nova Multimodal Embeddings — with
// the app's own body, through the AWS SDK's BedrockRuntimeClient against the sidecar and the emulator; the
// exact body Bedrock receives and the exact answer the app gets (a strict stand-in for Bedrock); Bedrock's
// 400 for a member it does not take, before any call; guardrails on the texts; a fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { deterministicVector } from '../../src/emulator/embeddings.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { startTestEmulator } from '../helpers/emulator.ts';
import { startHostileUpstream } from '../helpers/hostile-upstream.ts';
import { invokeJson, nativeClient } from './bedrock-native-helpers.ts';

const TITAN = { name: 'titan', model: 'bedrock/invoke/amazon.titan-embed-text-v2:0', region: 'us-east-1' };
const COHERE3 = { name: 'cohere3', model: 'bedrock/invoke/cohere.embed-english-v3', region: 'us-east-1' };
const COHERE4 = { name: 'cohere4', model: 'bedrock/invoke/cohere.embed-v4:0', region: 'us-east-1' };
const NOVA_MME = { name: 'nova-mme', model: 'bedrock/invoke/amazon.nova-2-multimodal-embeddings-v1:0', region: 'us-east-1' };
const CLAUDE = { name: 'claude', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };

const client = nativeClient;
const invoke = invokeJson;

async function withRig(config: Record<string, unknown>, run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ models: [TITAN, COHERE3, COHERE4, NOVA_MME, CLAUDE], ...config });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

const lastLine = (h: Harness): Record<string, unknown> => h.logs.filter((l) => l.msg === 'request completed').at(-1)!;

test('invokeModel of Titan v2, Cohere v3 and v4, Nova MME: the app’s own body, Bedrock’s answer', () =>
  withRig({}, async (h) => {
    const titan = await invoke(h, 'titan', { inputText: 'hello world', dimensions: 256, normalize: true, embeddingTypes: ['float'] });
    assert.deepEqual(titan.embedding, deterministicVector('titan-v2', 'hello world', 256));
    assert.deepEqual((titan.embeddingsByType as { float: number[] }).float, titan.embedding);
    assert.equal(typeof titan.inputTextTokenCount, 'number');
    assert.deepEqual(h.emu.requests.at(-1)!.json, {
      inputText: 'hello world',
      dimensions: 256,
      normalize: true,
      embeddingTypes: ['float'],
    });
    const line = lastLine(h);
    assert.deepEqual([line.surface, line.alias, line.status, line.inputs, line.calls], ['native', 'titan', 200, 1, 1]);
    assert.equal(typeof line.inputTokens, 'number');

    // A direct model id (allow_direct_models) goes on the invoke route.
    const direct = await invoke(h, 'amazon.titan-embed-text-v2:0', { inputText: 'direct' });
    assert.deepEqual(direct.embedding, deterministicVector('titan-v2', 'direct', 1024));

    const v3 = await invoke(h, 'cohere3', { texts: ['a', 'b'], input_type: 'search_query', truncate: 'END' });
    assert.equal(v3.response_type, 'embeddings_floats');
    assert.deepEqual(v3.embeddings, [deterministicVector('cohere-v3', 'a', 1024), deterministicVector('cohere-v3', 'b', 1024)]);

    const v4 = await invoke(h, 'cohere4', {
      texts: ['x'],
      input_type: 'search_document',
      embedding_types: ['float', 'int8'],
      output_dimension: 512,
      max_tokens: 1000,
    });
    assert.equal(v4.response_type, 'embeddings_by_type');
    const byType = v4.embeddings as { float: number[][]; int8: number[][] };
    assert.deepEqual(byType.float, [deterministicVector('cohere-v4', 'x', 512)]);
    assert.equal(byType.int8[0]!.length, 512);

    const nova = await invoke(h, 'nova-mme', {
      schemaVersion: 'nova-multimodal-embed-v1',
      taskType: 'SINGLE_EMBEDDING',
      singleEmbeddingParams: {
        embeddingPurpose: 'GENERIC_RETRIEVAL',
        embeddingDimension: 384,
        text: { truncationMode: 'END', value: 'q' },
      },
    });
    assert.deepEqual(nova.embeddings, [{ embeddingType: 'TEXT', embedding: deterministicVector('nova-mme', 'q', 384) }]);
  }));

test('invokeModelWithResponseStream of an embedding model is Bedrock’s ValidationException, before any call', () =>
  withRig({}, async (h) => {
    await assert.rejects(
      client(h).send(new InvokeModelWithResponseStreamCommand({ modelId: 'titan', body: Buffer.from(JSON.stringify({ inputText: 'x' })) })),
      (error: unknown) => error instanceof ValidationException && error.message === 'The model is unsupported for streaming.',
    );
    assert.equal(h.emu.requests.length, 0);
    assert.equal(lastLine(h).status, 400);
  }));

test('a member Bedrock does not take, or a missing one, is its 400 ValidationException naming it, before any call', () =>
  withRig({}, async (h) => {
    const refused: Array<[string, unknown, RegExp]> = [
      ['titan', { inputText: 'x', input_type: 'search_query' }, /#: extraneous key \[input_type\] is not permitted/],
      ['titan', { texts: ['x'] }, /#: extraneous key \[texts\] is not permitted#: required key \[inputText\] not found/],
      ['titan', { inputText: 7 }, /#\/inputText: expected type: String, found: Integer/],
      ['cohere3', { texts: ['x'], input_type: 'search_query', output_dimension: 256 }, /extraneous key \[output_dimension\]/],
      ['cohere4', { texts: ['x'] }, /#: required key \[input_type\] not found/],
      ['cohere4', { input_type: 'search_query', inputs: [{ content: [], role: 'user' }] }, /#\/inputs\/0: extraneous key \[role\]/],
      [
        'nova-mme',
        {
          taskType: 'SINGLE_EMBEDDING',
          singleEmbeddingParams: { embeddingPurpose: 'GENERIC_INDEX', text: { value: 'x', truncationMode: 'END' }, dimensions: 3 },
        },
        /#\/singleEmbeddingParams: extraneous key \[dimensions\] is not permitted/,
      ],
    ];
    for (const [modelId, body, message] of refused) {
      const res = await fetch(`${h.url}/model/${modelId}/invoke`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationException');
      const answer = (await res.json()) as { message: string };
      assert.match(answer.message, /^Malformed input request: /);
      assert.match(answer.message, message);
    }
    await assert.rejects(
      invoke(h, 'cohere3', { texts: ['x'], input_type: 'search_query', bogus: 1 }),
      (error: unknown) => error instanceof ValidationException && /extraneous key \[bogus\]/.test(error.message),
    );
    assert.equal(h.emu.requests.length, 0, 'no call was made');
  }));

test('the exact body Bedrock receives is the app’s (sidecar parameters out), and the app gets Bedrock’s answer byte for byte', async () => {
  const answer = '{"id":"e-1" , "texts":["hi","there"],"embeddings":{"float":[[0.5,-0.25],[1e-3,2]]},"response_type":"embeddings_by_type"}';
  const upstream = await startHostileUpstream((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-amzn-bedrock-input-token-count': '7',
      'x-amzn-bedrock-invocation-latency': '12',
    });
    res.end(answer);
  });
  const h = await startHarness({ models: [COHERE4] }, { env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url } });
  try {
    const body = {
      texts: ['hi', 'there'],
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 256,
      truncate: 'RIGHT',
      stream_chunk_size: 64,
    };
    const res = await fetch(`${h.url}/model/cohere4/invoke`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), answer);
    assert.equal(res.headers.get('x-amzn-bedrock-input-token-count'), '7');
    assert.equal(res.headers.get('x-amzn-bedrock-invocation-latency'), '12');
    assert.equal(upstream.requests.length, 1);
    const seen = upstream.requests[0]!;
    assert.equal(seen.path, '/model/cohere.embed-v4%3A0/invoke');
    const { stream_chunk_size: _knob, ...expected } = body;
    assert.deepEqual(JSON.parse(seen.body.toString('utf8')), expected);
    assert.ok(!seen.body.toString('utf8').includes('stream_chunk_size'));
    assert.equal(lastLine(h).inputTokens, 7);
  } finally {
    await h.close();
    await upstream.close();
  }
});

test('guardrails read the texts: a block is Bedrock’s ValidationException before any call, a mask is sent masked', () =>
  withRig(
    {
      guardrails: [
        { name: 'no-birds', type: 'regex', patterns: ['(?i)nightingale'] },
        { name: 'mask-ids', type: 'regex', patterns: ['\\d{3}-\\d{2}-\\d{4}'], action: 'mask' },
      ],
      models: [
        { ...COHERE4, name: 'guarded', guardrails: ['no-birds'] },
        { ...NOVA_MME, name: 'masked', guardrails: ['mask-ids'] },
        COHERE4,
      ],
    },
    async (h) => {
      await assert.rejects(
        invoke(h, 'guarded', {
          input_type: 'search_document',
          inputs: [
            {
              content: [
                { type: 'image_url', image_url: 'data:image/png;base64,AAAA' },
                { type: 'text', text: 'the Nightingale' },
              ],
            },
          ],
        }),
        (error: unknown) =>
          error instanceof ValidationException &&
          error.message === 'Violated guardrail policy' &&
          (error as { guardrail?: string }).guardrail === 'no-birds',
      );
      assert.equal(h.emu.requests.length, 0);
      assert.match(String(lastLine(h).guardrail), /input:no-birds:block/);

      await invoke(h, 'masked', {
        taskType: 'SINGLE_EMBEDDING',
        singleEmbeddingParams: { embeddingPurpose: 'GENERIC_INDEX', text: { truncationMode: 'END', value: 'id 123-45-6789' } },
      });
      assert.equal(
        (h.emu.requests.at(-1)!.json as { singleEmbeddingParams: { text: { value: string } } }).singleEmbeddingParams.text.value,
        'id [REDACTED]',
      );

      // The request's own `guardrails` (a sidecar parameter) apply too, and leave the body.
      const upstreamBody = { texts: ['a 123-45-6789', 'b'], input_type: 'search_query' };
      await invoke(h, 'cohere4', { ...upstreamBody, guardrails: ['mask-ids'] });
      assert.deepEqual(h.emu.requests.at(-1)!.json, { texts: ['a [REDACTED]', 'b'], input_type: 'search_query' });
    },
  ));

test('a fallback alias of the same model serves a throttled primary; another model is skipped', async () => {
  const west = await startTestEmulator();
  const h = await startHarness({
    upstream: { max_attempts: 1 },
    models: [
      { ...TITAN, name: 'titan-east', fallbacks: ['cohere4', 'titan-west'] },
      { ...TITAN, name: 'titan-west', region: 'us-west-2', endpoint: west.url },
      COHERE4,
    ],
  });
  try {
    h.emu.setBehavior({ kind: 'throttle' });
    const out = await client(h).send(
      new InvokeModelCommand({ modelId: 'titan-east', body: Buffer.from(JSON.stringify({ inputText: 'x' })) }),
    );
    const answer = JSON.parse(Buffer.from(out.body).toString('utf8')) as { embedding: number[] };
    assert.deepEqual(answer.embedding, deterministicVector('titan-v2', 'x', 1024));
    assert.equal(west.requests.length, 1);
    assert.match(String(west.requests[0]!.headers.authorization), /\/us-west-2\/bedrock\/aws4_request/);
    assert.ok(!h.emu.requests.some((r) => String(r.modelId).includes('cohere')), 'the other model was never called');
    const line = lastLine(h);
    assert.deepEqual([line.surface, line.alias, line.servedBy], ['native', 'titan-east', 'titan-west']);
  } finally {
    await h.close();
    await west.close();
  }
});
