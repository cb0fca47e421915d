/**
 * Amazon Titan Text Embeddings (invoke route, one text per call). v2 (`amazon.titan-embed-text-v2:0`):
 * `{inputText, dimensions: 256|512|1024, normalize}` → `{embedding, inputTextTokenCount}`; v1 / G1
 * (`amazon.titan-embed-text-v1`, `amazon.titan-embed-g1-text-02`) takes only `inputText` and answers 1536
 * numbers. Titan has no purpose (`input_type`). An AWS SDK app's own v2 body may also carry `embeddingTypes`
 * (`float`, `binary`). Bedrock's doc: model-parameters-titan-embed-text.
 */
import type { EmbeddingFamilySpec } from '../types.ts';
import type { EmbeddingModel } from './types.ts';
import { isRecord, malformed, members, textAt, tokenCount, vectorOf } from './common.ts';

function titan(v2: boolean): EmbeddingModel {
  const label = v2 ? 'Titan Text Embeddings v2' : 'Titan Embeddings G1 - Text';
  return {
    label,
    maxInputsPerCall: 1,
    dimensions: v2 ? [256, 512, 1024] : [1536],
    defaultDimensions: v2 ? 1024 : 1536,
    takesInputType: false,
    buildBody(texts, options) {
      const body: Record<string, unknown> = { inputText: texts[0] };
      if (v2) {
        // normalize: true is Bedrock's default, said aloud: OpenAI's vectors are unit length, and RAG code
        // compares them with a dot product.
        if (options.dimensions !== undefined) body.dimensions = options.dimensions;
        body.normalize = true;
      }
      return body;
    },
    parseResponse(body, count, headers) {
      if (!isRecord(body)) throw malformed(label, 'not a JSON object');
      if (count !== 1) throw malformed(label, `one text per call, ${count} were sent`);
      return { vectors: [vectorOf(body.embedding, label, 'embedding')], inputTokens: tokenCount(body.inputTextTokenCount, headers) };
    },
    native: {
      read(body) {
        members(body, '#', v2 ? ['inputText', 'dimensions', 'normalize', 'embeddingTypes'] : ['inputText'], ['inputText']);
        return { texts: [textAt(body.inputText, '#/inputText')], put: ([text]) => ({ ...body, inputText: text }) };
      },
    },
  };
}

export const titanV2 = titan(true);
export const titanV1 = titan(false);

export const titanEmbed: EmbeddingFamilySpec<'amazon-titan-embed'> = {
  family: 'amazon-titan-embed',
  kind: 'embedding',
  modelIds: /^amazon\.titan-embed-(text|g1-text)/,
  providers: ['amazon'],
  aliases: [],
  model: (baseModelId) => (/^amazon\.titan-embed-(text-v1|g1-text)/.test(baseModelId) ? titanV1 : titanV2),
};
