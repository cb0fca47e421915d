/**
 * The Responses store (docs/contract.md#openai-responses): finished responses kept in memory so that
 * `previous_response_id` continues a conversation and GET / DELETE `/v1/responses/{id}` work within the
 * pod. Bounded three ways — entries (`responses.store_max_entries`), bytes (`responses.store_max_bytes`,
 * counted as the JSON size of what is kept) and age (`responses.store_ttl_s`) — oldest out first. A
 * response is also found by the ids of its output items: the OpenAI Agents SDK sends reasoning back by id
 * only, and the Vercel AI SDK (which stores by default) sends earlier answers' items as `item_reference`s.
 *
 * `encrypted_content` of a reasoning item is ours: `bsc1.` + base64url of the thinking text and Claude's
 * signature. It is opaque, not encrypted — Claude's signature already protects the thinking from edits.
 */
import type { ChatMessage } from '../../providers/request.ts';

export interface StoredReasoning {
  text: string;
  signature?: string;
  /** Claude's redacted_thinking data. */
  redacted?: string;
}

export interface StoredResponse {
  id: string;
  /** The response object as answered. */
  response: Record<string, unknown>;
  /** The whole conversation: what was sent (previous turns included), then this answer. */
  messages: ChatMessage[];
  /** Reasoning items of this answer by item id. */
  reasoning: Map<string, StoredReasoning>;
}

export interface StoreLimits {
  maxEntries: number;
  maxBytes: number;
  ttlS: number;
}

interface Entry {
  value: StoredResponse;
  bytes: number;
  expiresAtMs: number;
}

export class ResponseStore {
  readonly #entries = new Map<string, Entry>();
  /** Output item id (`rs_…`, `msg_…`, `fc_…`) → response id. */
  readonly #items = new Map<string, string>();
  #bytes = 0;

  constructor(
    private limits: StoreLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** A reload may change the limits; what is kept beyond them goes at the next put. */
  setLimits(limits: StoreLimits): void {
    this.limits = limits;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  put(value: StoredResponse): void {
    const bytes = JSON.stringify(value.response).length + JSON.stringify(value.messages).length + 256;
    if (bytes > this.limits.maxBytes || this.limits.maxEntries === 0) return; // larger than the whole store: not kept
    this.delete(value.id);
    this.#entries.set(value.id, { value, bytes, expiresAtMs: this.now() + this.limits.ttlS * 1000 });
    for (const item of itemIds(value)) this.#items.set(item, value.id);
    this.#bytes += bytes;
    this.#evict();
  }

  /** A response by its id or by the id of one of its output items; undefined when absent or expired. */
  get(id: string): StoredResponse | undefined {
    const key = this.#entries.has(id) ? id : this.#items.get(id);
    if (key === undefined) return undefined;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  delete(id: string): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    this.#entries.delete(id);
    for (const item of itemIds(entry.value)) this.#items.delete(item);
    this.#bytes -= entry.bytes;
    return true;
  }

  #evict(): void {
    const now = this.now();
    for (const [id, entry] of this.#entries) {
      const over = this.#entries.size > this.limits.maxEntries || this.#bytes > this.limits.maxBytes;
      if (!over && entry.expiresAtMs > now) break; // oldest first: the rest are younger
      this.delete(id);
    }
  }
}

/** The ids of a stored response's output items (its reasoning items among them). */
function itemIds(value: StoredResponse): string[] {
  const output = Array.isArray(value.response.output) ? (value.response.output as Array<{ id?: unknown }>) : [];
  const ids = output.map((item) => item.id).filter((id): id is string => typeof id === 'string');
  return [...new Set([...ids, ...value.reasoning.keys()])];
}

/** An output item of a stored response by its id, as it was answered; undefined when not kept. */
export function storedItem(stored: StoredResponse | undefined, id: string): Record<string, unknown> | undefined {
  const output = Array.isArray(stored?.response.output) ? (stored.response.output as Array<Record<string, unknown>>) : [];
  return output.find((item) => item.id === id);
}

const PREFIX = 'bsc1.';

export function sealReasoning(r: StoredReasoning): string {
  const body = r.redacted !== undefined ? { r: r.redacted } : { t: r.text, ...(r.signature !== undefined ? { s: r.signature } : {}) };
  return PREFIX + Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** Our encrypted_content back into the thinking it carries; undefined for anything else (another server's). */
export function openReasoning(sealed: string): StoredReasoning | undefined {
  if (!sealed.startsWith(PREFIX)) return undefined;
  try {
    const body = JSON.parse(Buffer.from(sealed.slice(PREFIX.length), 'base64url').toString('utf8')) as {
      t?: unknown;
      s?: unknown;
      r?: unknown;
    };
    if (typeof body.r === 'string') return { text: '', redacted: body.r };
    if (typeof body.t !== 'string') return undefined;
    return { text: body.t, ...(typeof body.s === 'string' ? { signature: body.s } : {}) };
  } catch {
    return undefined;
  }
}
