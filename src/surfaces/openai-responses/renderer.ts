/**
 * The Responses renderer (docs/contract.md#openai-responses): neutral events → the Responses stream,
 * `event: <type>\ndata: {"type":<type>,"sequence_number":n,…}\n\n`, with the documented lifecycle:
 * `response.created`, `response.in_progress`; per output item `response.output_item.added` … `.done`; for a
 * message `response.content_part.added`, `response.output_text.delta`*, `response.output_text.done`,
 * `response.content_part.done`; for a function call `response.function_call_arguments.delta`* / `.done`
 * (a custom tool: `response.custom_tool_call_input.delta` / `.done`); for reasoning a summary part with
 * `response.reasoning_summary_text.delta`* / `.done`; last `response.completed` (or `response.incomplete`
 * for a length or content-filter stop) with the whole `output[]` and `usage`.
 *
 * The one ending: that terminal event, or — for a failure — an `error` event then `response.failed`. A
 * guardrail block is code `invalid_prompt`, message `Violated guardrail policy` (the code every client
 * treats as final; Codex retries any other five times). Only documented event types; the keep-alive is an
 * SSE comment. Pure: ids and the clock come in (`AnswerMeta`); item ids derive from the response id.
 *
 * A compaction request (`extras.compaction`, compaction.ts) renders no item while the model writes: its text
 * is the summary, and the answer is exactly one `compaction` item (`response.output_item.added` and `.done`)
 * before the terminal event; its reasoning and any tool call are left out, and an answer with no text fails.
 *
 * The same class builds the non-streaming answer: `response()` is the final object.
 */
import { SidecarError } from '../../errors.ts';
import type { Renderer } from '../../pipeline/encoder.ts';
import { promptTokens, type FinishReason, type StreamEvent, type Usage } from '../../pipeline/events.ts';
import type { ResponsesExtras } from './request.ts';
import { cacheTokenDetails } from '../chat-usage.ts';
import { sealCompaction } from './compaction.ts';
import { sealReasoning, type StoredReasoning } from './store.ts';

export interface ResponsesMeta {
  id: string;
  created: number;
  model: string;
  /** The tier Bedrock says served the call, when it said so in the response headers (invoke). */
  serviceTier?: string;
}

type Item = Record<string, unknown> & { type: string; id: string };
type ItemStatus = 'completed' | 'incomplete';

interface Open {
  kind: 'message' | 'reasoning' | 'function_call' | 'custom_tool_call';
  index: number;
  item: Item;
  text: string;
  /** Bedrock's tool index, for deltas. */
  tool?: number;
}

const KEEP_ALIVE = ': keep-alive\n\n';

export class ResponsesRenderer implements Renderer {
  #seq = 0;
  #frames = 0;
  #started = false;
  #done = false;
  #finish: FinishReason | undefined;
  #usage: Usage | undefined;
  #error: SidecarError | undefined;
  #open: Open | undefined;
  readonly #output: Item[] = [];
  readonly #reasoning = new Map<string, StoredReasoning>();
  #items = 0;
  #final: Record<string, unknown> | undefined;
  /** The tier that served the call, echoed as `service_tier` once known. */
  #servedTier: string | undefined;
  /** A compaction request's summary so far. */
  #summary = '';

  constructor(
    private readonly meta: ResponsesMeta,
    private readonly extras: ResponsesExtras,
    private readonly onComplete?: (renderer: ResponsesRenderer) => void,
  ) {}

  get finished(): boolean {
    return this.#done;
  }

  get frames(): number {
    return this.#frames;
  }

  /** The error that ended the answer, if one did. */
  get error(): SidecarError | undefined {
    return this.#error;
  }

  get usage(): Usage | undefined {
    return this.#usage;
  }

  /** Reasoning items of the answer by id (for the store). */
  get reasoning(): ReadonlyMap<string, StoredReasoning> {
    return this.#reasoning;
  }

  /** The items of the answer so far. */
  get output(): readonly Item[] {
    return this.#output;
  }

  heartbeat(): string {
    return KEEP_ALIVE;
  }

  start(): string {
    if (this.#started || this.#done) return '';
    this.#started = true;
    const response = this.#response('in_progress');
    return this.#event('response.created', { response }) + this.#event('response.in_progress', { response });
  }

  push(events: readonly StreamEvent[]): string {
    if (this.#done) return '';
    let out = this.start();
    for (const event of events) {
      out += this.#render(event);
      if (this.#done) break;
    }
    return out;
  }

  end(): string {
    if (this.#done) return '';
    let out = this.start();
    if (this.#finish === undefined)
      return out + this.#fail(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'));
    out += this.#complete();
    return out;
  }

  /** The final response object (after `end()`), as a non-streaming answer and the store keep it. */
  response(): Record<string, unknown> {
    return this.#final ?? this.#response(this.#error ? 'failed' : 'in_progress');
  }

  #render(event: StreamEvent): string {
    if (this.extras.compaction) return this.#renderCompaction(event);
    switch (event.kind) {
      case 'text': {
        let out = '';
        if (this.#open?.kind !== 'message') out += this.#openMessage();
        const open = this.#open!;
        open.text += event.text;
        return (
          out +
          this.#event('response.output_text.delta', {
            item_id: open.item.id,
            output_index: open.index,
            content_index: 0,
            delta: event.text,
            logprobs: [],
          })
        );
      }
      case 'reasoning': {
        let out = '';
        // A reasoning event after a signature starts a new block: a new item.
        if (this.#open?.kind !== 'reasoning' || this.#reasoning.has(this.#open.item.id)) out += this.#openReasoning();
        const open = this.#open!;
        open.text += event.text;
        return (
          out +
          this.#event('response.reasoning_summary_text.delta', {
            item_id: open.item.id,
            output_index: open.index,
            summary_index: 0,
            delta: event.text,
          })
        );
      }
      case 'reasoning_signature': {
        let out = '';
        if (this.#open?.kind !== 'reasoning') out += this.#openReasoning();
        const open = this.#open!;
        this.#reasoning.set(open.item.id, { text: open.text, signature: event.signature });
        return out;
      }
      case 'reasoning_redacted': {
        let out = this.#close();
        out += this.#openReasoning();
        this.#reasoning.set(this.#open!.item.id, { text: '', redacted: event.data });
        return out + this.#close();
      }
      case 'tool_start': {
        let out = this.#close();
        const shape = this.extras.tools.get(event.name);
        const index = this.#output.length;
        const custom = shape?.kind === 'custom';
        const item: Item = custom
          ? { type: 'custom_tool_call', id: `ctc_${this.#itemId()}`, status: 'in_progress', call_id: event.id, name: shape.name, input: '' }
          : {
              type: 'function_call',
              id: `fc_${this.#itemId()}`,
              status: 'in_progress',
              call_id: event.id,
              name: shape?.name ?? event.name,
              arguments: '',
            };
        if (shape?.namespace !== undefined) item.namespace = shape.namespace;
        this.#output.push(item);
        this.#open = { kind: custom ? 'custom_tool_call' : 'function_call', index, item, text: '', tool: event.index };
        out += this.#event('response.output_item.added', { output_index: index, item: { ...item } });
        return out;
      }
      case 'tool_delta': {
        const open = this.#open;
        if (!open || open.tool !== event.index) return '';
        open.text += event.arguments;
        // A custom tool's input is one JSON string argument upstream: it is sent whole when the call ends.
        if (open.kind === 'custom_tool_call') return '';
        return this.#event('response.function_call_arguments.delta', {
          item_id: open.item.id,
          output_index: open.index,
          delta: event.arguments,
        });
      }
      case 'finish':
        this.#finish = event.reason;
        // A length or content-filter stop leaves the item it cut short `incomplete`, as OpenAI marks it.
        return this.#close(incompleteReason(event.reason) === undefined ? 'completed' : 'incomplete');
      case 'usage':
        this.#usage = event.usage;
        this.#servedTier ??= event.servedTier; // converse says it in its trailing metadata
        return '';
      case 'prompt_usage':
        return ''; // the whole usage comes with the ending
      case 'compaction':
      case 'context_management':
        // Claude's compaction block is handed back whole or not at all (its encrypted_content): no Responses item
        // carries it, and its summary as a message would read as the model's answer.
        return '';
      case 'error':
        // After the model's final event the answer is whole: it keeps its one ending.
        if (this.#finish !== undefined) return this.#complete();
        return this.#fail(event.error);
    }
  }

  /** A compaction request: the text is kept as the summary; the item is rendered at the end (#complete). */
  #renderCompaction(event: StreamEvent): string {
    switch (event.kind) {
      case 'text':
        this.#summary += event.text;
        return '';
      case 'finish':
        this.#finish = event.reason;
        return '';
      case 'usage':
        this.#usage = event.usage;
        this.#servedTier ??= event.servedTier;
        return '';
      case 'error':
        if (this.#finish !== undefined) return this.#complete();
        return this.#fail(event.error);
      default:
        return ''; // reasoning, tool calls: not part of a summary
    }
  }

  /** The one compaction item, its added and done events. */
  #compactionItem(): string {
    const index = this.#output.length;
    const item: Item = { type: 'compaction', id: `cmp_${this.#itemId()}`, encrypted_content: sealCompaction(this.#summary.trim()) };
    this.#output.push(item);
    return (
      this.#event('response.output_item.added', { output_index: index, item: { ...item } }) +
      this.#event('response.output_item.done', { output_index: index, item })
    );
  }

  #itemId(): string {
    return `${this.meta.id.replace(/^resp_/, '')}_${++this.#items}`;
  }

  #openMessage(): string {
    const out = this.#close();
    const index = this.#output.length;
    const item: Item = { type: 'message', id: `msg_${this.#itemId()}`, status: 'in_progress', role: 'assistant', content: [] };
    this.#output.push(item);
    this.#open = { kind: 'message', index, item, text: '' };
    return (
      out +
      this.#event('response.output_item.added', { output_index: index, item: { ...item, content: [] } }) +
      this.#event('response.content_part.added', {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      })
    );
  }

  #openReasoning(): string {
    const out = this.#close();
    const index = this.#output.length;
    const item: Item = { type: 'reasoning', id: `rs_${this.#itemId()}`, summary: [] };
    this.#output.push(item);
    this.#open = { kind: 'reasoning', index, item, text: '' };
    return (
      out +
      this.#event('response.output_item.added', { output_index: index, item: { ...item, summary: [] } }) +
      this.#event('response.reasoning_summary_part.added', {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: 'summary_text', text: '' },
      })
    );
  }

  /**
   * The open item's shape in `output` as it stands: its text so far, and `status` for a message or a call
   * (`completed`, or `incomplete` for one cut short by a stop or a failure).
   */
  #settle(open: Open, status: ItemStatus): void {
    const { item, text } = open;
    switch (open.kind) {
      case 'message':
        item.content = [{ type: 'output_text', text, annotations: [] }];
        item.status = status;
        return;
      case 'reasoning':
        if (this.#reasoning.get(item.id)?.redacted === undefined) item.summary = [{ type: 'summary_text', text }];
        return;
      case 'function_call':
        item.arguments = text;
        item.status = status;
        return;
      case 'custom_tool_call':
        item.input = customInput(text);
        item.status = status;
        return;
    }
  }

  /** Closes the open item: its done events, and its final shape in `output`. */
  #close(status: ItemStatus = 'completed'): string {
    const open = this.#open;
    if (!open) return '';
    this.#open = undefined;
    const { item, index, text } = open;
    let out = '';
    switch (open.kind) {
      case 'message': {
        this.#settle(open, status);
        const part = (item.content as unknown[])[0];
        out += this.#event('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text, logprobs: [] });
        out += this.#event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part });
        break;
      }
      case 'reasoning': {
        const stored = this.#reasoning.get(item.id) ?? { text };
        if (!this.#reasoning.has(item.id)) this.#reasoning.set(item.id, stored);
        if (stored.redacted === undefined) {
          const part = { type: 'summary_text', text };
          item.summary = [part];
          out += this.#event('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text });
          out += this.#event('response.reasoning_summary_part.done', { item_id: item.id, output_index: index, summary_index: 0, part });
        }
        if (this.extras.includeEncrypted || stored.redacted !== undefined) item.encrypted_content = sealReasoning(stored);
        break;
      }
      case 'function_call':
        this.#settle(open, status);
        out += this.#event('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: text });
        break;
      case 'custom_tool_call': {
        this.#settle(open, status);
        const input = item.input;
        out += this.#event('response.custom_tool_call_input.delta', { item_id: item.id, output_index: index, delta: input });
        out += this.#event('response.custom_tool_call_input.done', { item_id: item.id, output_index: index, input });
        break;
      }
    }
    return out + this.#event('response.output_item.done', { output_index: index, item });
  }

  #complete(): string {
    let out = this.#close();
    if (this.extras.compaction) {
      if (this.#summary.trim() === '')
        return out + this.#fail(new SidecarError('upstream_protocol_error', 'the model answered the compaction with no summary text'));
      out += this.#compactionItem();
    }
    const incomplete = incompleteReason(this.#finish);
    const response = this.#response(incomplete ? 'incomplete' : 'completed');
    if (incomplete) response.incomplete_details = { reason: incomplete };
    this.#final = response;
    this.#done = true;
    this.onComplete?.(this);
    return out + this.#event(incomplete ? 'response.incomplete' : 'response.completed', { response });
  }

  #fail(error: SidecarError): string {
    this.#error = error;
    // The item the failure cut short stays in `output` as it stood: what was streamed of it, `incomplete`.
    if (this.#open) this.#settle(this.#open, 'incomplete');
    this.#open = undefined;
    const code = errorCode(error);
    const detail: Record<string, unknown> = { code, message: error.message };
    if (error.guardrail !== undefined) detail.guardrail = error.guardrail;
    const response = this.#response('failed');
    response.error = detail;
    this.#final = response;
    this.#done = true;
    return (
      this.#event('error', {
        code,
        message: error.message,
        param: null,
        ...(error.guardrail !== undefined ? { guardrail: error.guardrail } : {}),
      }) + this.#event('response.failed', { response })
    );
  }

  #response(status: string): Record<string, unknown> {
    const e = this.extras;
    const response: Record<string, unknown> = {
      id: this.meta.id,
      object: 'response',
      created_at: this.meta.created,
      status,
      error: null,
      incomplete_details: null,
      instructions: e.instructions,
      max_output_tokens: e.echo.max_output_tokens ?? null,
      model: this.meta.model,
      output: status === 'in_progress' ? [] : this.#output.map((item) => ({ ...item })),
      parallel_tool_calls: e.echo.parallel_tool_calls ?? true,
      previous_response_id: e.previousResponseId ?? null,
      reasoning: e.echo.reasoning ?? { effort: null, summary: null },
      store: e.store,
      temperature: e.echo.temperature ?? null,
      text: e.echo.text ?? { format: { type: 'text' } },
      tool_choice: e.echo.tool_choice ?? 'auto',
      tools: [],
      top_p: e.echo.top_p ?? null,
      truncation: 'disabled',
      ...((this.#servedTier ?? this.meta.serviceTier) !== undefined ? { service_tier: this.#servedTier ?? this.meta.serviceTier } : {}),
      usage: this.#usage && status !== 'in_progress' ? usageJson(this.#usage) : null,
      user: e.echo.user ?? null,
      metadata: e.echo.metadata ?? {},
    };
    return response;
  }

  #event(type: string, fields: Record<string, unknown>): string {
    this.#frames++;
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#seq++, ...fields })}\n\n`;
  }
}

/** `incomplete_details.reason` for a stop that leaves the answer incomplete, else undefined. */
function incompleteReason(finish: FinishReason | undefined): 'max_output_tokens' | 'content_filter' | undefined {
  return finish === 'length' ? 'max_output_tokens' : finish === 'content_filter' ? 'content_filter' : undefined;
}

/**
 * Codes clients act on: `invalid_prompt` is final for every one of them, `context_length_exceeded` too, and Codex
 * tells its user the context is full (docs/contract.md#openai-responses).
 */
function errorCode(error: SidecarError): string {
  if (error.contextOverflow) return 'context_length_exceeded';
  switch (error.type) {
    case 'guardrail_violation':
    case 'invalid_request_error':
    case 'unsupported_parameter':
      return 'invalid_prompt';
    case 'rate_limit_error':
      return 'rate_limit_exceeded';
    default:
      return 'server_error';
  }
}

function usageJson(usage: Usage): Record<string, unknown> {
  const input = promptTokens(usage);
  return {
    input_tokens: input,
    input_tokens_details: cacheTokenDetails(usage),
    output_tokens: usage.outputTokens,
    // Bedrock does not count reasoning tokens apart: they are inside output_tokens.
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + usage.outputTokens,
  };
}

/** A custom tool's call upstream is `{"input": "<text>"}`; anything else is passed on as the model wrote it. */
function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as { input?: unknown };
    if (typeof parsed.input === 'string') return parsed.input;
  } catch {
    // the model's own text, not JSON
  }
  return args;
}
