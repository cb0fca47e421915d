/**
 * The Chat Completions non-streaming answer: one `chat.completion` assembled from the same internal events
 * a stream produces, so the finish-reason and usage mapping are shared by both forms
 * (docs/contract.md#streaming-and-errors).
 */
import type { ReasoningField } from '../config/schema.ts';
import type { SidecarError } from '../errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../pipeline/events.ts';
import { chatUsage } from './chat-usage.ts';

export interface Completion {
  body: Record<string, unknown>;
  usage: Usage | undefined;
  finishReason: FinishReason | undefined;
}

export function assembleCompletion(
  events: readonly StreamEvent[],
  meta: { id: string; created: number; model: string; reasoningField?: ReasoningField; serviceTier?: string },
): Completion | { error: SidecarError } {
  let content = '';
  let reasoning = '';
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  const tools: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const event of events) {
    switch (event.kind) {
      case 'text':
        content += event.text;
        break;
      case 'reasoning':
        reasoning += event.text;
        break;
      case 'tool_start':
        tools[event.index] = { id: event.id, type: 'function', function: { name: event.name, arguments: '' } };
        break;
      case 'tool_delta': {
        const call = tools[event.index];
        if (call) call.function.arguments += event.arguments;
        break;
      }
      case 'reasoning_signature':
      case 'reasoning_redacted':
      case 'prompt_usage':
      case 'compaction': // handed back whole or not at all (its encrypted_content): no place in a chat message
      case 'context_management':
        break; // no place in a chat.completion
      case 'finish':
        finish = event.reason;
        break;
      case 'usage':
        usage = event.usage;
        break;
      case 'error':
        return { error: event.error };
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content: content === '' && tools.length > 0 ? null : content };
  if (reasoning !== '') {
    const field = meta.reasoningField ?? 'reasoning_content';
    if (field !== 'reasoning') message.reasoning_content = reasoning;
    if (field !== 'reasoning_content') message.reasoning = reasoning;
  }
  if (tools.length > 0) message.tool_calls = tools.filter(Boolean);
  const body: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    ...(meta.serviceTier !== undefined ? { service_tier: meta.serviceTier } : {}),
    choices: [{ index: 0, message, finish_reason: finish ?? 'stop', logprobs: null }],
  };
  if (usage) body.usage = chatUsage(usage);
  return { body, usage, finishReason: finish };
}
