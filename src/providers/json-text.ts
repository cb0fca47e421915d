/**
 * JSON a client wrote inside a string (a tool call's arguments, a tool's text output, a Converse schema string),
 * parsed only when it nests no deeper than a request body may (src/json-checks.ts `MAX_JSON_DEPTH`): the body's
 * own check cannot see into a string. JSON.parse takes any depth, but what follows it recurses (JSON.stringify of
 * the body Bedrock is sent): arguments 20,000 levels deep, a 200 KB string, were a stack overflow and a 500.
 * Callers decide what text that is not JSON is (a 400 naming it, or plain text).
 */
import { MAX_JSON_DEPTH, nestingProblem } from '../json-checks.ts';

export { MAX_JSON_DEPTH };

export type JsonText = { ok: true; value: unknown } | { ok: false; tooDeep: boolean };

export function parseJsonText(text: string): JsonText {
  if (nestingProblem(text, MAX_JSON_DEPTH)) return { ok: false, tooDeep: true };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, tooDeep: false };
  }
}
