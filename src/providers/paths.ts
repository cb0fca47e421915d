/**
 * Where the client put what the neutral request carries (`at` on a message, a part, a tool call): the path in
 * the body the client sent, in its surface's notation (`messages[2].content[1]` on the Chat and Messages
 * surfaces, `input[3]` on Responses, `messages.1.content.0` or `chat_history.2.message` on the native one). A
 * surface's reader sets it on what it reads; the request rules name it in their 400s and log lines, so a client
 * is told the position in its own body however the reader regrouped it (the Messages surface's `system` is
 * not one of its `messages`, and a user turn's tool results become messages of their own).
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
