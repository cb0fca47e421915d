/**
 * Token counts in every spelling Bedrock uses: Anthropic's `usage`, the converse `usage` and the
 * `amazon-bedrock-invocationMetrics` object appended to the last chunk of an invoke stream.
 */
import type { Usage } from '../pipeline/events.ts';

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Reads a usage object in Anthropic (`input_tokens`) or converse (`inputTokens`) spelling. */
export function usageOf(raw: unknown): Partial<Usage> {
  if (typeof raw !== 'object' || raw === null) return {};
  const u = raw as Record<string, unknown>;
  const out: Partial<Usage> = {};
  const input = count(u.input_tokens) ?? count(u.inputTokens);
  const output = count(u.output_tokens) ?? count(u.outputTokens);
  const read = count(u.cache_read_input_tokens) ?? count(u.cacheReadInputTokens) ?? count(u.cacheReadInputTokenCount);
  const write = count(u.cache_creation_input_tokens) ?? count(u.cacheWriteInputTokens) ?? count(u.cacheWriteInputTokenCount);
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (read !== undefined) out.cacheReadTokens = read;
  if (write !== undefined) out.cacheWriteTokens = write;
  return out;
}

/** Reads `amazon-bedrock-invocationMetrics` from a decoded invoke chunk, if present. */
export function readInvocationMetrics(event: Record<string, unknown>): Partial<Usage> | undefined {
  const m = event['amazon-bedrock-invocationMetrics'];
  if (typeof m !== 'object' || m === null) return undefined;
  const r = m as Record<string, unknown>;
  const out: Partial<Usage> = {};
  const input = count(r.inputTokenCount);
  const output = count(r.outputTokenCount);
  const read = count(r.cacheReadInputTokenCount);
  const write = count(r.cacheWriteInputTokenCount);
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (read !== undefined) out.cacheReadTokens = read;
  if (write !== undefined) out.cacheWriteTokens = write;
  return out;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}
