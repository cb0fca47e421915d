/**
 * The oracle of the real-traffic replays: what a client must get for a recording of real Bedrock, read from
 * the recorded bytes with this file's own reading of each family's format (the event-stream framing from
 * real-traffic.ts; nothing from src/providers or src/pipeline). Stated in Chat Completions' terms — content,
 * reasoning, tool calls, one finish reason with the documented mapping, usage — which each surface's replay
 * maps to its own (test/e2e/real-traffic-replay.test.ts, real-traffic-surfaces.test.ts).
 */
import assert from 'node:assert/strict';
import { frames, type Json, type Recording } from './real-traffic.ts';

export type { Json };

// the event-stream framing; the families' formats are read here).

/** The documented mapping (docs/contract.md#streaming-and-errors), for every stop reason the recordings use. */
const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  FINISH: 'stop',
  LENGTH: 'length',
  stop: 'stop',
  length: 'length',
  MAX_TOKENS: 'length',
  COMPLETE: 'stop',
};

function finishFor(reason: unknown, intervened: boolean): string {
  if (intervened) return 'content_filter';
  assert.equal(typeof reason, 'string', 'the recording states a stop reason');
  const mapped = FINISH[reason as string];
  assert.ok(mapped, `the oracle knows the recorded stop reason ${String(reason)}`);
  return mapped;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  /** Tokens written to the prompt cache: OpenAI's `cache_write_tokens`, given only when there were some. */
  cache_write_tokens: number;
}
export type Expected =
  | { kind: 'answer'; content: string; reasoning: string; tools: ToolCall[]; finish: string; usage: Usage }
  | { kind: 'error'; status: number; type: string };

interface Counts {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

function usageOf(c: Counts): Usage {
  const cacheRead = c.cacheRead ?? 0;
  const cacheWrite = c.cacheWrite ?? 0;
  return {
    prompt_tokens: (c.input ?? 0) + cacheRead + cacheWrite,
    completion_tokens: c.output ?? 0,
    cached_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** `amazon-bedrock-invocationMetrics` (on an invoke stream's last chunk) as counts. */
function metricsCounts(event: Json): Counts | undefined {
  const m = event['amazon-bedrock-invocationMetrics'] as Json | undefined;
  if (!m) return undefined;
  return {
    input: num(m.inputTokenCount),
    output: num(m.outputTokenCount),
    cacheRead: num(m.cacheReadInputTokenCount),
    cacheWrite: num(m.cacheWriteInputTokenCount),
  };
}

function merge(base: Counts, over: Counts | undefined): Counts {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {}) as Array<[keyof Counts, number | undefined]>) if (v !== undefined) out[k] = v;
  return out;
}

function converseUsage(u: Json | undefined): Counts {
  return {
    input: num(u?.inputTokens),
    output: num(u?.outputTokens),
    cacheRead: num(u?.cacheReadInputTokens),
    cacheWrite: num(u?.cacheWriteInputTokens),
  };
}

const intervenedIn = (e: Json): boolean => e['amazon-bedrock-guardrailAction'] === 'INTERVENED';

/** Converse-shaped stream events (ConverseStream frames, Nova's invoke chunks): `{name, payload}` each. */
function fromConverseEvents(events: Array<{ name: string; payload: Json; raw: Json }>): Expected {
  let content = '';
  let reasoning = '';
  const tools = new Map<number, ToolCall>();
  let stop: unknown;
  let counts: Counts = {};
  let intervened = false;
  for (const { name, payload, raw } of events) {
    intervened ||= intervenedIn(raw);
    if (name === 'contentBlockStart') {
      const toolUse = (payload.start as Json | undefined)?.toolUse as Json | undefined;
      if (toolUse && toolUse.type !== 'server_tool_use')
        tools.set(payload.contentBlockIndex as number, { id: toolUse.toolUseId as string, name: toolUse.name as string, arguments: '' });
    } else if (name === 'contentBlockDelta') {
      const delta = payload.delta as Json;
      if (typeof delta.text === 'string') content += delta.text;
      const r = delta.reasoningContent as Json | undefined;
      if (typeof r?.text === 'string') reasoning += r.text;
      const toolUse = delta.toolUse as Json | undefined;
      const call = tools.get(payload.contentBlockIndex as number);
      if (call && typeof toolUse?.input === 'string') call.arguments += toolUse.input;
    } else if (name === 'messageStop') {
      stop = payload.stopReason;
    } else if (name === 'metadata') {
      counts = merge(merge(counts, converseUsage(payload.usage as Json | undefined)), metricsCounts(raw));
    }
  }
  return { kind: 'answer', content, reasoning, tools: [...tools.values()], finish: finishFor(stop, intervened), usage: usageOf(counts) };
}

function fromAnthropicEvents(events: Json[]): Expected {
  let content = '';
  let reasoning = '';
  const tools = new Map<number, ToolCall>();
  let stop: unknown;
  let counts: Counts = {};
  let intervened = false;
  for (const e of events) {
    intervened ||= intervenedIn(e);
    if (e.type === 'message_start') {
      const u = (e.message as Json).usage as Json;
      counts = {
        input: num(u.input_tokens),
        output: num(u.output_tokens),
        cacheRead: num(u.cache_read_input_tokens),
        cacheWrite: num(u.cache_creation_input_tokens),
      };
    } else if (e.type === 'content_block_start') {
      const block = e.content_block as Json;
      if (block.type === 'text') content += block.text as string;
      if (block.type === 'tool_use') tools.set(e.index as number, { id: block.id as string, name: block.name as string, arguments: '' });
    } else if (e.type === 'content_block_delta') {
      const d = e.delta as Json;
      if (d.type === 'text_delta') content += d.text as string;
      if (d.type === 'thinking_delta') reasoning += d.thinking as string;
      if (d.type === 'input_json_delta') tools.get(e.index as number)!.arguments += d.partial_json as string;
    } else if (e.type === 'message_delta') {
      stop = (e.delta as Json).stop_reason;
      counts = merge(counts, { output: num((e.usage as Json | undefined)?.output_tokens) });
    } else if (e.type === 'message_stop') {
      counts = merge(counts, metricsCounts(e));
    }
  }
  return { kind: 'answer', content, reasoning, tools: [...tools.values()], finish: finishFor(stop, intervened), usage: usageOf(counts) };
}

/** The completion-style invoke families: each chunk a piece of text, the last one the stop reason. */
function fromCompletionChunks(events: Json[], read: (e: Json) => { text?: unknown; stop?: unknown; counts?: Counts }): Expected {
  let content = '';
  let stop: unknown;
  let counts: Counts = {};
  let intervened = false;
  for (const e of events) {
    intervened ||= intervenedIn(e);
    const r = read(e);
    if (typeof r.text === 'string') content += r.text;
    if (r.stop !== undefined && r.stop !== null) stop = r.stop;
    counts = merge(merge(counts, r.counts), metricsCounts(e));
  }
  return { kind: 'answer', content, reasoning: '', tools: [], finish: finishFor(stop, intervened), usage: usageOf(counts) };
}

/** Token-count response headers, which Bedrock's non-streaming InvokeModel answers carry. */
function headerCounts(headers: Record<string, string>): Counts {
  const n = (name: string): number | undefined => (headers[name] === undefined ? undefined : Number(headers[name]));
  return {
    input: n('x-amzn-bedrock-input-token-count'),
    output: n('x-amzn-bedrock-output-token-count'),
    cacheRead: n('x-amzn-bedrock-cache-read-input-token-count'),
    cacheWrite: n('x-amzn-bedrock-cache-write-input-token-count'),
  };
}

function family(route: string): string {
  const id = route
    .split('/')
    .at(-1)!
    .replace(/^arn:aws:bedrock:[^:]*::foundation-model\//, '')
    .replace(/^(us|eu|apac)\./, '');
  return id.split(/[.-]/)[0] === 'amazon' ? id.split('-')[0]! : id.split('.')[0]!;
}

export function expectedOf(rec: Recording): Expected {
  if (rec.status !== 200) {
    const errorType = rec.headers['x-amzn-errortype']!.split(':')[0]!;
    // docs/contract.md#streaming-and-errors: Bedrock's errors before any stream, by type.
    const mapped: Record<string, { status: number; type: string }> = {
      ValidationException: { status: 400, type: 'invalid_request_error' },
      AccessDeniedException: { status: 403, type: 'permission_error' },
      UnrecognizedClientException: { status: 403, type: 'permission_error' },
      InvalidSignatureException: { status: 403, type: 'permission_error' },
    };
    assert.ok(mapped[errorType], `the oracle knows ${errorType}`);
    return { kind: 'error', ...mapped[errorType] };
  }
  const fam = family(rec.route);
  if (rec.operation === 'converse-stream') {
    return fromConverseEvents(
      frames(rec.body).map((f) => {
        const payload = JSON.parse(f.payload.toString('utf8')) as Json;
        return { name: f.headers[':event-type']!, payload, raw: payload };
      }),
    );
  }
  if (rec.operation === 'invoke-with-response-stream') {
    const events = frames(rec.body).map(
      (f) => JSON.parse(Buffer.from((JSON.parse(f.payload.toString('utf8')) as Json).bytes as string, 'base64').toString('utf8')) as Json,
    );
    switch (fam) {
      case 'anthropic':
        return fromAnthropicEvents(events);
      case 'amazon.nova':
        return fromConverseEvents(
          events.map((raw) => {
            const name = Object.keys(raw).find((k) => !k.startsWith('amazon-bedrock-'))!;
            return { name, payload: raw[name] as Json, raw };
          }),
        );
      case 'amazon.titan':
        return fromCompletionChunks(events, (e) => ({
          text: e.outputText,
          stop: e.completionReason,
          counts: { input: num(e.inputTextTokenCount), output: num(e.totalOutputTextTokenCount) },
        }));
      case 'meta':
        return fromCompletionChunks(events, (e) => ({
          text: e.generation,
          stop: e.stop_reason,
          counts: { input: num(e.prompt_token_count), output: num(e.generation_token_count) },
        }));
      case 'mistral':
        return fromCompletionChunks(events, (e) => {
          const out = (e.outputs as Json[])[0]!;
          return { text: out.text, stop: out.stop_reason };
        });
      case 'cohere':
        return fromCompletionChunks(events, (e) => ({
          text: e.event_type === 'text-generation' ? e.text : undefined,
          stop: e.event_type === 'stream-end' ? e.finish_reason : undefined,
        }));
      default:
        throw new Error(`no oracle for ${fam} streams`);
    }
  }
  const body = JSON.parse(rec.body.toString('utf8')) as Json;
  if (rec.operation === 'converse' || fam === 'amazon.nova') {
    let content = '';
    let reasoning = '';
    const tools: ToolCall[] = [];
    for (const block of ((body.output as Json).message as Json).content as Json[]) {
      if (typeof block.text === 'string') content += block.text;
      const r = (block.reasoningContent as Json | undefined)?.reasoningText as Json | undefined;
      if (typeof r?.text === 'string') reasoning += r.text;
      const t = block.toolUse as Json | undefined;
      if (t && t.type !== 'server_tool_use')
        tools.push({ id: t.toolUseId as string, name: t.name as string, arguments: JSON.stringify(t.input) });
    }
    const counts = merge(converseUsage(body.usage as Json | undefined), headerCounts(rec.headers));
    return { kind: 'answer', content, reasoning, tools, finish: finishFor(body.stopReason, intervenedIn(body)), usage: usageOf(counts) };
  }
  const headers = headerCounts(rec.headers);
  const answer = (content: string, stop: unknown, bodyCounts: Counts): Expected => ({
    kind: 'answer',
    content,
    reasoning: '',
    tools: [],
    finish: finishFor(stop, intervenedIn(body)),
    usage: usageOf(merge(bodyCounts, headers)),
  });
  switch (fam) {
    case 'anthropic': {
      const u = body.usage as Json;
      const text = (body.content as Json[])
        .filter((b) => b.type === 'text')
        .map((b) => b.text as string)
        .join('');
      return answer(text, body.stop_reason, {
        input: num(u.input_tokens),
        output: num(u.output_tokens),
        cacheRead: num(u.cache_read_input_tokens),
        cacheWrite: num(u.cache_creation_input_tokens),
      });
    }
    case 'amazon.titan': {
      const r = (body.results as Json[])[0]!;
      return answer(r.outputText as string, r.completionReason, { input: num(body.inputTextTokenCount), output: num(r.tokenCount) });
    }
    case 'meta':
      return answer(body.generation as string, body.stop_reason, {
        input: num(body.prompt_token_count),
        output: num(body.generation_token_count),
      });
    case 'mistral': {
      const o = (body.outputs as Json[])[0]!;
      return answer(o.text as string, o.stop_reason, {});
    }
    case 'cohere':
      return answer(body.text as string, body.finish_reason, {});
    case 'ai21':
    case 'openai': {
      const c = (body.choices as Json[])[0]!;
      const u = body.usage as Json;
      return answer((c.message as Json).content as string, c.finish_reason, {
        input: num(u.prompt_tokens),
        output: num(u.completion_tokens),
      });
    }
    default:
      throw new Error(`no oracle for ${fam} answers`);
  }
}
