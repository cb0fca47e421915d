/**
 * The prompt-completion families' own InvokeModel bodies and answers on the native surface
 * (docs/contract.md#bedrock-native, docs/bedrock-wire.md#model-native-bodies): Meta Llama (`prompt`,
 * `max_gen_len`, `temperature`, `top_p`, `images`), Mistral's prompt models (`prompt`, `max_tokens`, `stop`,
 * `temperature`, `top_p`, `top_k`), Titan Text (`inputText`, `textGenerationConfig`) and DeepSeek (`prompt`,
 * `max_tokens`, `temperature`, `top_p`, `stop`; R1's reasoning is the answer's text up to its `</think>`). Their prompt is
 * already in the model's own chat template, which no other model reads: the app's body goes only to a target
 * whose invoke adapter takes that body (`RouteAdapter.ownBodyFormat`: the family on invoke, in any region),
 * as it is, its prompt masked where a guardrail masks (providers/text-completion.ts `ownPromptBody`); another
 * target (a converse alias, a fallback of another family) is a 400 naming why. The neutral reading — the
 * prompt as one user message — is what guardrails and the log read. A member the body does not take is
 * Bedrock's 400 before any call. The answers are the family's own: its chunks, the last with its stop reason
 * and Bedrock's `amazon-bedrock-invocationMetrics`, and its whole JSON.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ModelTarget } from '../../models/resolve.ts';
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import { members } from '../../providers/embeddings/common.ts';
import { ownInvokeBodyFormat } from '../../providers/index.ts';
import { takeSidecarParams, type ChatParams, type ChatRequest, type SidecarParams } from '../../providers/request.ts';
import type { SurfaceRequest, WholeAnswer } from '../../server/surface.ts';
import { SidecarError } from '../../errors.ts';
import { invalid, isObject } from './converse-request.ts';
import { INVOKE_STREAM_EXCEPTIONS } from './errors.ts';
import { chunkOut, EventStreamRenderer, type NativeOut, type NativeStreamCore } from './frames.ts';
import { invocationMetrics } from './invoke-render.ts';
import { readServingHeaders } from './invoke-request.ts';

type Json = Record<string, unknown>;

/**
 * What a family's own stream chunks are (a prompt family's, or a chat family's: invoke-chat.ts), for the
 * core that renders the neutral events as them (`OwnChunks`).
 */
export interface ChunkShape {
  /** The family's stop reasons, and the one for a neutral finish whose upstream reason is not among them. */
  readonly stopReasons: ReadonlySet<string>;
  stop(reason: FinishReason): string;
  /** A stream chunk of text; `inputTokens` on the first one where the family reports the prompt's count there. */
  chunk(text: string, first: boolean, usage: Partial<Usage>): Json;
  /** The last chunk: no text, the stop reason (`amazon-bedrock-invocationMetrics` is added to it). */
  last(stop: string, usage: Usage | undefined): Json;
  /**
   * What closes reasoning in the family's own text (DeepSeek R1's `</think>`): its answer carries the reasoning
   * inline, the neutral events apart. Absent: the family does not reason.
   */
  readonly reasoningClose?: string;
  /** What opens it (gpt-oss's `<reasoning>`); absent: the prompt opened it (R1). */
  readonly reasoningOpen?: string;
  /** The chunk that opens the stream (a chat family's assistant role); absent: none. */
  opening?(): Json;
  /**
   * A tool call's start or arguments as the family's chunk, or undefined where the family sends its calls whole
   * (`held`); absent: its answers carry none.
   */
  tool?(event: Extract<StreamEvent, { kind: 'tool_start' | 'tool_delta' }>): Json | undefined;
  /** Chunks the family sends whole once the generation ended, before the last (Cohere's tool calls). */
  held?(): Json[];
}

/** What one prompt family's body and answers are. */
export interface PromptFamily extends ChunkShape {
  /** Its format, as its invoke adapter names it (`ownBodyFormat`). */
  readonly format: string;
  /** Who it is, in messages ("Llama"). */
  readonly label: string;
  /** Top-level members Bedrock takes. */
  readonly keys: readonly string[];
  /** The member holding the prompt. */
  readonly promptKey: string;
  /** The body's settings as neutral parameters (for the parameter policy and the log). */
  params(body: Json): ChatParams;
  whole(text: string, stop: string, usage: Usage | undefined): Json;
}

const num = (value: unknown, key: string): number => {
  if (typeof value !== 'number') throw invalid(`${key}: must be a number`, key);
  return value;
};

const stopList = (value: unknown, key: string): string[] => {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) throw invalid(`${key}: must be a list of strings`, key);
  return value as string[];
};

/** A body whose settings have the neutral parameters' own names (`max_tokens`, `temperature`, `top_p`, `top_k`, `stop`). */
function neutralNamed(b: Json): ChatParams {
  return {
    ...(b.max_tokens !== undefined ? { max_tokens: num(b.max_tokens, 'max_tokens') } : {}),
    ...(b.temperature !== undefined ? { temperature: num(b.temperature, 'temperature') } : {}),
    ...(b.top_p !== undefined ? { top_p: num(b.top_p, 'top_p') } : {}),
    ...(b.top_k !== undefined ? { top_k: num(b.top_k, 'top_k') } : {}),
    ...(b.stop !== undefined ? { stop: stopList(b.stop, 'stop') } : {}),
  };
}

const neutralStop = (reason: FinishReason): string => (reason === 'length' ? 'length' : 'stop');

export const LLAMA: PromptFamily = {
  format: 'llama-prompt',
  label: 'Llama',
  keys: ['prompt', 'temperature', 'top_p', 'max_gen_len', 'images'],
  promptKey: 'prompt',
  params: (b) => ({
    ...(b.max_gen_len !== undefined ? { max_tokens: num(b.max_gen_len, 'max_gen_len') } : {}),
    ...(b.temperature !== undefined ? { temperature: num(b.temperature, 'temperature') } : {}),
    ...(b.top_p !== undefined ? { top_p: num(b.top_p, 'top_p') } : {}),
  }),
  stopReasons: new Set(['stop', 'length']),
  stop: neutralStop,
  chunk: (text, first, usage) => ({
    generation: text,
    prompt_token_count: first ? (usage.inputTokens ?? null) : null,
    generation_token_count: null,
    stop_reason: null,
  }),
  last: (stop, usage) => ({
    generation: '',
    prompt_token_count: null,
    generation_token_count: usage?.outputTokens ?? null,
    stop_reason: stop,
  }),
  whole: (text, stop, usage) => ({
    generation: text,
    prompt_token_count: usage?.inputTokens ?? null,
    generation_token_count: usage?.outputTokens ?? null,
    stop_reason: stop,
  }),
};

export const MISTRAL_PROMPT: PromptFamily = {
  format: 'mistral-prompt',
  label: "Mistral's prompt models",
  keys: ['prompt', 'max_tokens', 'stop', 'temperature', 'top_p', 'top_k'],
  promptKey: 'prompt',
  params: neutralNamed,
  stopReasons: new Set(['stop', 'length']),
  stop: neutralStop,
  chunk: (text) => ({ outputs: [{ text, stop_reason: null }] }),
  last: (stop) => ({ outputs: [{ text: '', stop_reason: stop }] }),
  whole: (text, stop) => ({ outputs: [{ text, stop_reason: stop }] }),
};

const TITAN_CONFIG = ['temperature', 'topP', 'maxTokenCount', 'stopSequences'];

export const TITAN_TEXT: PromptFamily = {
  format: 'titan-text',
  label: 'Titan Text',
  keys: ['inputText', 'textGenerationConfig'],
  promptKey: 'inputText',
  params(b) {
    const config = b.textGenerationConfig;
    if (config === undefined) return {};
    if (!isObject(config)) throw invalid('textGenerationConfig: must be an object', 'textGenerationConfig');
    members(config, '#/textGenerationConfig', TITAN_CONFIG);
    return {
      ...(config.maxTokenCount !== undefined ? { max_tokens: num(config.maxTokenCount, 'textGenerationConfig.maxTokenCount') } : {}),
      ...(config.temperature !== undefined ? { temperature: num(config.temperature, 'textGenerationConfig.temperature') } : {}),
      ...(config.topP !== undefined ? { top_p: num(config.topP, 'textGenerationConfig.topP') } : {}),
      ...(config.stopSequences !== undefined ? { stop: stopList(config.stopSequences, 'textGenerationConfig.stopSequences') } : {}),
    };
  },
  stopReasons: new Set(['FINISH', 'FINISHED', 'LENGTH', 'STOP_CRITERIA_MET', 'CONTENT_FILTERED', 'RAG_QUERY_WHEN_RAG_DISABLED']),
  stop: (reason) => (reason === 'length' ? 'LENGTH' : reason === 'content_filter' ? 'CONTENT_FILTERED' : 'FINISH'),
  chunk: (text, first, usage) => ({
    outputText: text,
    index: 0,
    ...(first && usage.inputTokens !== undefined ? { inputTextTokenCount: usage.inputTokens } : {}),
  }),
  last: (stop, usage) => ({
    outputText: '',
    index: 0,
    ...(usage ? { totalOutputTextTokenCount: usage.outputTokens } : {}),
    completionReason: stop,
  }),
  whole: (text, stop, usage) => ({
    inputTextTokenCount: usage?.inputTokens ?? 0,
    results: [{ tokenCount: usage?.outputTokens ?? 0, outputText: text, completionReason: stop }],
  }),
};

const choices = (text: string, stop: string | null): Json => ({ choices: [{ text, stop_reason: stop }] });

export const DEEPSEEK: PromptFamily = {
  format: 'deepseek-prompt',
  label: 'DeepSeek',
  keys: ['prompt', 'max_tokens', 'temperature', 'top_p', 'stop'],
  promptKey: 'prompt',
  params: neutralNamed,
  stopReasons: new Set(['stop', 'length']),
  stop: neutralStop,
  chunk: (text) => choices(text, null),
  last: (stop) => choices('', stop),
  whole: (text, stop) => choices(text, stop),
  // R1 closes its reasoning so (the prompt opened it): the neutral reasoning keeps the line end before the tag,
  // the answer's text loses the blank line after it.
  reasoningClose: '</think>\n\n',
};

export const PROMPT_FAMILIES: readonly PromptFamily[] = [LLAMA, MISTRAL_PROMPT, TITAN_TEXT, DEEPSEEK];

/**
 * A family's own body: a copy, the sidecar's parameters taken out, its members those Bedrock takes (`keys`,
 * `required` among them), else Bedrock's 400 before any call.
 */
export function readOwnBody(body: unknown, keys: readonly string[], required: readonly string[]): { raw: Json; sidecar: SidecarParams } {
  if (!isObject(body)) throw invalid('Malformed input request: #: expected type: JSONObject, please reformat your input and try again.');
  const raw: Json = { ...body };
  const sidecar = takeSidecarParams(raw);
  members(raw, '#', keys, required);
  return { raw, sidecar };
}

/** The body as the neutral request: its prompt one user message; the body rides along as the family's own. */
export function readPromptInvoke(
  family: PromptFamily,
  body: unknown,
  model: string,
  stream: boolean,
  headers: IncomingHttpHeaders,
): SurfaceRequest {
  const { raw, sidecar } = readOwnBody(body, family.keys, [family.promptKey]);
  const prompt = raw[family.promptKey];
  if (typeof prompt !== 'string') throw invalid(`${family.promptKey}: must be a string`, family.promptKey);
  const messages: ChatRequest['messages'] = [
    { role: 'user', content: [{ type: 'text', text: prompt, at: family.promptKey }], at: family.promptKey },
  ];
  const request: ChatRequest = {
    model,
    stream,
    messages,
    params: family.params(raw),
    sidecar,
    invokeBody: { format: family.format, body: raw, messages },
  };
  readServingHeaders(headers, request);
  return { request, unknown: [] };
}

/** Only a target whose invoke adapter takes the family's body can be sent it: its prompt is in the model's template. */
export function checkPromptTarget(family: PromptFamily): (read: SurfaceRequest, target: ModelTarget) => void {
  return (_read, target) => {
    if (target.route === 'invoke' && ownInvokeBodyFormat(target.family, target.modelId) === family.format) return;
    throw invalid(
      `${family.label}'s InvokeModel body holds a prompt in the model's own chat template, which "${target.name}" ` +
        `(${target.family ?? 'unknown family'} on the ${target.route} route) cannot take: call Converse for a model-neutral request`,
      'modelId',
    );
  };
}

export function stopOf(family: Pick<ChunkShape, 'stopReasons' | 'stop'>, event: Extract<StreamEvent, { kind: 'finish' }>): string {
  return event.upstreamReason !== undefined && family.stopReasons.has(event.upstreamReason)
    ? event.upstreamReason
    : family.stop(event.reason);
}

/** One family's own chunks from the neutral events; the last chunk waits for the usage that follows the finish. */
class OwnChunks implements NativeStreamCore {
  readonly #family: ChunkShape;
  readonly #latencyMs: () => number;
  #first = true;
  #reasoning = false;
  #prompt: Partial<Usage> = {};
  #stop: string | undefined;
  #done = false;

  constructor(family: ChunkShape, latencyMs: () => number) {
    this.#family = family;
    this.#latencyMs = latencyMs;
  }

  get done(): boolean {
    return this.#done;
  }

  start(): NativeOut[] {
    return this.#family.opening ? [chunkOut(this.#family.opening())] : [];
  }

  push(events: readonly StreamEvent[]): NativeOut[] {
    const out: NativeOut[] = [];
    for (const event of events) {
      if (this.#done) break;
      switch (event.kind) {
        case 'prompt_usage':
          this.#prompt = event.usage;
          break;
        case 'text':
        case 'reasoning':
          if (this.#stop !== undefined || (event.kind === 'reasoning' && this.#family.reasoningClose === undefined)) break;
          out.push(chunkOut(this.#family.chunk(this.#inline(event.kind, event.text), this.#first, this.#prompt)));
          this.#first = false;
          break;
        case 'tool_start':
        case 'tool_delta':
          if (this.#stop !== undefined || !this.#family.tool) break; // a family without tools is never sent them
          out.push(...this.#closeReasoning());
          this.#chunk(this.#family.tool(event), out);
          break;
        case 'finish':
          if (this.#stop === undefined) out.push(...this.#closeReasoning(), ...(this.#family.held?.() ?? []).map(chunkOut));
          this.#stop ??= stopOf(this.#family, event);
          break;
        case 'usage':
          if (this.#stop !== undefined) out.push(this.#last(event.usage));
          break;
        case 'error':
          if (this.#stop !== undefined) out.push(this.#last(undefined));
          else {
            this.#done = true;
            out.push({ error: event.error });
          }
          break;
        case 'reasoning_signature':
        case 'reasoning_redacted':
        case 'compaction':
        case 'context_management':
          break; // none of these families' own answers carry them (a target of another kind is refused)
      }
    }
    return out;
  }

  end(): NativeOut[] {
    if (this.#done) return [];
    if (this.#stop !== undefined) return [this.#last(undefined)];
    this.#done = true;
    return [{ error: new SidecarError('upstream_protocol_error', 'stream ended without a finish or an error') }];
  }

  #chunk(chunk: Json | undefined, out: NativeOut[]): void {
    if (chunk !== undefined) out.push(chunkOut(chunk));
  }

  /** The text as the family's own answer carries it: reasoning inline, opened and closed around it. */
  #inline(kind: 'text' | 'reasoning', text: string): string {
    const opening = kind === 'reasoning' && !this.#reasoning ? (this.#family.reasoningOpen ?? '') : '';
    const closing = kind === 'text' && this.#reasoning ? this.#family.reasoningClose! : '';
    this.#reasoning = kind === 'reasoning';
    return opening + closing + text;
  }

  /** Reasoning the family opened itself, closed before a tool call or the end (text after it closes it too). */
  #closeReasoning(): NativeOut[] {
    if (!this.#reasoning || this.#family.reasoningOpen === undefined) return [];
    this.#reasoning = false;
    return [chunkOut(this.#family.chunk(this.#family.reasoningClose!, false, this.#prompt))];
  }

  #last(usage: Usage | undefined): NativeOut {
    this.#done = true;
    const last = this.#family.last(this.#stop!, usage);
    return chunkOut(usage ? { ...last, 'amazon-bedrock-invocationMetrics': invocationMetrics(usage, this.#latencyMs()) } : last);
  }
}

/** One InvokeModelWithResponseStream of a family whose own chunks `family` says (a prompt or a chat family). */
export class OwnChunkRenderer extends EventStreamRenderer {
  constructor(family: ChunkShape, latencyMs: () => number) {
    super(new OwnChunks(family, latencyMs), INVOKE_STREAM_EXCEPTIONS);
  }
}

/** A prompt family's whole InvokeModel answer. */
export function promptAnswer(family: PromptFamily, events: readonly StreamEvent[]): WholeAnswer {
  let text = '';
  let reasoning = false;
  let stop: string | undefined;
  let usage: Usage | undefined;
  for (const event of events) {
    if (event.kind === 'reasoning' && family.reasoningClose !== undefined) {
      text += event.text;
      reasoning = true;
    } else if (event.kind === 'text') {
      text += (reasoning ? family.reasoningClose! : '') + event.text;
      reasoning = false;
    }
    if (event.kind === 'finish') stop ??= stopOf(family, event);
    else if (event.kind === 'usage') usage = event.usage;
    else if (event.kind === 'error') return { error: event.error };
  }
  return { body: family.whole(text, stop ?? family.stop('stop'), usage), usage };
}
