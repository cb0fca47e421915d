/**
 * Amazon Nova Multimodal Embeddings, text input (`amazon.nova-2-multimodal-embeddings-v1:0`; invoke
 * route, one input per call): `{taskType: "SINGLE_EMBEDDING", singleEmbeddingParams: {embeddingPurpose,
 * embeddingDimension: 256|384|1024|3072, text: {truncationMode: "END", value}}}` →
 * `{embeddings: [{embeddingType: "TEXT", embedding: […]}]}`; the token count is the
 * `X-Amzn-Bedrock-Input-Token-Count` header. Amazon Nova user guide: embeddings-schema.
 */
import type { EmbeddingFamilySpec } from '../types.ts';
import type { EmbeddingModel, InputType } from './types.ts';
import { isRecord, malformed, tokenCount, vectorOf } from './common.ts';

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
};

export const novaEmbed: EmbeddingFamilySpec<'amazon-nova-embed'> = {
  family: 'amazon-nova-embed',
  kind: 'embedding',
  modelIds: /^amazon\.nova-.*-embeddings-/,
  providers: ['amazon'],
  aliases: [],
  model: () => novaEmbeddings,
};
