/**
 * Mistral's chat-completion body on the native surface (docs/contract.md#bedrock-native,
 * docs/bedrock-wire.md#mistral): the chat models AWS documents taking it on InvokeModel (Mistral Large 2 24.07,
 * Pixtral Large 25.02; the provider's `ownBodyFormats` says which) take `messages` (system, user, assistant with
 * `tool_calls`, tool with `tool_call_id`), `tools`, `tool_choice` (`auto`, `any`, `none`), `max_tokens`, `top_p`
 * and `temperature`, nothing else. The body is read as the Chat surface reads one, Mistral's `any` being its
 * `required`; it goes as the app wrote it to such a model on invoke, its neutral reading to any other target.
 * Answers: `{"choices":[{"index":0,"message":{"role":"assistant","content","tool_calls"?},"stop_reason"}]}`, the
 * reason under `stop_reason` (AWS's page) and `finish_reason` too (what callers that met Bedrock's real answers
 * read: README "Decisions"); stream chunks are the same shape with a partial `message` and the reason null until
 * the last, which carries Bedrock's invocation metrics, and the tool calls come whole in one chunk once generated.
 * The whole answer has no usage (AWS documents none: the counts travel in the invocation metrics).
 */
import type { FinishReason, StreamEvent, Usage } from '../../pipeline/events.ts';
import type { WholeAnswer } from '../../server/surface.ts';
import { readChatFields } from '../chat-request.ts';
import { invalid } from './converse-request.ts';
import type { ChatFamily } from './invoke-chat.ts';
import { stopOf, type ChunkShape } from './invoke-prompt.ts';

type Json = Record<string, unknown>;

const STOPS: ReadonlySet<string> = new Set(['stop', 'length', 'tool_calls']);

const mistralStop = (reason: FinishReason): string => (reason === 'length' || reason === 'tool_calls' ? reason : 'stop');

const TOOL_CHOICES: readonly unknown[] = ['auto', 'any', 'none'];

/** The body as neutral messages and parameters; `own` is the body itself (it has nothing Bedrock fills). */
function readMistral(raw: Json): ReturnType<ChatFamily['read']> {
  if (raw.tool_choice !== undefined && !TOOL_CHOICES.includes(raw.tool_choice))
    throw invalid('tool_choice: must be "auto", "any" or "none"', 'tool_choice');
  const neutral = raw.tool_choice === 'any' ? { ...raw, tool_choice: 'required' } : raw;
  const { messages, params, hints } = readChatFields(neutral);
  return { messages, params, hints, own: raw };
}

interface Call {
  id: string;
  name: string;
  args: string;
}

/** What the answer said so far: its text and its calls. */
class Said {
  text = '';
  readonly calls: Call[] = [];

  take(event: StreamEvent): void {
    if (event.kind === 'text') this.text += event.text;
    else if (event.kind === 'tool_start') this.calls[event.index] = { id: event.id, name: event.name, args: '' };
    else if (event.kind === 'tool_delta' && this.calls[event.index]) this.calls[event.index]!.args += event.arguments;
  }

  toolCalls(): Json[] {
    return this.calls
      .filter(Boolean)
      .map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args === '' ? '{}' : c.args } }));
  }
}

const choice = (message: Json, stop: string | null): Json => ({ choices: [{ index: 0, message, stop_reason: stop, finish_reason: stop }] });

function mistralChunks(): ChunkShape {
  const said = new Said();
  return {
    stopReasons: STOPS,
    stop: mistralStop,
    chunk: (text) => choice({ role: 'assistant', content: text }, null),
    tool: (event) => {
      said.take(event);
      return undefined; // sent whole once generated
    },
    held: () => (said.calls.length > 0 ? [choice({ role: 'assistant', content: '', tool_calls: said.toolCalls() }, null)] : []),
    last: (stop) => choice({ role: 'assistant', content: '' }, stop),
  };
}

function mistralWhole(events: readonly StreamEvent[]): WholeAnswer {
  const said = new Said();
  let stop: string | undefined;
  let usage: Usage | undefined;
  for (const event of events) {
    said.take(event);
    if (event.kind === 'finish') stop ??= stopOf({ stopReasons: STOPS, stop: mistralStop }, event);
    else if (event.kind === 'usage') usage = event.usage;
    else if (event.kind === 'error') return { error: event.error };
  }
  const calls = said.toolCalls();
  const message: Json = { role: 'assistant', content: said.text, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
  return { body: choice(message, stop ?? 'stop'), usage };
}

export const MISTRAL_CHAT: ChatFamily = {
  format: 'mistral-chat',
  // AWS's model-parameters-mistral-chat-completion page: these members and no others (no `stop`, no `top_k`).
  keys: ['messages', 'tools', 'tool_choice', 'max_tokens', 'top_p', 'temperature'],
  required: ['messages'],
  read: readMistral,
  chunks: () => mistralChunks(),
  whole: (events) => mistralWhole(events),
};
