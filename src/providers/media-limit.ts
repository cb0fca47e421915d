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
 * From Claude 4.5 on the count is free, but a request of more than 20 images takes none larger than 2000 px
 * on a side ("At least one of the image dimensions exceed max allowed size for many-image requests: 2000
 * pixels", measured with Sonnet 5 on Bedrock) — retina screenshots are larger — so there the same omission
 * applies when one image is larger. One rule over the two readings of a conversation: the neutral one
 * (`limitMedia`) and Claude's own Messages body (`limitClaudeMedia`).
 */
import { SidecarError } from '../errors.ts';
import { claudeModelName } from './claude-rules.ts';
import { longerSide } from './image-format.ts';
import type { ChatMessage, ChatRequest, ContentPart } from './request.ts';

/** How many images (and documents) one request to a model may carry. */
export interface MediaRule {
  readonly limit: number;
  /** Whether documents count with the images. */
  readonly documents: boolean;
  /** When set, the limit holds only when some image of the request is larger than this many pixels on a side. */
  readonly largerThan?: number;
  /** What the model takes, for the omission text and messages. */
  readonly takes: string;
}

/** Claude before 4.5 (3.x, 3.5, 3.7, 4, 4.1: reported for 3.5 Sonnet and Sonnet 4, on both routes). */
const CLAUDE_MEDIA: MediaRule = { limit: 20, documents: true, takes: 'at most 20 images and documents in one request' };
/**
 * Claude 4.5 and later: more than 20 images only when none is larger than 2000 px on a side (measured with
 * Sonnet 5 on Bedrock: 29 pages taken at 2000 px, refused at 2001 px).
 */
const CLAUDE_MANY_IMAGES: MediaRule = {
  limit: 20,
  documents: false,
  largerThan: 2000,
  takes: 'at most 20 images in one request when one is larger than 2000 px',
};

/** The rule of a model, or undefined when it has none the sidecar knows of. */
export function mediaRule(family: string | undefined, modelId: string): MediaRule | undefined {
  if (family !== 'anthropic') return undefined;
  const name = claudeModelName(modelId);
  return /^claude-(instant|v1|v2|3-)/.test(name) || /^claude-(sonnet|opus|haiku)-4(-1)?(-\d{8}|-v\d|$)/.test(name)
    ? CLAUDE_MEDIA
    : CLAUDE_MANY_IMAGES;
}

/** One image or document of a conversation: its turn, its bytes (an image's), and how to leave it out. */
interface Medium {
  readonly turn: number;
  readonly kind: 'image' | 'document';
  readonly data?: string;
  omit(): void;
}

/**
 * Leaves out the oldest of `media` the rule counts until at most its limit remain; `latestFrom` is the first turn
 * of the latest input, never touched. Returns how many were left out; throws the 400 when the latest input alone
 * is too much.
 */
function omitOldest(all: readonly Medium[], rule: MediaRule, latestFrom: number, what: string): number {
  const media = rule.documents ? all : all.filter((m) => m.kind === 'image');
  const excess = media.length - rule.limit;
  if (excess <= 0) return 0;
  const { largerThan } = rule;
  if (largerThan !== undefined && !media.some((m) => m.data !== undefined && (longerSide(m.data) ?? 0) > largerThan)) return 0;
  const older = media.filter((m) => m.turn < latestFrom);
  if (older.length < excess) {
    throw new SidecarError(
      'invalid_request_error',
      `messages: the latest turn carries ${media.length - older.length} ${nounOf(rule)}; ${what} takes ${rule.takes}`,
      { param: 'messages' },
    );
  }
  for (const m of older.slice(0, excess)) m.omit();
  return excess;
}

function nounOf(rule: MediaRule): string {
  return rule.documents ? 'images and documents' : 'images';
}

function omittedText(kind: 'image' | 'document', rule: MediaRule): string {
  return `[an earlier ${kind} was left out: this model takes ${rule.takes}]`;
}

function noteOmitted(count: number, rule: MediaRule, what: string, note: (message: string) => void): void {
  if (count > 0) note(`${count} of the oldest ${nounOf(rule)} left out: ${what} takes ${rule.takes}`);
}

/** The neutral request within the model's limit (a new request when anything was left out). */
export function limitMedia(request: ChatRequest, rule: MediaRule | undefined, what: string, note: (message: string) => void): ChatRequest {
  if (rule === undefined) return request;
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
        data: part.data,
        omit: () => {
          content[j] = { type: 'text', text: omittedText(kind, rule), ...(part.cache ? { cache: part.cache } : {}) };
        },
      });
    });
  });
  const omitted = omitOldest(media, rule, latestFrom, what);
  noteOmitted(omitted, rule, what, note);
  return omitted === 0 ? request : { ...request, messages };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Claude's own `messages` (Bedrock's body, already filtered) within the model's limit. */
export function limitClaudeMedia(messages: Json[], rule: MediaRule | undefined, what: string, note: (message: string) => void): Json[] {
  if (rule === undefined) return messages;
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
      const source = isObject(block.source) ? block.source : undefined;
      media.push({
        turn,
        kind,
        ...(source?.type === 'base64' && typeof source.data === 'string' ? { data: source.data } : {}),
        omit: () => {
          blocks[j] = {
            type: 'text',
            text: omittedText(kind, rule),
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
  const omitted = omitOldest(media, rule, latestFrom, what);
  noteOmitted(omitted, rule, what, note);
  return omitted === 0 ? messages : out;
}
