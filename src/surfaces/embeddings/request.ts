/**
 * Reads an OpenAI `POST /v1/embeddings` body into the neutral embeddings request: `model`, `input` (a
 * string or a list of strings, never token ids), `encoding_format`, `dimensions`, `user` and the sidecar's
 * own `guardrails`. Every problem is a 400 naming the parameter; unknown keys are returned for the
 * drop_params policy. docs/contract.md#embeddings
 */
import { SidecarError } from '../../errors.ts';
import { takeSidecarParams } from '../../providers/request.ts';

/** OpenAI's own limit on inputs per request; also what bounds the work one request can ask for. */
export const MAX_INPUTS = 2048;

export type EncodingFormat = 'float' | 'base64';

export interface EmbeddingsRequest {
  model: unknown;
  inputs: string[];
  encodingFormat: EncodingFormat;
  dimensions: number | undefined;
  /** Names of guardrails asked for in the request (sidecar parameter `guardrails`). */
  guardrails: string[];
}

/** Keys read here; `user` is accepted and dropped (no Bedrock embedding body has a place for it). */
const KNOWN = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

export function readEmbeddingsRequest(body: unknown): { request: EmbeddingsRequest; unknown: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('', 'the request body must be a JSON object');
  const raw = body as Record<string, unknown>;
  // stream_chunk_size and stream_options mean nothing for a JSON answer: read (checked) and dropped.
  const { guardrails } = takeSidecarParams(raw);
  const unknown = Object.keys(raw).filter((key) => !KNOWN.has(key) && raw[key] !== null && raw[key] !== undefined);
  if (raw.user !== undefined && raw.user !== null && typeof raw.user !== 'string') throw bad('user', '"user" must be a string');
  return {
    request: {
      model: raw.model,
      inputs: readInput(raw.input),
      encodingFormat: readFormat(raw.encoding_format),
      dimensions: readDimensions(raw.dimensions),
      guardrails,
    },
    unknown,
  };
}

function readInput(input: unknown): string[] {
  if (input === undefined || input === null) throw bad('input', '"input" is required: a string or a list of strings');
  if (typeof input === 'string') {
    if (input === '') throw bad('input', '"input" is an empty string: there is nothing to embed');
    return [input];
  }
  if (!Array.isArray(input)) throw bad('input', '"input" must be a string or a list of strings');
  if (input.length === 0) throw bad('input', '"input" is an empty list: there is nothing to embed');
  if (input.every((x) => typeof x === 'number') || input.some((x) => Array.isArray(x))) {
    throw bad(
      'input',
      '"input" holds token ids: token-array input is not supported (Bedrock embedding models take text); send the strings',
    );
  }
  if (input.length > MAX_INPUTS) throw bad('input', `"input" has ${input.length} items: at most ${MAX_INPUTS} per request`);
  input.forEach((x, i) => {
    if (typeof x !== 'string') throw bad('input', `"input[${i}]" must be a string, got ${x === null ? 'null' : typeof x}`);
    if (x === '') throw bad('input', `"input[${i}]" is an empty string: there is nothing to embed`);
  });
  return input as string[];
}

function readFormat(value: unknown): EncodingFormat {
  if (value === undefined || value === null) return 'float';
  if (value === 'float' || value === 'base64') return value;
  throw bad('encoding_format', `"encoding_format" must be "float" or "base64", got ${JSON.stringify(value)}`);
}

function readDimensions(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw bad('dimensions', `"dimensions" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function bad(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param: param || null });
}
