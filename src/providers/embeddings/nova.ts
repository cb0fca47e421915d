/**
 * Amazon Nova Multimodal Embeddings, text input (`amazon.nova-2-multimodal-embeddings-v1:0`; invoke
 * route, one input per call): `{taskType: "SINGLE_EMBEDDING", singleEmbeddingParams: {embeddingPurpose,
 * embeddingDimension: 256|384|1024|3072, text: {truncationMode: "END", value}}}` →
 * `{embeddings: [{embeddingType: "TEXT", embedding: […]}]}`; the token count is the
 * `X-Amzn-Bedrock-Input-Token-Count` header. An AWS SDK app's own body may embed an image, audio or a video
 * instead, or text from S3 (`text.source`). Amazon Nova user guide: embeddings-schema.
 */
import type { EmbeddingFamilySpec } from '../types.ts';
import type { EmbeddingModel, InputType } from './types.ts';
import { isRecord, malformed, members, textAt, tokenCount, vectorOf } from './common.ts';

const PURPOSE: Record<InputType, string> = {
  search_document: 'GENERIC_INDEX',
  search_query: 'GENERIC_RETRIEVAL',
  classification: 'CLASSIFICATION',
  clustering: 'CLUSTERING',
};

const label = 'Nova Multimodal Embeddings';

export const novaEmbeddings: EmbeddingModel = {
  label,
  maxInputsPerCall: 1,
  dimensions: [256, 384, 1024, 3072],
  defaultDimensions: 3072,
  takesInputType: true,
  buildBody(texts, options) {
    return {
      schemaVersion: 'nova-multimodal-embed-v1',
      taskType: 'SINGLE_EMBEDDING',
      singleEmbeddingParams: {
        embeddingPurpose: PURPOSE[options.inputType ?? 'search_document'],
        // The model requires a size; 3072 is its documented default.
        embeddingDimension: options.dimensions ?? 3072,
        // END, as OpenAI-style clients expect from an input over the model's limit: Bedrock's NONE would
        // turn one long chunk into a failed batch.
        text: { truncationMode: 'END', value: texts[0] },
      },
    };
  },
  parseResponse(body, count, headers) {
    if (!isRecord(body)) throw malformed(label, 'not a JSON object');
    if (count !== 1) throw malformed(label, `one text per call, ${count} were sent`);
    const list = body.embeddings;
    if (!Array.isArray(list) || list.length !== 1 || !isRecord(list[0])) throw malformed(label, 'embeddings is not a list of one');
    return { vectors: [vectorOf(list[0].embedding, label, 'embeddings[0].embedding')], inputTokens: tokenCount(undefined, headers) };
  },
  native: {
    // InvokeModel is the synchronous API: one SINGLE_EMBEDDING of text, an image, audio or a video (the
    // segmented task is StartAsyncInvoke's, which the sidecar does not serve).
    read(body) {
      members(body, '#', ['schemaVersion', 'taskType', 'singleEmbeddingParams'], ['taskType', 'singleEmbeddingParams']);
      const params = members(body.singleEmbeddingParams, '#/singleEmbeddingParams', SINGLE_KEYS, ['embeddingPurpose']);
      if (params.text === undefined) return { texts: [], put: () => body };
      const text = members(params.text, '#/singleEmbeddingParams/text', ['truncationMode', 'value', 'source'], ['truncationMode']);
      if (text.value === undefined) return { texts: [], put: () => body };
      return {
        texts: [textAt(text.value, '#/singleEmbeddingParams/text/value')],
        put: ([value]) => ({ ...body, singleEmbeddingParams: { ...params, text: { ...text, value } } }),
      };
    },
  },
};

const SINGLE_KEYS = ['embeddingPurpose', 'embeddingDimension', 'text', 'image', 'audio', 'video'];

export const novaEmbed: EmbeddingFamilySpec<'amazon-nova-embed'> = {
  family: 'amazon-nova-embed',
  kind: 'embedding',
  modelIds: /^amazon\.nova-.*-embeddings-/,
  providers: ['amazon'],
  aliases: [],
  model: () => novaEmbeddings,
};
