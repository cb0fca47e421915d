/**
 * The Chat Completions `usage` object, the same in the streamed usage chunk and in a whole answer:
 * `prompt_tokens` counts every prompt-side token (cached ones included, as OpenAI counts them), and
 * `prompt_tokens_details.cached_tokens` says how many of them were read from the prompt cache, and `cache_write_tokens`
 * (where Bedrock wrote any) how many were written to it: OpenAI's field (openai 7.x `PromptTokensDetails`), which the AI
 * SDK takes out of the uncached input. Writes cost more than plain input (1.25× for five minutes, 2× for an hour), so a
 * meter that cannot tell them apart under-counts them. Bedrock's 5-minute / 1-hour split has no place there: OpenAI's
 * `cache_write_tokens_details` buckets are its own 30-minute / 12-hour ones.
 */
import { promptTokens, type Usage } from '../pipeline/events.ts';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
}

/** `cached_tokens`, and `cache_write_tokens` when Bedrock wrote to the cache: the details both OpenAI surfaces give. */
export function cacheTokenDetails(usage: Usage): { cached_tokens: number; cache_write_tokens?: number } {
  return usage.cacheWriteTokens > 0
    ? { cached_tokens: usage.cacheReadTokens, cache_write_tokens: usage.cacheWriteTokens }
    : { cached_tokens: usage.cacheReadTokens };
}

export function chatUsage(usage: Usage): ChatUsage {
  const prompt = promptTokens(usage);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: cacheTokenDetails(usage),
  };
}
