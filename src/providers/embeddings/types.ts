/**
 * What an embedding model family knows (one file per family beside this one): how many texts one
 * InvokeModel call takes, which output sizes the model can give, how the neutral options become the
 * family's own body, and how its answer becomes vectors and a token count. Nothing here knows the
 * client's protocol (the OpenAI embeddings surface is src/surfaces/embeddings/) or how calls are sent.
 */
import type { ResponseHeaders } from '../types.ts';

/** What the vectors are for; alias `embedding.input_type` (docs/contract.md#embeddings). */
export const INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export interface EmbeddingOptions {
  /** Output size; undefined = the model's default. Already checked against `dimensions` of the model. */
  dimensions: number | undefined;
  /** undefined = the family's default purpose (documents to index). */
  inputType: InputType | undefined;
}

/** One answer of Bedrock, read: a vector per text sent, in order, and the input tokens it counted. */
export interface EmbeddingAnswer {
  vectors: number[][];
  /** From the `X-Amzn-Bedrock-Input-Token-Count` header, else the body; undefined when neither says. */
  inputTokens: number | undefined;
}

/** One embedding model (a family at one generation: Cohere v3 and v4 differ). */
export interface EmbeddingModel {
  /** How the model is called in messages ("Cohere Embed v4"). */
  readonly label: string;
  /** Most texts one InvokeModel call takes (1 where the body holds one text). */
  readonly maxInputsPerCall: number;
  /** Output sizes the model can give. */
  readonly dimensions: readonly number[];
  readonly defaultDimensions: number;
  /** Whether the model takes a purpose (`input_type`); Titan has none. */
  readonly takesInputType: boolean;
  /** The InvokeModel body for these texts (at most `maxInputsPerCall`). */
  buildBody(texts: readonly string[], options: EmbeddingOptions): Record<string, unknown>;
  /**
   * Reads the answer to a body built for `count` texts. Throws an `upstream_protocol_error` when it is not
   * the expected shape (never an empty success).
   */
  parseResponse(body: unknown, count: number, headers: ResponseHeaders): EmbeddingAnswer;
  /** Bedrock's own InvokeModel body of the model, as an AWS SDK app sends it (the native surface). */
  readonly native: NativeEmbeddingBody;
}

/**
 * What Bedrock takes in a model's own embedding body, and where its texts are. Only the members are checked
 * here (an extraneous or missing one is Bedrock's 400 before any call); their values are Bedrock's to judge.
 */
export interface NativeEmbeddingBody {
  /**
   * The body's texts in order (what input guardrails read; images, audio and video are not text) and a
   * function that puts texts (a guardrail's mask) back in their places in a copy of the body. Throws a 400
   * in Bedrock's words naming a member Bedrock does not take, a missing one, or a text that is not a string.
   */
  read(body: Record<string, unknown>): { texts: string[]; put: (texts: readonly string[]) => Record<string, unknown> };
}
