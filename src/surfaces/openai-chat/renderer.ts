/**
 * The Chat Completions renderer (docs/contract.md#streaming-and-errors): renders internal events as OpenAI
 * `chat.completion.chunk` server-sent events. The pipeline's encoder stage (src/pipeline/encoder.ts)
 * drives it, one batch of `StreamEvent`s at a time; each call returns every frame of that batch as one
 * string, so a batch costs one socket write.
 *
 * Invariants:
 * - Frames are `data: <one-line JSON>\n\n`. Model text only ever travels inside JSON strings rendered by
 *   `JSON.stringify`, which escapes newlines and quotes, so it can never inject SSE syntax.
 * - The first frame carries `delta: {"role":"assistant","content":""}`; `choices[0].index` is always 0.
 * - A stream ends exactly once with `data: [DONE]\n\n`, after either a `finish` chunk or an error frame.
 *   If the input ends with neither, `end()` does not invent a finish: it renders an
 *   `upstream_protocol_error` frame, then `[DONE]`. Nothing is rendered after `[DONE]`; an `error` event
 *   is rendered as the error frame immediately followed by `[DONE]`.
 * - No clock and no id generator inside: `id` and `created` are injected, so a fixture renders
 *   byte-identical output.
 * - The keep-alive is the SSE comment `: keep-alive`.
 *
 * Errors: never throws on well-typed input; an error is input data, rendered as a frame.
 */
import type { ReasoningField } from '../../config/schema.ts';
import { SidecarError } from '../../errors.ts';
import type { Renderer } from '../../pipeline/encoder.ts';
import type { StreamEvent } from '../../pipeline/events.ts';
import { chatUsage } from '../chat-usage.ts';

export interface ChatRendererOptions {
  /** The completion id shared by every chunk of the stream (`chatcmpl-…`). */
  id: string;
  /** Unix time in seconds, shared by every chunk of the stream. */
  created: number;
  /** The model name echoed to the client. */
  model: string;
  /** `stream_options.include_usage`: render the `usage` event as a chunk with `choices: []`. */
  includeUsage: boolean;
  /** Which delta field carries reasoning text (default `reasoning_content`). */
  reasoningField?: ReasoningField;
  /** The tier that served the call, echoed as `service_tier` on every chunk when Bedrock named it. */
  serviceTier?: string;
}

/**
 * The reasoning delta for a configured field (docs/contract.md#request-rules): `reasoning_content` (what most
 * clients read), `reasoning` (the OpenAI Agents SDK), or both. `text` is already JSON-encoded.
 */
export function reasoningDelta(field: ReasoningField, text: string): string {
  switch (field) {
    case 'reasoning_content':
      return `{"reasoning_content":${text}}`;
    case 'reasoning':
      return `{"reasoning":${text}}`;
    case 'both':
      return `{"reasoning_content":${text},"reasoning":${text}}`;
  }
}

export const SSE_DONE = 'data: [DONE]\n\n';
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

/** One instance per stream. */
export class ChatRenderer implements Renderer {
  readonly #includeUsage: boolean;
  readonly #reasoningField: ReasoningField;
  /** `data: {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":0,"delta":` */
  #choicePrefix: string;
  /** `data: {"id":…,"object":…,"created":…,"model":…,"choices":[],"usage":` */
  #usagePrefix: string;
  readonly #options: ChatRendererOptions;
  #started = false;
  #sawFinish = false;
  #done = false;
  #frames = 0;

  constructor(options: ChatRendererOptions) {
    if (!Number.isSafeInteger(options.created)) {
      throw new RangeError(`created must be an integer (Unix seconds), got ${options.created}`);
    }
    this.#options = options;
    [this.#choicePrefix, this.#usagePrefix] = prefixes(options, options.serviceTier);
    this.#includeUsage = options.includeUsage;
    this.#reasoningField = options.reasoningField ?? 'reasoning_content';
  }

  /** Whether `[DONE]` has been rendered: every later call returns `''`. */
  get finished(): boolean {
    return this.#done;
  }

  get frames(): number {
    return this.#frames;
  }

  heartbeat(): string {
    return SSE_KEEP_ALIVE;
  }

  /**
   * The role frame that opens the stream. Returned once; later calls (and calls after `[DONE]`) return
   * `''`. `push` and `end` prepend it themselves if it was never asked for.
   */
  start(): string {
    if (this.#started || this.#done) return '';
    this.#started = true;
    this.#frames++;
    return `${this.#choicePrefix}{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
  }

  /** All frames for one batch, concatenated; `''` when the batch renders nothing. */
  push(events: readonly StreamEvent[]): string {
    if (this.#done) return '';
    let out = this.start();
    for (const event of events) {
      out += this.#render(event);
      if (this.#done) break; // an error frame and [DONE] were rendered: the rest is dropped
    }
    return out;
  }

  /**
   * The end of the stream: `[DONE]` if not sent yet, preceded by a protocol error frame when neither a
   * `finish` nor an `error` was seen.
   */
  end(): string {
    if (this.#done) return '';
    let out = this.start();
    if (!this.#sawFinish) {
      out += this.#error(new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error'));
    } else {
      out += SSE_DONE;
      this.#done = true;
    }
    return out;
  }

  #render(event: StreamEvent): string {
    switch (event.kind) {
      // Strings are spliced in already JSON-encoded: the same bytes as JSON.stringify of the delta object.
      case 'text':
        return this.#chunk(`{"content":${JSON.stringify(event.text)}}`);
      case 'reasoning':
        return this.#chunk(reasoningDelta(this.#reasoningField, JSON.stringify(event.text)));
      case 'tool_start':
        return this.#chunk(
          JSON.stringify({
            tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }],
          }),
        );
      case 'tool_delta':
        return this.#chunk(JSON.stringify({ tool_calls: [{ index: event.index, function: { arguments: event.arguments } }] }));
      case 'reasoning_signature':
      case 'reasoning_redacted':
        return ''; // Chat Completions has no signed or encrypted reasoning
      case 'compaction':
      case 'context_management':
        // Claude's compaction block is handed back whole or not at all (its encrypted_content): a chat message
        // cannot carry it, and its summary as text would read as the model's answer.
        return '';
      case 'prompt_usage':
        return ''; // usage is one chunk at the end (include_usage)
      case 'finish':
        this.#sawFinish = true;
        this.#frames++;
        return `${this.#choicePrefix}{},"finish_reason":${JSON.stringify(event.reason)}}]}\n\n`;
      case 'usage':
        if (!this.#includeUsage) return '';
        // Converse names the tier only now, in its trailing metadata: the usage chunk carries it.
        if (event.servedTier !== undefined && this.#options.serviceTier === undefined) {
          [this.#choicePrefix, this.#usagePrefix] = prefixes(this.#options, event.servedTier);
        }
        this.#frames++;
        return `${this.#usagePrefix}${JSON.stringify(chatUsage(event.usage))}}\n\n`;
      case 'error':
        // After the model's final event (converse's metadata still to come, a drain deadline) the answer is
        // whole: the stream keeps its one ending, the finish, and closes with [DONE]. The error is still
        // seen by whoever observes the events (the request's log line and status label).
        if (this.#sawFinish) {
          this.#done = true;
          return SSE_DONE;
        }
        return this.#error(event.error);
    }
  }

  #chunk(delta: string): string {
    this.#frames++;
    return `${this.#choicePrefix}${delta},"finish_reason":null}]}\n\n`;
  }

  /** The in-band error frame, then `[DONE]`. Key order is part of the contract: `guardrail` comes last. */
  #error(error: SidecarError): string {
    const body: { message: string; type: string; code: number; guardrail?: string } = {
      message: error.message,
      type: error.type,
      code: error.status,
    };
    if (error.guardrail !== undefined) body.guardrail = error.guardrail;
    this.#done = true;
    this.#frames++;
    return `data: ${JSON.stringify({ error: body })}\n\n${SSE_DONE}`;
  }
}

/** The chunk and usage-chunk prefixes, with `service_tier` when the tier is known. */
function prefixes(options: ChatRendererOptions, tier: string | undefined): [string, string] {
  const head =
    `data: {"id":${JSON.stringify(options.id)},"object":"chat.completion.chunk",` +
    `"created":${options.created},"model":${JSON.stringify(options.model)},` +
    (tier !== undefined ? `"service_tier":${JSON.stringify(tier)},` : '');
  return [`${head}"choices":[{"index":0,"delta":`, `${head}"choices":[],"usage":`];
}
