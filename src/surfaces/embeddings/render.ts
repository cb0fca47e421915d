/**
 * Renders vectors as OpenAI's embeddings answer: `{object: "list", data: [{object: "embedding", index,
 * embedding}], model, usage: {prompt_tokens, total_tokens}}`, in input order. `base64` is the vector as
 * little-endian float32 bytes (what the official SDKs ask for by default and decode).
 */
import type { EncodingFormat } from './request.ts';

export function renderEmbeddings(
  vectors: readonly (readonly number[])[],
  format: EncodingFormat,
  model: string,
  promptTokens: number,
): Record<string, unknown> {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** Little-endian float32, whatever the machine's own byte order. */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}
