/**
 * Cohere Embed on Bedrock (invoke route, up to 96 texts per call). v3 (`cohere.embed-english-v3`,
 * `cohere.embed-multilingual-v3`): `{texts, input_type, embedding_types: ["float"]}`, 1024 numbers. v4
 * (`cohere.embed-v4:0`): the same plus `output_dimension: 256|512|1024|1536` (default 1536). The answer
 * asked with `embedding_types` is `{embeddings: {float: [[…], …]}, response_type: "embeddings_by_type"}`;
 * without it v3 answers `embeddings: [[…]]`, read too. Token counts travel in the
 * `X-Amzn-Bedrock-Input-Token-Count` header. An AWS SDK app's own body may also carry `images`, `truncate`,
 * other `embedding_types`, and on v4 `inputs` (text and image parts interleaved) and `max_tokens`. Bedrock's
 * docs: model-parameters-embed-v3, -embed-v4.
 */
import type { EmbeddingFamilySpec } from '../types.ts';
import type { EmbeddingModel, InputType } from './types.ts';
import { isRecord, listAt, malformed, members, textAt, tokenCount, vectorOf } from './common.ts';

/** Cohere's limit on `texts` per call (both generations). */
export const COHERE_MAX_TEXTS = 96;

/** Documents to index unless said otherwise: what a RAG app embeds most, and LiteLLM's default too. */
const DEFAULT_INPUT_TYPE: InputType = 'search_document';

function cohere(v4: boolean): EmbeddingModel {
  const label = v4 ? 'Cohere Embed v4' : 'Cohere Embed v3';
  return {
    label,
    maxInputsPerCall: COHERE_MAX_TEXTS,
    dimensions: v4 ? [256, 512, 1024, 1536] : [1024],
    defaultDimensions: v4 ? 1536 : 1024,
    takesInputType: true,
    buildBody(texts, options) {
      const body: Record<string, unknown> = {
        texts: [...texts],
        input_type: options.inputType ?? DEFAULT_INPUT_TYPE,
        embedding_types: ['float'],
      };
      if (v4 && options.dimensions !== undefined) body.output_dimension = options.dimensions;
      return body;
    },
    parseResponse(body, count, headers) {
      if (!isRecord(body)) throw malformed(label, 'not a JSON object');
      const raw = body.embeddings;
      const list = isRecord(raw) ? raw.float : raw;
      if (!Array.isArray(list)) throw malformed(label, 'no embeddings.float list');
      if (list.length !== count) throw malformed(label, `${list.length} embeddings for ${count} texts`);
      return { vectors: list.map((v, i) => vectorOf(v, label, `embeddings[${i}]`)), inputTokens: tokenCount(undefined, headers) };
    },
    native: { read: (body) => readCohereBody(body, v4) },
  };
}

const V3_KEYS = ['input_type', 'texts', 'images', 'truncate', 'embedding_types'];
const V4_KEYS = [...V3_KEYS, 'inputs', 'output_dimension', 'max_tokens'];

/**
 * A Cohere body's texts: `texts`, and on v4 the text parts of `inputs[].content[]` (interleaved with
 * `image_url` parts), in that order; `images` carry none.
 */
function readCohereBody(body: Record<string, unknown>, v4: boolean): ReturnType<EmbeddingModel['native']['read']> {
  members(body, '#', v4 ? V4_KEYS : V3_KEYS, ['input_type']);
  const texts = body.texts === undefined ? [] : listAt(body.texts, '#/texts').map((t, i) => textAt(t, `#/texts/${i}`));
  const places: Array<[number, number]> = [];
  const inputs = v4 && body.inputs !== undefined ? listAt(body.inputs, '#/inputs') : [];
  inputs.forEach((input, i) => {
    const content = listAt(members(input, `#/inputs/${i}`, ['content'], ['content']).content, `#/inputs/${i}/content`);
    content.forEach((part, j) => {
      if (isRecord(part) && part.type === 'text') {
        texts.push(textAt(part.text, `#/inputs/${i}/content/${j}/text`));
        places.push([i, j]);
      }
    });
  });
  const ownTexts = texts.length - places.length;
  return {
    texts,
    put(masked) {
      const out: Record<string, unknown> = { ...body };
      if (body.texts !== undefined) out.texts = masked.slice(0, ownTexts);
      if (places.length > 0) {
        const copy = (inputs as Array<{ content: unknown[] }>).map((input) => ({ ...input, content: [...input.content] }));
        places.forEach(([i, j], k) => {
          copy[i]!.content[j] = { ...(copy[i]!.content[j] as Record<string, unknown>), text: masked[ownTexts + k] };
        });
        out.inputs = copy;
      }
      return out;
    },
  };
}

export const cohereV3 = cohere(false);
export const cohereV4 = cohere(true);

export const cohereEmbed: EmbeddingFamilySpec<'cohere-embed'> = {
  family: 'cohere-embed',
  kind: 'embedding',
  modelIds: /^cohere\.embed-/,
  providers: ['cohere'],
  aliases: [],
  // v3 ids name their generation; anything else (v4, an ARN given `provider: cohere-embed`) is v4.
  model: (baseModelId) => (/^cohere\.embed-(english|multilingual)-v3/.test(baseModelId) ? cohereV3 : cohereV4),
};
