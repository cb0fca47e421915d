/**
 * Converse's answers from the neutral events (docs/contract.md#bedrock-native, docs/bedrock-wire.md#converse):
 * the ConverseStream event stream (`messageStart`, `contentBlockStart` for a tool, `contentBlockDelta`,
 * `contentBlockStop`, `messageStop`, then `metadata` with the usage) in Bedrock's binary framing, and the
 * whole Converse response. A failure after the commit is one exception frame the AWS SDK raises, then
 * nothing: it is the stream's one ending, as `messageStop` (and its `metadata`) is a finished answer's.
 */
import { SidecarError } from '../../errors.ts';
import { cacheWritesByTtl, type FinishReason, type StreamEvent, type Usage } from '../../pipeline/events.ts';
import type { WholeAnswer } from '../../server/surface.ts';
import { CONVERSE_STREAM_EXCEPTIONS } from './errors.ts';
import { EventStreamRenderer, type NativeOut, type NativeStreamCore } from './frames.ts';

/** Converse's stop reasons; an upstream reason outside them is mapped from the neutral one. */
const STOP_REASONS: ReadonlySet<string> = new Set([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'guardrail_intervened',
  'content_filtered',
  'malformed_model_output',
  'malformed_tool_use',
  'model_context_window_exceeded',
]);

export function stopReason(event: { reason: FinishReason; upstreamReason?: string; guardrailIntervened?: boolean }): string {
  if (event.guardrailIntervened) return 'guardrail_intervened';
  if (event.upstreamReason !== undefined && STOP_REASONS.has(event.upstreamReason)) return event.upstreamReason;
  switch (event.reason) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'content_filtered';
  }
}

export function converseUsage(usage: Usage): Record<string, unknown> {
  const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  const out: Record<string, unknown> = {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    totalTokens: input + usage.outputTokens,
  };
  if (usage.cacheReadTokens > 0) out.cacheReadInputTokens = usage.cacheReadTokens;
  if (usage.cacheWriteTokens > 0) out.cacheWriteInputTokens = usage.cacheWriteTokens;
  // The writes by ttl, as Bedrock reported them (`cacheDetails`).
  const byTtl = cacheWritesByTtl(usage);
  if (usage.cacheWriteTokens > 0 && byTtl) {
    out.cacheDetails = [
      ...(byTtl.fiveMinutes > 0 ? [{ ttl: '5m', inputTokens: byTtl.fiveMinutes }] : []),
      ...(byTtl.oneHour > 0 ? [{ ttl: '1h', inputTokens: byTtl.oneHour }] : []),
    ];
  }
  return out;
}

type Block = { kind: 'text' | 'reasoning' | 'tool'; index: number; toolIndex?: number };

/** One ConverseStream's events (Nova's invoke stream carries the same, each in a `chunk`: invoke-nova.ts). */
export class ConverseEvents implements NativeStreamCore {
  /** Milliseconds since the request came (the `metadata` event's `metrics.latencyMs`); injected, so tests pin it. */
  readonly #latencyMs: () => number;
  #started = false;
  #stopped = false;
  #done = false;
  #block: Block | undefined;
  #nextIndex = 0;

  constructor(latencyMs: () => number) {
    this.#latencyMs = latencyMs;
  }

  get done(): boolean {
    return this.#done;
  }

  start(): NativeOut[] {
    if (this.#started || this.#done) return [];
    this.#started = true;
    return [{ eventType: 'messageStart', payload: { role: 'assistant' } }];
  }

  push(events: readonly StreamEvent[]): NativeOut[] {
    const out = this.start();
    for (const event of events) {
      this.#render(event, out);
      if (this.#done) break;
    }
    return out;
  }

  end(): NativeOut[] {
    const out = this.start();
    if (this.#stopped)
      this.#done = true; // finished; the metadata event came, or the model sent none
    else this.#fail(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'), out);
    return out;
  }

  #render(event: StreamEvent, out: NativeOut[]): void {
    switch (event.kind) {
      case 'text':
        if (this.#stopped) return;
        this.#open('text', out);
        out.push(delta({ text: event.text }, this.#block!.index));
        return;
      case 'reasoning':
        if (this.#stopped) return;
        this.#open('reasoning', out);
        out.push(delta({ reasoningContent: { text: event.text } }, this.#block!.index));
        return;
      case 'tool_start':
        if (this.#stopped) return;
        this.#close(out);
        this.#block = { kind: 'tool', index: this.#nextIndex++, toolIndex: event.index };
        out.push({
          eventType: 'contentBlockStart',
          payload: { start: { toolUse: { toolUseId: event.id, name: event.name } }, contentBlockIndex: this.#block.index },
        });
        return;
      case 'tool_delta':
        if (this.#stopped || this.#block?.kind !== 'tool' || this.#block.toolIndex !== event.index) return;
        out.push(delta({ toolUse: { input: event.arguments } }, this.#block.index));
        return;
      case 'finish':
        if (this.#stopped) return;
        this.#close(out);
        this.#stopped = true;
        out.push({ eventType: 'messageStop', payload: { stopReason: stopReason(event) } });
        return;
      case 'reasoning_signature':
        // The last delta of its reasoning block, which it closes (a later reasoning event opens another).
        if (this.#stopped) return;
        this.#open('reasoning', out);
        out.push(delta({ reasoningContent: { signature: event.signature } }, this.#block!.index));
        this.#close(out);
        return;
      case 'reasoning_redacted':
        // A block of its own: Converse's redactedContent is a blob, the bytes of Claude's data (base64 in JSON).
        if (this.#stopped) return;
        this.#close(out);
        out.push(delta({ reasoningContent: { redactedContent: redactedBlob(event.data) } }, this.#nextIndex++));
        out.push({ eventType: 'contentBlockStop', payload: { contentBlockIndex: this.#nextIndex - 1 } });
        return;
      case 'prompt_usage':
        return; // Converse's usage is the final metadata event
      case 'compaction':
      case 'context_management':
        return; // Claude's compaction exists on InvokeModel only: Converse has no shape for it
      case 'usage':
        if (!this.#stopped) return;
        out.push({
          eventType: 'metadata',
          payload: {
            usage: converseUsage(event.usage),
            metrics: { latencyMs: this.#latencyMs() },
            ...(event.servedTier !== undefined ? { serviceTier: { type: event.servedTier } } : {}),
          },
        });
        this.#done = true;
        return;
      case 'error':
        // After messageStop the answer is whole: the stream ends as finished (the error is still logged).
        if (this.#stopped) {
          this.#done = true;
          return;
        }
        this.#fail(event.error, out);
        return;
    }
  }

  #open(kind: 'text' | 'reasoning', out: NativeOut[]): void {
    if (this.#block?.kind === kind) return;
    this.#close(out);
    this.#block = { kind, index: this.#nextIndex++ };
  }

  #close(out: NativeOut[]): void {
    if (!this.#block) return;
    out.push({ eventType: 'contentBlockStop', payload: { contentBlockIndex: this.#block.index } });
    this.#block = undefined;
  }

  #fail(error: SidecarError, out: NativeOut[]): void {
    this.#done = true;
    out.push({ error });
  }
}

function redactedBlob(data: string): string {
  return Buffer.from(data, 'utf8').toString('base64');
}

function delta(payload: Record<string, unknown>, contentBlockIndex: number): NativeOut {
  return { eventType: 'contentBlockDelta', payload: { delta: payload, contentBlockIndex } };
}

/** One ConverseStream. */
export class ConverseStreamRenderer extends EventStreamRenderer {
  constructor(latencyMs: () => number) {
    super(new ConverseEvents(latencyMs), CONVERSE_STREAM_EXCEPTIONS);
  }
}

/** The whole Converse response. */
export function converseAnswer(events: readonly StreamEvent[], latencyMs: number, servedTier?: string): WholeAnswer {
  const content: Array<Record<string, unknown>> = [];
  const tools: Array<{ id: string; name: string; input: string }> = [];
  let text: { text: string } | undefined;
  let reasoning: { text: string; signature?: string } | undefined;
  let stop = 'end_turn';
  let usage: Usage | undefined;
  for (const event of events) {
    switch (event.kind) {
      case 'text':
        reasoning = undefined;
        if (!text) content.push({ text: (text = { text: '' }) });
        text.text += event.text;
        break;
      case 'reasoning':
        text = undefined;
        if (!reasoning) content.push({ reasoningContent: { reasoningText: (reasoning = { text: '' }) } });
        reasoning.text += event.text;
        break;
      case 'tool_start': {
        text = undefined;
        reasoning = undefined;
        const call = { id: event.id, name: event.name, input: '' };
        tools[event.index] = call;
        content.push({ toolUse: call });
        break;
      }
      case 'tool_delta': {
        const call = tools[event.index];
        if (call) call.input += event.arguments;
        break;
      }
      case 'reasoning_signature':
        text = undefined;
        if (!reasoning) content.push({ reasoningContent: { reasoningText: (reasoning = { text: '' }) } });
        reasoning.signature = event.signature;
        reasoning = undefined; // it closes its block
        break;
      case 'reasoning_redacted':
        text = undefined;
        reasoning = undefined;
        content.push({ reasoningContent: { redactedContent: redactedBlob(event.data) } });
        break;
      case 'prompt_usage':
      case 'compaction': // Claude's compaction exists on InvokeModel only: Converse has no shape for it
      case 'context_management':
        break; // the final usage repeats it
      case 'finish':
        stop = stopReason(event);
        break;
      case 'usage':
        usage = event.usage;
        break;
      case 'error':
        return { error: event.error };
    }
  }
  const blocks = content.map((block) => {
    const call = block.toolUse as { id: string; name: string; input: string } | undefined;
    if (!call) return block.text ? { text: (block.text as { text: string }).text } : block;
    return { toolUse: { toolUseId: call.id, name: call.name, input: parseInput(call.input) } };
  });
  const body: Record<string, unknown> = { output: { message: { role: 'assistant', content: blocks } }, stopReason: stop };
  if (usage) body.usage = converseUsage(usage);
  body.metrics = { latencyMs };
  if (servedTier !== undefined) body.serviceTier = { type: servedTier };
  return { body, usage };
}

function parseInput(input: string): unknown {
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input);
  } catch {
    return {};
  }
}
