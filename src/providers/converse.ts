/**
 * The converse route (Converse / ConverseStream, bedrock-wire §6): one body format and one stream shape
 * for every family; what differs per family is which OpenAI parameters it can honour there (tools,
 * images, reasoning). The terminal event is `messageStop`; `metadata` (usage) may follow it.
 */
import type { Family } from '../models/route.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import { mapFinishReason } from './finish.ts';
import { joinText, parseArguments, type ChatMessage, type ChatRequest, type ParamName } from './request.ts';
import type { BuildContext, RouteAdapter, StreamMapper } from './types.ts';
import { emptyUsage, usageOf } from './usage.ts';
import { SidecarError } from '../errors.ts';

const BASE_PARAMS: readonly ParamName[] = ['max_tokens', 'temperature', 'top_p', 'stop', 'user', 'metadata'];
const TOOL_PARAMS: readonly ParamName[] = ['tools', 'tool_choice', 'parallel_tool_calls'];

/** What each family honours on converse, beyond the base parameters. */
const CAPABILITIES: Record<Family | 'other', { tools: boolean; images: boolean; extra: readonly ParamName[] }> = {
  anthropic: { tools: true, images: true, extra: ['top_k', 'reasoning_effort', 'anthropic_beta'] },
  'amazon-nova': { tools: true, images: true, extra: ['top_k', 'reasoning_effort'] },
  'amazon-titan': { tools: false, images: false, extra: [] },
  meta: { tools: true, images: true, extra: [] },
  mistral: { tools: true, images: true, extra: [] },
  cohere: { tools: true, images: false, extra: [] },
  ai21: { tools: false, images: false, extra: [] },
  deepseek: { tools: false, images: false, extra: [] },
  openai: { tools: true, images: false, extra: ['reasoning_effort'] },
  qwen: { tools: true, images: false, extra: [] },
  other: { tools: false, images: false, extra: [] },
};

const THINKING_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const;

type Block = Record<string, unknown>;

function converseMessages(messages: readonly ChatMessage[], images: boolean): Array<{ role: string; content: Block[] }> {
  const out: Array<{ role: string; content: Block[] }> = [];
  const append = (role: 'user' | 'assistant', blocks: Block[]): void => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
        return;
      case 'user':
        append('user', m.content.map((part, j) => {
          if (part.type === 'text') return { text: part.text };
          if (!images) {
            throw new SidecarError('unsupported_parameter', `messages[${i}].content[${j}]: this model family takes no images`,
              { param: `messages[${i}].content[${j}]` });
          }
          return { image: { format: part.format, source: { bytes: part.data } } };
        }));
        return;
      case 'assistant': {
        const blocks: Block[] = m.content.filter((t) => t.text !== '').map((t) => ({ text: t.text }));
        m.toolCalls.forEach((call, j) => blocks.push({
          toolUse: { toolUseId: call.id, name: call.name, input: parseArguments(call, `messages[${i}].tool_calls[${j}]`) },
        }));
        append('assistant', blocks);
        return;
      }
      case 'tool':
        append('user', [{ toolResult: { toolUseId: m.toolCallId, content: [{ text: joinText(m.content) }] } }]);
        return;
    }
  });
  return out;
}

class ConverseStreamMapper implements StreamMapper {
  terminated = false;
  private readonly toolIndex = new Map<number, number>();

  push(event: Record<string, unknown>): StreamEvent[] {
    // The normaliser hands converse events as { [eventType]: payload }.
    const [name, payload] = Object.entries(event)[0] ?? [];
    const p = (payload ?? {}) as Record<string, unknown>;
    switch (name) {
      case 'contentBlockStart': {
        const toolUse = (p.start as Record<string, unknown> | undefined)?.toolUse as Record<string, unknown> | undefined;
        if (!toolUse) return [];
        const index = this.toolIndex.size;
        this.toolIndex.set(p.contentBlockIndex as number, index);
        return [{ kind: 'tool_start', index, id: String(toolUse.toolUseId ?? ''), name: String(toolUse.name ?? '') }];
      }
      case 'contentBlockDelta': {
        const delta = (p.delta ?? {}) as Record<string, unknown>;
        if (typeof delta.text === 'string') return delta.text === '' ? [] : [{ kind: 'text', text: delta.text }];
        const toolUse = delta.toolUse as Record<string, unknown> | undefined;
        if (toolUse && typeof toolUse.input === 'string') {
          const index = this.toolIndex.get(p.contentBlockIndex as number);
          return index === undefined || toolUse.input === '' ? [] : [{ kind: 'tool_delta', index, arguments: toolUse.input }];
        }
        const reasoning = delta.reasoningContent as Record<string, unknown> | undefined;
        if (reasoning && typeof reasoning.text === 'string' && reasoning.text !== '') return [{ kind: 'reasoning', text: reasoning.text }];
        return [];
      }
      case 'messageStop': {
        this.terminated = true;
        const stop = typeof p.stopReason === 'string' ? p.stopReason : undefined;
        return [{ kind: 'finish', reason: mapFinishReason(stop), ...(stop ? { upstreamReason: stop } : {}) }];
      }
      case 'metadata':
        return [{ kind: 'usage', usage: { ...emptyUsage(), ...usageOf(p.usage) } }];
      default:
        return []; // messageStart, contentBlockStop, unknown events
    }
  }
}

function parseResponse(body: Record<string, unknown>): StreamEvent[] {
  const message = (body.output as Record<string, unknown> | undefined)?.message as Record<string, unknown> | undefined;
  const content = Array.isArray(message?.content) ? (message.content as Record<string, unknown>[]) : [];
  const events: StreamEvent[] = [];
  let tools = 0;
  for (const block of content) {
    if (typeof block.text === 'string') events.push({ kind: 'text', text: block.text });
    const reasoning = (block.reasoningContent as Record<string, unknown> | undefined)?.reasoningText as Record<string, unknown> | undefined;
    if (typeof reasoning?.text === 'string') events.push({ kind: 'reasoning', text: reasoning.text });
    const toolUse = block.toolUse as Record<string, unknown> | undefined;
    if (toolUse) {
      const index = tools++;
      events.push({ kind: 'tool_start', index, id: String(toolUse.toolUseId ?? ''), name: String(toolUse.name ?? '') });
      events.push({ kind: 'tool_delta', index, arguments: JSON.stringify(toolUse.input ?? {}) });
    }
  }
  const stop = typeof body.stopReason === 'string' ? body.stopReason : undefined;
  events.push({ kind: 'finish', reason: mapFinishReason(stop), ...(stop ? { upstreamReason: stop } : {}) });
  events.push({ kind: 'usage', usage: { ...emptyUsage(), ...usageOf(body.usage) } });
  return events;
}

/** The converse adapter for one family (or `other`: a provider with no known family). */
export function converseAdapter(family: Family | 'other'): RouteAdapter {
  const caps = CAPABILITIES[family];
  const params = new Set<ParamName>([...BASE_PARAMS, ...(caps.tools ? TOOL_PARAMS : []), ...caps.extra]);

  function buildBody(request: ChatRequest, ctx: BuildContext): Record<string, unknown> {
    const p = request.params;
    const body: Record<string, unknown> = { messages: converseMessages(request.messages, caps.images) };
    const system = request.messages.filter((m) => m.role === 'system').map((m) => joinText(m.content)).filter(Boolean);
    if (system.length > 0) body.system = system.map((text) => ({ text }));
    const inference: Record<string, unknown> = {};
    if (p.max_tokens !== undefined) inference.maxTokens = p.max_tokens;
    if (p.temperature !== undefined) inference.temperature = Math.min(p.temperature, 1);
    if (p.top_p !== undefined) inference.topP = p.top_p;
    if (p.stop !== undefined) inference.stopSequences = p.stop;
    if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

    if (p.tools !== undefined && p.tools.length > 0) {
      const toolConfig: Record<string, unknown> = {
        tools: p.tools.map((t) => ({
          toolSpec: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), inputSchema: { json: t.parameters } },
        })),
      };
      const choice = p.tool_choice;
      if (choice?.type === 'function') toolConfig.toolChoice = { tool: { name: choice.name } };
      else if (choice?.type === 'required') toolConfig.toolChoice = { any: {} };
      else if (choice?.type === 'auto') toolConfig.toolChoice = { auto: {} };
      else if (choice?.type === 'none') ctx.note('tool_choice "none" on converse: the tools are sent without a choice');
      body.toolConfig = toolConfig;
    }

    const extra: Record<string, unknown> = {};
    if (p.top_k !== undefined) extra[family === 'amazon-nova' ? 'topK' : 'top_k'] = p.top_k;
    if (p.reasoning_effort !== undefined) {
      if (family === 'anthropic') {
        const budget = THINKING_BUDGET[p.reasoning_effort];
        extra.thinking = { type: 'enabled', budget_tokens: budget };
        const max = (inference.maxTokens as number | undefined) ?? 4096;
        if (max <= budget) {
          inference.maxTokens = max + budget;
          body.inferenceConfig = inference;
        }
      } else if (family === 'amazon-nova') {
        extra.reasoningConfig = { type: 'enabled', maxReasoningEffort: p.reasoning_effort === 'minimal' ? 'low' : p.reasoning_effort };
      } else {
        extra.reasoning_effort = p.reasoning_effort === 'minimal' ? 'low' : p.reasoning_effort;
      }
    }
    if (p.anthropic_beta !== undefined) extra.anthropic_beta = p.anthropic_beta;
    Object.assign(extra, ctx.target.alias?.additionalModelRequestFields ?? {});
    if (Object.keys(extra).length > 0) body.additionalModelRequestFields = extra;
    if (p.user !== undefined || p.metadata !== undefined) {
      // requestMetadata tags invocation logs; its values have a restricted alphabet, so only safe ones go.
      const metadata: Record<string, string> = { ...(p.metadata ?? {}), ...(p.user !== undefined ? { user: p.user } : {}) };
      const safe = Object.entries(metadata).filter(([k, v]) => /^[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}$/.test(v) && k.length <= 256).slice(0, 16);
      if (safe.length > 0) body.requestMetadata = Object.fromEntries(safe);
    }
    return body;
  }

  return {
    params,
    extraFields: new Set(['*']),
    buildBody,
    createStreamMapper: () => new ConverseStreamMapper(),
    parseResponse,
  };
}
