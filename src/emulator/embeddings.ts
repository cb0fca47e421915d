// Embedding models on InvokeModel: Titan Text Embeddings G1/v2, Cohere Embed v3/v4 and Nova Multimodal
// Embeddings (text input). Written from Bedrock's model-parameter pages, independently of the sidecar:
//   https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
//   https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html (and -embed-v4)
//   https://docs.aws.amazon.com/nova/latest/userguide/embeddings-schema.html
// Input: a validated route + body. Output: the model's JSON with deterministic vectors of the asked size
// (a seeded PRNG over the model and the text, so one text always gets one vector; float32 values, unit
// length unless Titan's `normalize: false`), and `X-Amzn-Bedrock-Input-Token-Count` (Titan also counts
// in the body). Validation speaks Bedrock's JSON-schema dialect; the length limits (Cohere 96 texts of
// 2048 characters, Titan v2 50,000 characters) are the documented ones, their wording the emulator's
// reading of that dialect. Streaming is refused: Bedrock streams no embedding model.
import { createHash } from 'node:crypto';
import { MALFORMED_INPUT, rawBody, settleReply, type CallContext } from './call.ts';
import { everit } from './families/common.ts';
import { isJson, type Json } from './families/types.ts';
import { seededRandom } from './frames.ts';
import { baseModelId } from './model-id.ts';
import { arr, bool, int, obj, opt, req, str, type Schema } from './schema.ts';

export type EmbeddingModelName = 'titan-v1' | 'titan-v2' | 'cohere-v3' | 'cohere-v4' | 'nova-mme';

export function embeddingModelOf(modelId: string): EmbeddingModelName | undefined {
  const base = baseModelId(modelId);
  if (base === 'opaque') return undefined;
  if (base.startsWith('amazon.titan-embed-text-v2')) return 'titan-v2';
  if (base.startsWith('amazon.titan-embed-text-v1') || base.startsWith('amazon.titan-embed-g1-text')) return 'titan-v1';
  if (/^cohere\.embed-(english|multilingual)-v3/.test(base)) return 'cohere-v3';
  if (base.startsWith('cohere.embed-v4')) return 'cohere-v4';
  if (base.startsWith('amazon.nova-2-multimodal-embeddings')) return 'nova-mme';
  return undefined;
}

export const STREAMING_UNSUPPORTED = 'The model is unsupported for streaming.';
export const CONVERSE_UNSUPPORTED =
  "This action doesn't support the model that you provided. Try again with a supported text or chat model.";

const COHERE_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering', 'image'] as const;
const COHERE_TYPES = ['float', 'int8', 'uint8', 'binary', 'ubinary'] as const;
const NOVA_PURPOSES = [
  'GENERIC_INDEX',
  'GENERIC_RETRIEVAL',
  'TEXT_RETRIEVAL',
  'IMAGE_RETRIEVAL',
  'VIDEO_RETRIEVAL',
  'DOCUMENT_RETRIEVAL',
  'AUDIO_RETRIEVAL',
  'CLASSIFICATION',
  'CLUSTERING',
] as const;

interface Spec {
  schema: Schema;
  /** Integer members that take only some values (the schema helpers have string enums only). */
  sizes: Record<string, readonly number[]>;
  /** Extra documented limits, checked after the schema. */
  limits?(body: Json): string | undefined;
  texts(body: Json): string[];
  dimensions(body: Json): number;
  answer(body: Json, vectors: number[][], tokens: number, requestId: string): Json;
}

const malformed = (detail: string): string => `Malformed input request: ${detail}, please reformat your input and try again.`;

const titanV1: Spec = {
  schema: obj({ inputText: req(str(undefined, 1)) }),
  sizes: {},
  texts: (b) => [b.inputText as string],
  dimensions: () => 1536,
  answer: (_b, [v], tokens) => ({ embedding: v, inputTextTokenCount: tokens }),
};

const titanV2: Spec = {
  schema: obj({
    inputText: req(str(undefined, 1)),
    dimensions: opt(int()),
    normalize: opt(bool),
    embeddingTypes: opt(arr(str(['float', 'binary']), 1)),
  }),
  sizes: { dimensions: [256, 512, 1024] },
  limits: (b) =>
    (b.inputText as string).length > 50_000
      ? malformed(`#/inputText: expected maxLength: 50000, actual: ${(b.inputText as string).length}`)
      : undefined,
  texts: (b) => [b.inputText as string],
  dimensions: (b) => (b.dimensions as number | undefined) ?? 1024,
  answer(b, [v], tokens) {
    const vector = b.normalize === false ? v!.map((x) => Math.fround(x * 7.5)) : v!;
    const types = (b.embeddingTypes as string[] | undefined) ?? ['float'];
    const byType: Json = {};
    if (types.includes('float')) byType.float = vector;
    if (types.includes('binary')) byType.binary = vector.map((x) => (x > 0 ? 1 : 0));
    return { embedding: vector, inputTextTokenCount: tokens, embeddingsByType: byType };
  },
};

function cohere(v4: boolean): Spec {
  return {
    schema: obj({
      texts: req(arr(str(), 0, 96)),
      input_type: req(str(v4 ? COHERE_INPUT_TYPES.filter((t) => t !== 'image') : COHERE_INPUT_TYPES)),
      truncate: opt(str(v4 ? ['NONE', 'LEFT', 'RIGHT'] : ['NONE', 'START', 'END'])),
      embedding_types: opt(arr(str(COHERE_TYPES), 1)),
      ...(v4 ? { output_dimension: opt(int()), max_tokens: opt(int(1)) } : {}),
    }),
    sizes: v4 ? { output_dimension: [256, 512, 1024, 1536] } : {},
    limits(b) {
      const texts = b.texts as string[];
      if (texts.length === 0) return malformed('#/texts: expected minimum item count: 1, found: 0');
      if (v4) return undefined;
      const long = texts.findIndex((t) => t.length > 2048);
      return long < 0 ? undefined : malformed(`#/texts/${long}: expected maxLength: 2048, actual: ${texts[long]!.length}`);
    },
    texts: (b) => b.texts as string[],
    dimensions: (b) => (v4 ? ((b.output_dimension as number | undefined) ?? 1536) : 1024),
    answer(b, vectors, _tokens, requestId) {
      const types = b.embedding_types as string[] | undefined;
      const base = { id: requestId, texts: b.texts };
      if (types === undefined) return { ...base, embeddings: vectors, response_type: 'embeddings_floats' };
      const byType: Json = {};
      for (const type of types) {
        byType[type] =
          type === 'float'
            ? vectors
            : vectors.map((v) =>
                v.map((x) => (type === 'int8' ? Math.round(x * 127) : type === 'uint8' ? Math.round((x + 1) * 127.5) : x > 0 ? 1 : 0)),
              );
      }
      return { ...base, embeddings: byType, response_type: 'embeddings_by_type' };
    },
  };
}

const nova: Spec = {
  schema: obj({
    schemaVersion: opt(str(['nova-multimodal-embed-v1'])),
    taskType: req(str(['SINGLE_EMBEDDING'])),
    singleEmbeddingParams: req(
      obj({
        embeddingPurpose: req(str(NOVA_PURPOSES)),
        embeddingDimension: opt(int()),
        // Text input only: images, audio and video are outside what the emulator models.
        text: req(obj({ truncationMode: req(str(['START', 'END', 'NONE'])), value: req(str(undefined, 1)) })),
      }),
    ),
  }),
  sizes: {},
  limits(b) {
    const dims = (b.singleEmbeddingParams as Json).embeddingDimension;
    return dims !== undefined && ![256, 384, 1024, 3072].includes(dims as number)
      ? malformed(`#/singleEmbeddingParams/embeddingDimension: ${shown(dims)} is not a valid enum value`)
      : undefined;
  },
  texts: (b) => [((b.singleEmbeddingParams as Json).text as Json).value as string],
  dimensions: (b) => ((b.singleEmbeddingParams as Json).embeddingDimension as number | undefined) ?? 3072,
  answer: (_b, [v]) => ({ embeddings: [{ embeddingType: 'TEXT', embedding: v }] }),
};

const SPECS: Record<EmbeddingModelName, Spec> = {
  'titan-v1': titanV1,
  'titan-v2': titanV2,
  'cohere-v3': cohere(false),
  'cohere-v4': cohere(true),
  'nova-mme': nova,
};

function validate(spec: Spec, body: unknown): string | undefined {
  const problem = everit(spec.schema, body);
  if (problem) return problem;
  const b = body as Json;
  for (const [key, allowed] of Object.entries(spec.sizes)) {
    if (b[key] !== undefined && !allowed.includes(b[key] as number))
      return malformed(`#/${key}: ${shown(b[key])} is not a valid enum value`);
  }
  return spec.limits?.(b);
}

/** A unit-length float32 vector that depends only on the model and the text. */
export function deterministicVector(model: string, text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(model).update('\0').update(text).digest().readUInt32LE(0);
  const next = seededRandom(seed);
  const raw = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, x) => sum + x * x, 0)) || 1;
  return raw.map((x) => Math.fround(x / norm));
}

/** Bedrock counts tokens with the model's tokenizer; the emulator's stand-in is ~4 characters a token. */
export function tokenEstimate(text: string): number {
  return Math.max(1, Math.ceil([...text].length / 4));
}

export async function handleEmbedding(call: CallContext, name: EmbeddingModelName, stream: boolean): Promise<void> {
  if (stream) return call.validationError(STREAMING_UNSUPPORTED);
  let body: unknown;
  try {
    body = JSON.parse(call.body.toString('utf8'));
  } catch {
    return call.validationError(MALFORMED_INPUT);
  }
  if (!isJson(body)) return call.validationError(malformed('#: expected type: JSONObject, found: JSONArray'));
  const spec = SPECS[name];
  const problem = validate(spec, body);
  if (problem) return call.validationError(problem);

  const texts = spec.texts(body);
  // Scripted errors and delays play out as for any model; a scripted text reply has no meaning here.
  const reply = await settleReply(call, call.nextReply(texts.join('\n')));
  if (!reply) return;
  if (reply.type === 'raw') {
    const raw = rawBody(reply);
    call.record.status = reply.status ?? 200;
    call.res.writeHead(call.record.status, {
      'content-type': 'application/json',
      'content-length': raw.length,
      'x-amzn-RequestId': call.requestId,
      ...reply.headers,
    });
    call.res.end(raw);
    return;
  }
  const dimensions = spec.dimensions(body);
  const vectors = texts.map((text) => deterministicVector(name, text, dimensions));
  const tokens = texts.reduce((sum, text) => sum + tokenEstimate(text), 0);
  const answer = Buffer.from(JSON.stringify(spec.answer(body, vectors, tokens, call.requestId)), 'utf8');
  call.record.status = 200;
  call.res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': answer.length,
    'x-amzn-RequestId': call.requestId,
    'X-Amzn-Bedrock-Input-Token-Count': tokens,
    'X-Amzn-Bedrock-Invocation-Latency': Math.max(1, Date.now() - call.startMs),
  });
  call.res.end(answer);
}

/** A body value as a validation message shows it: a string as written, anything else as JSON. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}
