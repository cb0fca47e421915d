/**
 * The Chat Completions `usage` object, the same in the streamed usage chunk and in a whole answer:
 * `prompt_tokens` counts every prompt-side token (cached ones included, as OpenAI counts them), and
 * `prompt_tokens_details.cached_tokens` says how many of them were read from the prompt cache.
 */
import { promptTokens, type Usage } from '../pipeline/events.ts';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function chatUsage(usage: Usage): ChatUsage {
  const prompt = promptTokens(usage);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  };
}
