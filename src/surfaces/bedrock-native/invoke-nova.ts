/**
 * Nova's own InvokeModel body and answers on the native surface (docs/contract.md#bedrock-native,
 * docs/bedrock-wire.md#amazon-nova): Nova's understanding models (micro, lite, pro, premier, Nova 2) take
 * `{schemaVersion: "messages-v1", system, messages, inferenceConfig, toolConfig}`. A member Nova's body does not
 * take is Bedrock's 400 before any call. The body rides along (`ChatRequest.invokeBody`): Nova on invoke is sent
 * the app's own body with only the sidecar's rules applied (providers/nova.ts), while the neutral reading — the
 * body read as the Converse request it nearly is (converse-request.ts) — is what guardrails read and what a
 * converse alias or a fallback of another family is sent. `inferenceConfig` takes both spellings Bedrock
 * takes (`maxTokens`/`max_new_tokens`, `topP`/`top_p`, `topK`/`top_k`).
 * The stream is Nova's: each event of ConverseStream's shape (converse-render.ts) keyed by its name, in a
 * `chunk` frame with its JSON base64 in `bytes`, the last (`metadata`) carrying Bedrock's
 * `amazon-bedrock-invocationMetrics`; the whole answer is Nova's `{output: {message}, stopReason, usage}`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { StreamEvent, Usage } from '../../pipeline/events.ts';
import { members } from '../../providers/embeddings/common.ts';
import { takeSidecarParams, type ChatRequest, type ReasoningEffort } from '../../providers/request.ts';
import type { SurfaceRequest, WholeAnswer } from '../../server/surface.ts';
import { ConverseEvents, converseAnswer } from './converse-render.ts';
import { invalid, isObject, readConverseRequest } from './converse-request.ts';
import { INVOKE_STREAM_EXCEPTIONS } from './errors.ts';
import { chunkOut, EventStreamRenderer, type NativeOut, type NativeStreamCore } from './frames.ts';
import { invocationMetrics } from './invoke-render.ts';
import { readServingHeaders } from './invoke-request.ts';

type Json = Record<string, unknown>;

/** The format of Nova's invoke body (its `schemaVersion`), as its invoke adapter names it (`ownBodyFormat`). */
export const NOVA_FORMAT = 'messages-v1';
/** Nova's invoke body (messages-v1). */
const NOVA_KEYS: readonly string[] = ['schemaVersion', 'system', 'messages', 'inferenceConfig', 'toolConfig'];
/** `inferenceConfig` members, each under the Converse name it is read as (both spellings Bedrock takes). */
const INFERENCE: Readonly<Record<string, string>> = {
  maxTokens: 'maxTokens',
  max_new_tokens: 'maxTokens',
  temperature: 'temperature',
  topP: 'topP',
  top_p: 'topP',
  stopSequences: 'stopSequences',
};
const REASONING_LEVELS: ReadonlySet<string> = new Set(['low', 'medium', 'high']);
/** The stop reasons Nova's invoke answers give. */
const NOVA_STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'content_filtered']);

export function readNovaInvoke(body: unknown, model: string, stream: boolean, headers: IncomingHttpHeaders = {}): SurfaceRequest {
  if (!isObject(body)) throw invalid('Malformed input request: #: expected type: JSONObject, please reformat your input and try again.');
  const raw: Json = { ...body };
  const sidecar = takeSidecarParams(raw);
  members(raw, '#', NOVA_KEYS);
  if (raw.schemaVersion !== undefined && raw.schemaVersion !== NOVA_FORMAT)
    throw invalid(
      'Malformed input request: #/schemaVersion: must be "messages-v1", please reformat your input and try again.',
      'schemaVersion',
    );
  const inference: Json = {};
  let topK: number | undefined;
  let effort: ReasoningEffort | undefined;
  if (raw.inferenceConfig !== undefined) {
    if (!isObject(raw.inferenceConfig)) throw invalid('inferenceConfig: must be an object', 'inferenceConfig');
    for (const [key, value] of Object.entries(raw.inferenceConfig)) {
      const at = `inferenceConfig.${key}`;
      if (key === 'topK' || key === 'top_k') {
        if (!Number.isInteger(value) || (value as number) < 0) throw invalid(`${at}: must be a non-negative integer`, at);
        topK = value as number;
      } else if (key === 'reasoningConfig') effort = reasoningEffort(value);
      else if (Object.hasOwn(INFERENCE, key)) inference[INFERENCE[key]!] = value;
      else
        throw invalid(
          `Malformed input request: #/inferenceConfig: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
          at,
        );
    }
  }
  // The neutral reading: Nova's members are Converse's, but for topK and reasoningConfig (read above).
  const { request } = readConverseRequest(
    {
      messages: raw.messages,
      ...(raw.system !== undefined ? { system: raw.system } : {}),
      ...(Object.keys(inference).length > 0 ? { inferenceConfig: inference } : {}),
      ...(raw.toolConfig !== undefined ? { toolConfig: raw.toolConfig } : {}),
    },
    model,
    stream,
  );
  if (topK !== undefined) request.params.top_k = topK;
  if (effort !== undefined) request.params.reasoning_effort = effort;
  const read: ChatRequest = { ...request, sidecar, invokeBody: { format: NOVA_FORMAT, body: raw, messages: request.messages } };
  readServingHeaders(headers, read);
  return { request: read, unknown: [] };
}

/** Nova 2's `reasoningConfig` as the neutral effort; `disabled` asks for nothing (Nova 1 has no reasoning to turn off). */
function reasoningEffort(value: unknown): ReasoningEffort | undefined {
  const at = 'inferenceConfig.reasoningConfig';
  if (!isObject(value)) throw invalid(`${at}: must be an object`, at);
  if (value.type === 'disabled') return undefined;
  if (value.type !== 'enabled') throw invalid(`${at}.type: must be enabled or disabled`, `${at}.type`);
  const level = value.maxReasoningEffort ?? 'low';
  if (typeof level !== 'string' || !REASONING_LEVELS.has(level)) throw invalid(`${at}.maxReasoningEffort: must be low, medium or high`, at);
  return level as ReasoningEffort;
}

/**
 * Nova's usage, its cache counts named as its invoke answers name them: the stream's `metadata` always
 * carries them and no total; the whole answer a total, and cache counts only when something was cached.
 */
function novaUsage(usage: Usage, whole: boolean): Json {
  const cached = usage.cacheReadTokens + usage.cacheWriteTokens;
  return {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    ...(whole ? { totalTokens: usage.inputTokens + cached + usage.outputTokens } : {}),
    ...(!whole || cached > 0 ? { cacheReadInputTokenCount: usage.cacheReadTokens, cacheWriteInputTokenCount: usage.cacheWriteTokens } : {}),
  };
}

/**
 * Nova's stop reason where Nova on invoke said one: Bedrock's own guardrail (an alias's `bedrock_native`)
 * masks Nova's invoke answer and flags each event, but Nova still says why it stopped (`end_turn`), which
 * Converse would replace with `guardrail_intervened`. A converse target's reason stays Converse's.
 */
function novaStopReason(events: readonly StreamEvent[]): string | undefined {
  const finish = events.find((event) => event.kind === 'finish');
  return finish?.upstreamReason !== undefined && NOVA_STOP_REASONS.has(finish.upstreamReason) ? finish.upstreamReason : undefined;
}

/** ConverseStream's events, each as Nova's chunk; the `metadata` one Nova's, with the invocation metrics. */
class NovaChunks implements NativeStreamCore {
  readonly #converse: ConverseEvents;
  readonly #latencyMs: () => number;
  #usage: Usage | undefined;
  #stopReason: string | undefined;

  constructor(latencyMs: () => number) {
    this.#converse = new ConverseEvents(latencyMs);
    this.#latencyMs = latencyMs;
  }

  get done(): boolean {
    return this.#converse.done;
  }

  start(): NativeOut[] {
    return this.#converse.start().map((out) => this.#chunk(out));
  }

  push(events: readonly StreamEvent[]): NativeOut[] {
    for (const event of events) if (event.kind === 'usage') this.#usage = event.usage;
    this.#stopReason ??= novaStopReason(events);
    return this.#converse.push(events).map((out) => this.#chunk(out));
  }

  end(): NativeOut[] {
    return this.#converse.end().map((out) => this.#chunk(out));
  }

  #chunk(out: NativeOut): NativeOut {
    if ('error' in out) return out;
    const event: Json =
      out.eventType === 'metadata' && this.#usage
        ? {
            metadata: { usage: novaUsage(this.#usage, false), metrics: {}, trace: {} },
            'amazon-bedrock-invocationMetrics': invocationMetrics(this.#usage, this.#latencyMs()),
          }
        : out.eventType === 'messageStop' && this.#stopReason !== undefined
          ? { messageStop: { ...(out.payload as Json), stopReason: this.#stopReason } }
          : { [out.eventType]: out.payload };
    return chunkOut(event);
  }
}

/** One InvokeModelWithResponseStream of Nova. */
export class NovaStreamRenderer extends EventStreamRenderer {
  constructor(latencyMs: () => number) {
    super(new NovaChunks(latencyMs), INVOKE_STREAM_EXCEPTIONS);
  }
}

/** Nova's whole InvokeModel answer: Converse's, without its `metrics`, the usage as Nova names it. */
export function novaAnswer(events: readonly StreamEvent[]): WholeAnswer {
  const answer = converseAnswer(events, 0);
  if ('error' in answer) return answer;
  const { output, stopReason } = answer.body as Json;
  return {
    body: { output, stopReason: novaStopReason(events) ?? stopReason, ...(answer.usage ? { usage: novaUsage(answer.usage, true) } : {}) },
    usage: answer.usage,
  };
}
