/**
 * The guardrails of one request, as the hooks the model-call path calls (`RequestGuards`): input before the
 * model call, native decorations of the upstream call, the stream's output guard, the whole-answer check,
 * and the outcome for the log line.
 *
 * Input stage: the text of every message (system, user, assistant, tool results; one segment per text
 * part; images and the arguments of earlier tool calls are not judged) is judged with `source: INPUT`. A
 * block is a 400 `guardrail_violation` before any upstream call. A mask rewrites the messages the model is
 * sent (the request object's `messages` is replaced with masked copies).
 *
 * Output stage, non-streaming: each channel's whole text (content, reasoning, each tool call's arguments)
 * is judged once by every output guardrail, whatever its stream_mode; a block turns the answer into the
 * guardrail's error (a 400 JSON), a mask rewrites it.
 */
import type { GuardrailConfig, Route } from '../config/schema.ts';
import { SidecarError } from '../errors.ts';
import type { StreamEvent } from '../pipeline/events.ts';
import type { OutputGuard } from '../pipeline/guardrail.ts';
import type { ChatMessage, ChatRequest } from '../providers/request.ts';
import { judge } from './judge.ts';
import { isNativeIntervention, nativeBody, nativeHeaders } from './native.ts';
import { violation, type GuardrailRecorder } from './recorder.ts';
import { channelOf, rewrite, StreamGuard } from './stream.ts';
import type { RequestGuards, TextGuardrail } from './types.ts';

export interface RequestGuardParts {
  /** Checking guardrails in attachment order (bedrock, regex, …). */
  guards: readonly TextGuardrail[];
  native: GuardrailConfig | undefined;
  recorder: GuardrailRecorder;
}

export function createRequestGuards({ guards, native, recorder }: RequestGuardParts): RequestGuards {
  const input = guards.filter((g) => g.config.stages.includes('input'));
  const output = guards.filter((g) => g.config.stages.includes('output'));
  recorder.applied();

  return {
    async checkInput(request: ChatRequest, signal: AbortSignal): Promise<SidecarError | undefined> {
      if (input.length === 0) return undefined;
      const slots = inputSlots(request.messages);
      if (slots.length === 0) return undefined;
      const verdict = await judge(
        input,
        'INPUT',
        slots.map((s) => ({ context: '', text: s.text })),
        signal,
        { stage: 'input', recorder, maskAllowed: true },
      );
      if (verdict.kind === 'block') return violation(verdict.guardrail);
      if (verdict.kind === 'mask') request.messages = maskMessages(request.messages, slots, verdict.texts);
      return undefined;
    },

    async checkInputTexts(texts: readonly string[], signal: AbortSignal): Promise<{ error: SidecarError } | { texts: readonly string[] }> {
      if (native) {
        return {
          error: new SidecarError(
            'invalid_request_error',
            `guardrail "${native.name}" is bedrock_native, which Bedrock applies only ` +
              'inside text generation, never to embedding input: attach a bedrock or regex guardrail with an input stage instead',
            { param: 'model' },
          ),
        };
      }
      if (input.length === 0) return { texts };
      const verdict = await judge(
        input,
        'INPUT',
        texts.map((text) => ({ context: '', text })),
        signal,
        { stage: 'input', recorder, maskAllowed: true },
      );
      if (verdict.kind === 'block') return { error: violation(verdict.guardrail) };
      if (verdict.kind === 'mask') return { texts: texts.map((text, i) => verdict.texts[i] ?? text) };
      return { texts };
    },

    decorateBody(body: Record<string, unknown>, route: Route, stream: boolean): Record<string, unknown> {
      return native ? nativeBody(native, body, route, stream) : body;
    },

    upstreamHeaders(route: Route): Record<string, string> {
      return native ? nativeHeaders(native, route) : {};
    },

    outputGuard(): OutputGuard | undefined {
      if (output.length === 0 && !native) return undefined;
      return new StreamGuard({
        sync: output.filter((g) => g.config.streamMode === 'sync'),
        async: output.filter((g) => g.config.streamMode === 'async'),
        native,
        recorder,
      });
    },

    async checkOutputWhole(events: StreamEvent[], signal: AbortSignal): Promise<{ events: StreamEvent[]; outcome: string }> {
      if (native && events.some(isNativeIntervention)) {
        recorder.intervened('output', native.name, 'block', 'Bedrock reported a guardrail intervention in the model call');
        return { events: [{ kind: 'error', error: violation(native.name) }], outcome: recorder.outcome() };
      }
      if (output.length === 0) return { events, outcome: recorder.outcome() };
      const keys: string[] = [];
      const texts = new Map<string, string>();
      for (const event of events) {
        const channel = channelOf(event);
        if (!channel || channel.text === '') continue;
        if (!texts.has(channel.key)) keys.push(channel.key);
        texts.set(channel.key, (texts.get(channel.key) ?? '') + channel.text);
      }
      const segments = keys.map((key) => ({ context: '', text: texts.get(key)! }));
      const verdict = await judge(output, 'OUTPUT', segments, signal, { stage: 'output', recorder, maskAllowed: true });
      let checked = events;
      if (verdict.kind === 'block') checked = [{ kind: 'error', error: violation(verdict.guardrail) }];
      if (verdict.kind === 'mask') checked = rewrite(events, keys, verdict.texts);
      return { events: checked, outcome: recorder.outcome() };
    },

    streamOutcome: () => recorder.outcome(),
  };
}

interface Slot {
  message: number;
  part: number;
  text: string;
}

/** Every non-empty text part of every message, in order. */
export function inputSlots(messages: readonly ChatMessage[]): Slot[] {
  const slots: Slot[] = [];
  messages.forEach((m, message) => {
    m.content.forEach((part, index) => {
      if (part.type === 'text' && part.text !== '') slots.push({ message, part: index, text: part.text });
    });
  });
  return slots;
}

function maskMessages(messages: readonly ChatMessage[], slots: readonly Slot[], texts: ReadonlyArray<string | undefined>): ChatMessage[] {
  const out = [...messages];
  slots.forEach((slot, i) => {
    const text = texts[i];
    if (text === undefined) return;
    const m = out[slot.message]!;
    // The part keeps its cache mark and where the client put it (a client's own body is masked there).
    const content = m.content.map((part, index) => (index === slot.part && part.type === 'text' ? { ...part, text } : part));
    out[slot.message] = { ...m, content } as ChatMessage;
  });
  return out;
}
