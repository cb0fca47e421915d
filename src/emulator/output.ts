// The family-independent "what the model says" for one call, built from a text/tool_use reply.
// Families render it into their native shapes. Text is produced lazily (`pieces()`), so a reply of
// `repeat` × text can be megabytes long without being held in memory by the stream path.
import type { ScriptedUsage, TextReply, ToolUseReply } from './types.ts';

export interface PlannedToolCall {
  /** Scripted id, or undefined: the family makes one in its own style from `seq`. */
  id: string | undefined;
  seq: number;
  name: string;
  input: unknown;
  argumentsJson: string;
  argumentDeltas: string[];
  /** The reasoning block before this call, if scripted, and its own signature. */
  reasoning: LazyText | undefined;
  reasoningSignature: string;
}

export interface LazyText {
  /** Stream pieces, in order; their concatenation is `full()` (unless scripted deltas say otherwise). */
  pieces(): Iterable<string>;
  full(): string;
  bytes: number;
}

export interface OutputPlan {
  reasoning: LazyText | undefined;
  reasoningSignature: string;
  text: LazyText;
  toolCalls: PlannedToolCall[];
  /** Converse vocabulary (`end_turn`, `tool_use`, `max_tokens`, …) or a family-native value. */
  stopReason: string;
  usage: Required<Pick<ScriptedUsage, 'inputTokens' | 'outputTokens'>> &
    Pick<ScriptedUsage, 'cacheReadTokens' | 'cacheWriteTokens' | 'cacheWrite1hTokens'>;
  /** A scripted compaction (Claude on InvokeModel), its `encrypted_content` filled in. */
  compaction?: { content: string | null; encryptedContent: string };
  /**
   * What the request asked of Claude's context management (set by the anthropic family): whether its answer
   * carries `context_management`, and whether it stops after a compaction.
   */
  contextManagement?: { pauseAfterCompaction: boolean };
}

export const DEFAULT_PIECE_BYTES = 20;

/** Cuts `text` into pieces of about `maxBytes` UTF-8 bytes, never inside a code point. */
export function splitUtf8(text: string, maxBytes = DEFAULT_PIECE_BYTES): string[] {
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const cp of text) {
    const b = Buffer.byteLength(cp, 'utf8');
    if (curBytes > 0 && curBytes + b > maxBytes) {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur += cp;
    curBytes += b;
  }
  if (cur !== '') out.push(cur);
  return out;
}

export function lazyText(text: string, deltas?: string[], repeat = 1): LazyText {
  const base = deltas ?? splitUtf8(text);
  const times = Math.max(0, Math.floor(repeat));
  return {
    *pieces() {
      for (let i = 0; i < times; i++) yield* base;
    },
    full: () => text.repeat(times),
    bytes: Buffer.byteLength(text, 'utf8') * times,
  };
}

/** Token estimate used when a reply does not script usage: one token per 4 UTF-8 bytes, at least 1. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

export function planFromReply(reply: TextReply | ToolUseReply, requestBytes: number, callSeq: number): OutputPlan {
  const reasoningText = reply.reasoning;
  const reasoning =
    reasoningText === undefined ? undefined : lazyText(reasoningText, reply.type === 'text' ? reply.reasoningDeltas : undefined);
  const text = reply.type === 'text' ? lazyText(reply.text, reply.deltas, reply.repeat ?? 1) : lazyText(reply.text ?? '', reply.deltas);
  const toolCalls: PlannedToolCall[] =
    reply.type === 'tool_use'
      ? reply.calls.map((c, i) => {
          const argumentsJson = JSON.stringify(c.input ?? {});
          return {
            id: c.id,
            seq: callSeq * 100 + i,
            name: c.name,
            input: c.input ?? {},
            argumentsJson,
            argumentDeltas: c.argumentDeltas ?? splitUtf8(argumentsJson),
            reasoning: c.reasoning === undefined ? undefined : lazyText(c.reasoning),
            reasoningSignature: c.reasoning === undefined ? '' : Buffer.from(`emulator-signature-${callSeq}-${i + 1}`).toString('base64'),
          };
        })
      : [];
  const outBytes =
    text.bytes + (reasoning?.bytes ?? 0) + toolCalls.reduce((n, c) => n + c.argumentsJson.length + (c.reasoning?.bytes ?? 0), 0);
  const usage = reply.usage ?? {};
  return {
    reasoning,
    reasoningSignature: reasoning ? Buffer.from(`emulator-signature-${callSeq}`).toString('base64') : '',
    text,
    toolCalls,
    stopReason: reply.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end_turn'),
    usage: {
      inputTokens: usage.inputTokens ?? estimateTokens(requestBytes),
      outputTokens: usage.outputTokens ?? estimateTokens(outBytes),
      cacheReadTokens: usage.cacheReadTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      cacheWrite1hTokens: usage.cacheWrite1hTokens,
    },
    ...(reply.compaction
      ? {
          compaction: {
            content: reply.compaction.content,
            encryptedContent: reply.compaction.encryptedContent ?? Buffer.from(`emulator-compaction-${callSeq}`).toString('base64'),
          },
        }
      : {}),
  };
}
