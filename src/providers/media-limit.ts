/**
 * How many images and documents one request may carry (docs/contract.md#request-rules). Claude before 4.5 on
 * Bedrock takes at most 20 together, on InvokeModel and Converse alike, tool results' included, and refuses the
 * whole request otherwise ("too many images and documents: 21 + 0 > 20", as users report from Bedrock), where
 * Anthropic's own API takes 100: a Claude Code or agent session that has read its 21st screenshot fails on every
 * later turn, and the client cannot be told to stop.
 *
 * So the oldest images and documents of the conversation are left out, each replaced by a line saying so, until
 * the request is within the limit: the model has already answered about them. What the latest turn brings (the
 * messages after the last assistant turn) is never left out; more than the limit there alone is a 400 naming it.
 * One rule over the two readings of a conversation: the neutral one (`limitMedia`) and Claude's own Messages
 * body (`limitClaudeMedia`).
 */
import { SidecarError } from '../errors.ts';
import { claudeModelName } from './claude-rules.ts';
import type { ChatMessage, ChatRequest, ContentPart } from './request.ts';

const CLAUDE_MEDIA_LIMIT = 20;

/**
 * The limit of a model, or undefined when it has none the sidecar knows of. Claude 3.x, 3.5, 3.7, 4 and 4.1
 * (reported for 3.5 Sonnet and Sonnet 4, on both routes); Claude Sonnet 5 was measured taking 29, and no report
 * names 4.5 to 4.8, so they are sent as they come.
 */
export function mediaLimit(family: string | undefined, modelId: string): number | undefined {
  if (family !== 'anthropic') return undefined;
  const name = claudeModelName(modelId);
  return /^claude-(instant|v1|v2|3-)/.test(name) || /^claude-(sonnet|opus|haiku)-4(-1)?(-\d{8}|-v\d|$)/.test(name)
    ? CLAUDE_MEDIA_LIMIT
    : undefined;
}

/** One image or document of a conversation: its turn, and how to leave it out. */
interface Medium {
  readonly turn: number;
  readonly kind: 'image' | 'document';
  omit(): void;
}

/**
 * Leaves out the oldest of `media` until at most `limit` remain; `latestFrom` is the first turn of the latest
 * input, never touched. Returns how many were left out; throws the 400 when the latest input alone is too much.
 */
function omitOldest(media: readonly Medium[], limit: number, latestFrom: number, what: string): number {
  const excess = media.length - limit;
  if (excess <= 0) return 0;
  const older = media.filter((m) => m.turn < latestFrom);
  if (older.length < excess) {
    throw new SidecarError(
      'invalid_request_error',
      `messages: the latest turn carries ${media.length - older.length} images and documents; ${what} takes at most ${limit} in one request`,
      { param: 'messages' },
    );
  }
  for (const m of older.slice(0, excess)) m.omit();
  return excess;
}

function omittedText(kind: 'image' | 'document', limit: number): string {
  return `[an earlier ${kind} was left out: this model takes at most ${limit} images and documents in one request]`;
}

function noteOmitted(count: number, limit: number, what: string, note: (message: string) => void): void {
  if (count > 0) note(`${count} of the oldest images and documents left out: ${what} takes at most ${limit} in one request`);
}

/** The neutral request within the model's limit (a new request when anything was left out). */
export function limitMedia(request: ChatRequest, limit: number | undefined, what: string, note: (message: string) => void): ChatRequest {
  if (limit === undefined) return request;
  const messages: ChatMessage[] = request.messages.map((m) =>
    m.role === 'user' || m.role === 'tool' ? { ...m, content: [...m.content] } : m,
  );
  const media: Medium[] = [];
  let latestFrom = 0;
  messages.forEach((m, turn) => {
    if (m.role === 'assistant') latestFrom = turn + 1;
    if (m.role !== 'user' && m.role !== 'tool') return;
    const content: ContentPart[] = m.content;
    content.forEach((part, j) => {
      if (part.type === 'text') return;
      const kind = part.type;
      media.push({
        turn,
        kind,
        omit: () => {
          content[j] = { type: 'text', text: omittedText(kind, limit), ...(part.cache ? { cache: part.cache } : {}) };
        },
      });
    });
  });
  const omitted = omitOldest(media, limit, latestFrom, what);
  noteOmitted(omitted, limit, what, note);
  return omitted === 0 ? request : { ...request, messages };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Claude's own `messages` (Bedrock's body, already filtered) within the model's limit. */
export function limitClaudeMedia(messages: Json[], limit: number | undefined, what: string, note: (message: string) => void): Json[] {
  if (limit === undefined) return messages;
  const out: Json[] = messages.map((m) => (Array.isArray(m.content) ? { ...m, content: [...(m.content as unknown[])] } : { ...m }));
  const media: Medium[] = [];
  let latestFrom = 0;
  const visit = (blocks: unknown[], turn: number): void => {
    blocks.forEach((block, j) => {
      if (!isObject(block)) return;
      if (block.type === 'tool_result' && Array.isArray(block.content)) {
        const inner = [...(block.content as unknown[])];
        blocks[j] = { ...block, content: inner };
        visit(inner, turn);
        return;
      }
      if (block.type !== 'image' && block.type !== 'document') return;
      const kind = block.type;
      media.push({
        turn,
        kind,
        omit: () => {
          blocks[j] = {
            type: 'text',
            text: omittedText(kind, limit),
            ...(block.cache_control !== undefined ? { cache_control: block.cache_control } : {}),
          };
        },
      });
    });
  };
  out.forEach((m, turn) => {
    if (m.role === 'assistant') latestFrom = turn + 1;
    else if (Array.isArray(m.content)) visit(m.content as unknown[], turn);
  });
  const omitted = omitOldest(media, limit, latestFrom, what);
  noteOmitted(omitted, limit, what, note);
  return omitted === 0 ? messages : out;
}
