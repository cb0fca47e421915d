/**
 * The Anthropic Messages whole answer (docs/contract.md#anthropic-messages): one `message` object built from
 * the same neutral events a stream carries, blocks formed the same way the renderer forms them.
 */
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import type { AnswerMeta, WholeAnswer } from '../../server/surface.ts';
import { stopReason, usageJson } from './renderer.ts';

type Block = Record<string, unknown>;

export function assembleMessage(events: readonly StreamEvent[], meta: AnswerMeta): WholeAnswer {
  const content: Block[] = [];
  const tools = new Map<number, { block: Block; json: string }>();
  let finish: { reason: FinishReason; upstreamReason?: string } | undefined;
  let usage: Usage | undefined;
  let signed = false;
  const last = (): Block | undefined => content[content.length - 1];
  for (const event of events) {
    switch (event.kind) {
      case 'text': {
        const block = last();
        if (block?.type === 'text') block.text = `${String(block.text)}${event.text}`;
        else content.push({ type: 'text', text: event.text });
        break;
      }
      case 'reasoning': {
        const block = last();
        if (block?.type === 'thinking' && !signed) block.thinking = `${String(block.thinking)}${event.text}`;
        else content.push({ type: 'thinking', thinking: event.text, signature: '' });
        signed = false;
        break;
      }
      case 'reasoning_signature': {
        const block = last();
        if (block?.type === 'thinking' && !signed) block.signature = event.signature;
        else content.push({ type: 'thinking', thinking: '', signature: event.signature });
        signed = true;
        break;
      }
      case 'reasoning_redacted':
        content.push({ type: 'redacted_thinking', data: event.data });
        break;
      case 'tool_start': {
        const block: Block = { type: 'tool_use', id: event.id, name: event.name, input: {} };
        content.push(block);
        tools.set(event.index, { block, json: '' });
        break;
      }
      case 'tool_delta': {
        const tool = tools.get(event.index);
        if (tool) tool.json += event.arguments;
        break;
      }
      case 'prompt_usage': break; // the final usage repeats it
      case 'finish': finish = event; break;
      case 'usage': usage = event.usage; break;
      case 'error': return { error: event.error };
    }
  }
  for (const { block, json } of tools.values()) {
    try {
      block.input = json.trim() === '' ? {} : JSON.parse(json);
    } catch {
      block.input = {}; // a model's broken JSON: the call stands, its arguments cannot be read
    }
  }
  return {
    body: {
      id: meta.id,
      type: 'message',
      role: 'assistant',
      model: meta.model,
      content,
      stop_reason: finish ? stopReason(finish) : 'end_turn',
      stop_sequence: null,
      usage: usageJson(usage),
    },
    usage,
  };
}
