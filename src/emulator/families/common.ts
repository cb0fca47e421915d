// Helpers shared by the invoke families: the JSON-schema validation dialect (docs/bedrock-wire.md#unknown-keys), stop
// reason mapping from the Converse vocabulary, reading message text, and OpenAI-style tool-call ids.
import type { OutputPlan } from '../output.ts';
import { check, jsonSchemaReport, type Schema } from '../schema.ts';
import { isJson, type Json } from './types.ts';

/** Bedrock's JSON-schema validator: every problem, concatenated, in one "Malformed input request" sentence. */
export function everit(schema: Schema, body: unknown): string | undefined {
  const problems = check(schema, body);
  return problems.length > 0 ? jsonSchemaReport(problems) : undefined;
}

export const extraneousKey = (key: string): string =>
  `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`;

/** Maps a Converse stop reason through `table`; unknown values pass through verbatim. */
export function mapStop(table: Record<string, string>, stop: string): string {
  return table[stop] ?? stop;
}

/** Text of an OpenAI/Mistral/Jamba-style message `content` (string or array of `{type:'text',text}` parts). */
export function chatContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p) => isJson(p) && typeof p.text === 'string')
    .map((p) => (p as Json).text as string)
    .join('\n');
}

/** The last message with `role` (default 'user') in an OpenAI-like `messages` array, as text. */
export function lastRoleText(body: Json, role = 'user', key = 'content'): string {
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isJson(m) && m.role === role) return chatContentText(m[key]);
  }
  return '';
}

/** Full reasoning + text of a plan, for families that put reasoning inline in the text. */
export function* inlineReasoningPieces(plan: OutputPlan, open: string, close: string): Generator<string> {
  if (plan.reasoning) {
    yield open;
    yield* plan.reasoning.pieces();
    yield close;
  }
  yield* plan.text.pieces();
}

export function inlineReasoningFull(plan: OutputPlan, open: string, close: string): string {
  return (plan.reasoning ? open + plan.reasoning.full() + close : '') + plan.text.full();
}

/**
 * One chunk per text piece, the last piece's chunk marked as the terminal one (`first`/`last` flags), as
 * the completion-style families send them on real Bedrock: no extra empty chunk after the text. An empty
 * text is one chunk, first and last.
 */
export function* lastMarked(pieces: Iterable<string>, chunk: (text: string, first: boolean, last: boolean) => Json): Generator<Json> {
  let pending: string | undefined;
  let first = true;
  for (const piece of pieces) {
    if (pending !== undefined) {
      yield chunk(pending, first, false);
      first = false;
    }
    pending = piece;
  }
  yield chunk(pending ?? '', first, true);
}
