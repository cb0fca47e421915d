/**
 * Token counts in every spelling Bedrock uses: Anthropic's `usage`, the converse `usage` and the
 * `amazon-bedrock-invocationMetrics` object appended to the last chunk of an invoke stream.
 */
import type { StreamEvent, Usage } from '../pipeline/events.ts';
import type { StreamMapper } from './types.ts';

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
  const hour = hourWrites(u);
  if (hour !== undefined) out.cacheWrite1hTokens = hour;
  // Claude's sampling passes when it compacted (a `compaction` one, then the `message` one), kept as Claude wrote them.
  if (Array.isArray(u.iterations)) out.iterations = (u.iterations as unknown[]).filter(isRecord);
  return out;
}

/** A JSON object (not an array, not null): what Bedrock's members are read from. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The cache writes with a one-hour ttl: Claude's `cache_creation.ephemeral_1h_input_tokens`, or the `1h` entries of
 * converse's `cacheDetails` (`[{ttl: "1h", inputTokens}]`: earendil-works/pi #9457, measured 2026-09-10;
 * langchain-aws #1098). Undefined when the usage gives no split.
 */
function hourWrites(u: Record<string, unknown>): number | undefined {
  const creation = u.cache_creation;
  if (typeof creation === 'object' && creation !== null) return count((creation as Record<string, unknown>).ephemeral_1h_input_tokens);
  if (!Array.isArray(u.cacheDetails)) return undefined;
  let hour = 0;
  for (const entry of u.cacheDetails as unknown[]) {
    const e = entry as Record<string, unknown> | null;
    if (e?.ttl === '1h') hour += count(e.inputTokens) ?? 0;
  }
  return hour;
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

/** Reads an OpenAI-shaped `usage` (`prompt_tokens` includes cached tokens; ours keeps them apart). */
export function openAiUsageOf(raw: unknown): Partial<Usage> {
  if (typeof raw !== 'object' || raw === null) return {};
  const u = raw as Record<string, unknown>;
  const out: Partial<Usage> = {};
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  const details = u.prompt_tokens_details as Record<string, unknown> | undefined;
  const cached = count(details?.cached_tokens) ?? 0;
  if (prompt !== undefined) out.inputTokens = Math.max(0, prompt - cached);
  if (completion !== undefined) out.outputTokens = completion;
  if (cached > 0) out.cacheReadTokens = cached;
  return out;
}

/** Reads the `X-Amzn-Bedrock-*-Token-Count` headers of a non-streaming InvokeModel answer. */
export function usageFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>> | undefined): Partial<Usage> {
  if (!headers) return {};
  const read = (name: string): number | undefined => {
    const raw = headers[name] ?? headers[name.toLowerCase()];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
    return Number(value.trim());
  };
  const out: Partial<Usage> = {};
  const input = read('x-amzn-bedrock-input-token-count');
  const output = read('x-amzn-bedrock-output-token-count');
  const cacheRead = read('x-amzn-bedrock-cache-read-input-token-count');
  const cacheWrite = read('x-amzn-bedrock-cache-write-input-token-count');
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (cacheRead !== undefined) out.cacheReadTokens = cacheRead;
  if (cacheWrite !== undefined) out.cacheWriteTokens = cacheWrite;
  return out;
}

/** A complete Usage from partial counts, or undefined when Bedrock gave none at all. */
export function completeUsage(...parts: Array<Partial<Usage> | undefined>): Usage | undefined {
  const merged: Partial<Usage> = {};
  for (const part of parts) if (part) Object.assign(merged, part);
  if (Object.keys(merged).length === 0) return undefined;
  return { ...emptyUsage(), ...merged };
}

/**
 * Bedrock's `X-Amzn-Bedrock-*-Token-Count` response headers are authoritative: every count they carry
 * replaces the body's (which may lack it: a Nova answer with `usage: {inputTokens: 30}` and
 * `X-Amzn-Bedrock-Output-Token-Count: 51`). Counts the headers do not carry stay as the body said. A whole
 * answer (`whole`) that reported no usage at all gets one after its finish; a stream batch does not, as
 * its usage may come in a later batch.
 */
export function applyCountHeaders(events: readonly StreamEvent[], counts: Partial<Usage>, whole = true): StreamEvent[] {
  if (Object.keys(counts).length === 0) return [...events];
  const hasUsage = events.some((e) => e.kind === 'usage');
  const out: StreamEvent[] = [];
  for (const event of events) {
    out.push(event.kind === 'usage' ? { kind: 'usage', usage: { ...event.usage, ...counts } } : event);
    if (event.kind === 'finish' && whole && !hasUsage) out.push({ kind: 'usage', usage: { ...emptyUsage(), ...counts } });
  }
  return out;
}

/** The stream form of `applyCountHeaders`: a mapper whose usage takes the counts of the stream's response headers. */
export function withCountHeaders(mapper: StreamMapper, counts: Partial<Usage>): StreamMapper {
  if (Object.keys(counts).length === 0) return mapper;
  return {
    get terminated() {
      return mapper.terminated;
    },
    push: (event) => applyCountHeaders(mapper.push(event), counts, false),
    end: () => {
      const ended = mapper.end?.();
      return ended ? applyCountHeaders(ended, counts, false) : undefined;
    },
    whole: () => {
      const ending = mapper.whole?.();
      return ending ? applyCountHeaders(ending, counts, false) : undefined;
    },
  };
}
