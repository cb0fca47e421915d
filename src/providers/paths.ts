/**
 * Where the client put what the neutral request carries (`at` on a message, a part, a tool call): the path in
 * the body the client sent, in its surface's notation (`messages[2].content[1]` on the Chat and Messages
 * surfaces, `input[3]` on Responses, `messages.1.content.0` or `chat_history.2.message` on the native one). A
 * surface's reader sets it on what it reads; the request rules name it in their 400s and log lines, so a client
 * is told the position in its own body however the reader regrouped it (the Messages surface's `system` is
 * not one of its `messages`, and a user turn's tool results become messages of their own).
 *
 * A client's own body (Claude's Messages body, a native InvokeModel body the family takes as it is) is sent
 * as it came; the masks an input guardrail applied to the neutral reading are written back into it at the
 * `at` of each masked text (`maskedOwnBody`), so the request keeps everything else the client wrote.
 */
import type { AssistantMessage, ChatMessage } from './request.ts';

/** Where message `i` of the neutral reading came from: its `at`, else its place in the reading. */
export function messageAt(m: ChatMessage, i: number): string {
  return m.at ?? `messages[${i}]`;
}

/** Where part `j` of message `i` came from. */
export function partAt(m: ChatMessage, i: number, j: number): string {
  return m.content[j]?.at ?? `${messageAt(m, i)}.content[${j}]`;
}

/** Where tool call `j` of assistant message `i` came from. */
export function callAt(m: AssistantMessage, i: number, j: number): string {
  return m.toolCalls[j]?.at ?? `${messageAt(m, i)}.tool_calls[${j}]`;
}

type Json = Record<string, unknown>;

/** A message's text (request.ts `joinText`, which imports this module). */
function said(m: ChatMessage): string {
  let out = '';
  for (const part of m.content) if (part.type === 'text') out += part.text;
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A path's steps: `messages[2].content.0` → messages, 2, content, 0. */
function steps(path: string): Array<string | number> {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((step) => step !== '')
    .map((step) => (/^\d+$/.test(step) ? Number(step) : step));
}

/**
 * What stands at the end of a path once `said` (the text read from it) is masked to `text`: a string that
 * said it, replaced; a block whose `text` said it, with its text replaced; a value read as its JSON text
 * (a tool's outputs, a Converse `json` result), the JSON the masked text is. Undefined when none fits (the
 * masked text is no longer JSON, or the value does not say what was read).
 */
function masked(value: unknown, said: string, text: string): unknown {
  if (typeof value === 'string') return value === said ? text : undefined;
  if (isObject(value) && value.text === said) return { ...value, text };
  if (value === undefined || JSON.stringify(value) !== said) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `node` with the value at `path[k..]` masked (copied along the path, the rest shared), or undefined. */
function put(node: unknown, path: ReadonlyArray<string | number>, k: number, said: string, text: string): unknown {
  if (k === path.length) return masked(node, said, text);
  const step = path[k]!;
  if (typeof step === 'number') {
    if (!Array.isArray(node) || step >= node.length) return undefined;
    const next = put(node[step], path, k + 1, said, text);
    if (next === undefined) return undefined;
    const copy = [...(node as unknown[])];
    copy[step] = next;
    return copy;
  }
  if (!isObject(node) || !Object.hasOwn(node, step)) return undefined;
  const next = put(node[step], path, k + 1, said, text);
  return next === undefined ? undefined : { ...node, [step]: next };
}

/**
 * A client's own body as it goes once an input guardrail masked the neutral reading of it: `body` itself when
 * `current` says what `reading` said; else a copy with each masked text written where it was read (its `at`).
 * Undefined when a changed text cannot be placed so (it has no `at`, or the body does not hold what was read
 * there): the family then builds its body from the masked reading, so nothing the guardrail masked goes.
 */
export function maskedOwnBody(body: Json, reading: readonly ChatMessage[], current: readonly ChatMessage[]): Json | undefined {
  const read = new Map<string, string>();
  for (const m of reading) for (const part of m.content) if (part.type === 'text' && part.at !== undefined) read.set(part.at, part.text);
  let out: Json = body;
  for (const [i, m] of current.entries()) {
    const before = reading[i];
    if (before !== undefined && said(before) === said(m)) continue;
    for (const part of m.content) {
      if (part.type !== 'text') continue;
      const was = part.at === undefined ? undefined : read.get(part.at);
      if (was === undefined) return undefined;
      if (was === part.text) continue;
      const next = put(out, steps(part.at!), 0, was, part.text);
      if (!isObject(next)) return undefined;
      out = next;
    }
  }
  return out;
}
