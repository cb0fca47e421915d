/**
 * Remote compaction on the Responses surface (docs/contract.md#openai-responses), as Codex asks for it when it
 * takes the provider for OpenAI (its `remote_compaction_v2`): a request whose last input item is
 * `{"type":"compaction_trigger"}` is answered with exactly one output item `{"type":"compaction", id,
 * encrypted_content}`; later requests send that item back in `input` in place of the history it replaced.
 *
 * The sidecar compacts by asking the alias's own model for a summary (COMPACTION_INSTRUCTION, sent as the
 * last user message of the conversation it summarises); `encrypted_content` carries that summary in a
 * versioned envelope only the sidecar reads back: `bscc1.` + base64url of `{"v":1,"summary":…}`. It is
 * opaque, not encrypted or signed: the summary goes back to the model as a user message, which the client
 * could send as such anyway (README "Decisions").
 */
import { SidecarError } from '../../errors.ts';
import type { ChatMessage } from '../../providers/request.ts';

const PREFIX = 'bscc1.';

/** What the model is asked, after the conversation it summarises. */
export const COMPACTION_INSTRUCTION = [
  'The conversation above is about to be replaced by a summary you write now: whoever continues the task',
  '(you, with no other memory of this conversation) will have only that summary and the instructions. Write it',
  'as a handoff. Keep: the goal and every request, constraint and preference the user stated; the decisions',
  'taken and why; the work done so far (files read or changed, commands run and what they showed, tool results',
  'that matter); the current state; what remains to be done, the next step first; and the exact names, paths,',
  'identifiers, values and error messages needed to go on. Leave out what no longer matters. Do not call tools.',
  'Answer with the summary only, in plain text, without a preamble.',
].join(' ');

/** How the summary reads when it stands in the history in place of what it replaced. */
const SUMMARY_HEADING = 'Summary of the earlier conversation (it was compacted; this summary, written by the model, replaces it):';

export function sealCompaction(summary: string): string {
  return PREFIX + Buffer.from(JSON.stringify({ v: 1, summary })).toString('base64url');
}

/** The summary a `compaction` item carries; undefined when it is not one of ours or not whole. */
export function openCompaction(sealed: string): string | undefined {
  if (!sealed.startsWith(PREFIX)) return undefined;
  try {
    const body = JSON.parse(Buffer.from(sealed.slice(PREFIX.length), 'base64url').toString('utf8')) as { v?: unknown; summary?: unknown };
    return body.v === 1 && typeof body.summary === 'string' ? body.summary : undefined;
  } catch {
    return undefined;
  }
}

/** A `compaction` input item (at `at`) as the user message that stands in the history in its place. */
export function compactionMessage(item: Record<string, unknown>, at: string): ChatMessage {
  const where = `${at}.encrypted_content`;
  const summary = typeof item.encrypted_content === 'string' ? openCompaction(item.encrypted_content) : undefined;
  if (summary === undefined) {
    throw new SidecarError(
      'invalid_request_error',
      `${where} is not a compaction this sidecar wrote (send back the compaction item exactly as it was answered)`,
      { param: where },
    );
  }
  return { role: 'user', content: [{ type: 'text', text: `${SUMMARY_HEADING}\n\n${summary}`, at: where }], at };
}

/** Whether a user message is a `compaction` item read back (compactionMessage), not one the user wrote. */
export function isCompactionSummary(message: ChatMessage): boolean {
  const first = message.role === 'user' && message.content.length === 1 ? message.content[0] : undefined;
  return first?.type === 'text' && first.text.startsWith(`${SUMMARY_HEADING}\n\n`);
}

/** The request for a summary: the instruction as the last user message, named by the trigger item. */
export function compactionRequestMessage(at: string): ChatMessage {
  return { role: 'user', content: [{ type: 'text', text: COMPACTION_INSTRUCTION, at }], at };
}

/** A 400 naming `param` of `context_management`. */
function badContextManagement(param: string, message: string): SidecarError {
  return new SidecarError('invalid_request_error', message, { param });
}

const ENTRY = '{"type": "compaction", "compact_threshold"?}';

/**
 * Reads `context_management` (OpenAI's server-side compaction: `[{type: "compaction", compact_threshold?}]`,
 * which the Agents SDK's sandbox agents send on every request and the AI SDK's `contextManagement` option sets)
 * and returns the note to log when entries are dropped. The sidecar compacts when asked to (a
 * `compaction_trigger` item, `POST /v1/responses/compact`), not by a token count it cannot know before Bedrock
 * answers, so a request over the threshold is answered as it is (README "Decisions"). Anything but a list of
 * compaction entries is a 400 naming it: OpenAI has no other strategy.
 */
export function readContextManagement(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badContextManagement('context_management', `"context_management" must be a list of ${ENTRY}`);
  value.forEach((entry: unknown, i) => {
    const at = `context_management[${i}]`;
    const e = entry as Record<string, unknown>;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || e.type !== 'compaction') {
      throw badContextManagement(`${at}.type`, `${at} must be ${ENTRY}: "compaction" is the only type`);
    }
    const threshold = e.compact_threshold;
    if (threshold !== undefined && threshold !== null && !(Number.isInteger(threshold) && (threshold as number) > 0)) {
      throw badContextManagement(
        `${at}.compact_threshold`,
        `${at}.compact_threshold must be a positive integer (tokens), got ${JSON.stringify(threshold)}`,
      );
    }
  });
  if (value.length === 0) return undefined;
  return '"context_management" dropped: server-side compaction is not done by the sidecar (compact with a compaction_trigger item or /v1/responses/compact)';
}
