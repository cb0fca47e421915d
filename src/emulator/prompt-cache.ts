// Prompt caching as Bedrock does it: the cache-point rules a request must follow, and a per-emulator cache
// that makes a repeated prefix a cache read (and a new one a cache write) in the usage it reports.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html (models, minimum tokens
//         per checkpoint, 1-hour TTL models, at most 4 checkpoints; Nova: system and messages only)
//         Anthropic's own 400 texts for the limits (passed through by Bedrock on Claude):
//         "A maximum of 4 blocks with cache_control may be provided. Found N." and the ttl ordering message.
// Converse marks a point with a `{cachePoint: {type: "default", ttl?}}` block after what it caches; Claude's
// invoke body marks the block itself with `cache_control: {type: "ephemeral", ttl?}`. Both are walked in
// Bedrock's processing order (tools → system → messages) into one list of segments and points.
import { createHash } from 'node:crypto';
import { baseModelId } from './model-id.ts';
import { isJson, type Json } from './families/types.ts';
import type { OutputPlan } from './output.ts';

type Ttl = '5m' | '1h';
type Part = { kind: 'segment'; json: string } | { kind: 'point'; ttl: Ttl; where: 'tools' | 'system' | 'messages' };

export const MAX_CACHE_POINTS = 4;

export function tooManyPoints(found: number): string {
  return `A maximum of ${MAX_CACHE_POINTS} blocks with cache_control may be provided. Found ${found}.`;
}
export const TTL_ORDER =
  "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block. " +
  'Note that blocks are processed in the following order: `tools`, `system`, `messages`.';

/** How a model caches, or undefined when it does not (the emulator's own reading of the AWS page). */
function cachingOf(modelId: string): { minTokens: number; hourTtl: boolean; toolPoints: boolean } | undefined {
  const base = baseModelId(modelId);
  if (base === 'opaque') return { minTokens: 1024, hourTtl: true, toolPoints: true };
  if (base.startsWith('amazon.nova-'))
    return /embed|canvas|reel|sonic/.test(base) ? undefined : { minTokens: 1000, hourTtl: false, toolPoints: false };
  if (!base.startsWith('anthropic.claude')) return undefined;
  const name = base.slice('anthropic.'.length);
  if (/^claude-(instant|v2|3-(haiku|sonnet|opus)-|3-5-sonnet)/.test(name)) return undefined;
  if (name.startsWith('claude-3-5-haiku')) return { minTokens: 2048, hourTtl: false, toolPoints: true };
  if (name.startsWith('claude-3-7') || /^claude-(sonnet|opus)-4(-1)?-\d{8}/.test(name))
    return { minTokens: 1024, hourTtl: false, toolPoints: true };
  if (/^claude-(haiku-4-5|opus-4-5)/.test(name)) return { minTokens: 4096, hourTtl: true, toolPoints: true };
  return { minTokens: 1024, hourTtl: true, toolPoints: true };
}

function ttlOf(value: unknown): Ttl {
  return isJson(value) && value.ttl === '1h' ? '1h' : '5m';
}

/** Converse (and Nova invoke) bodies: `cachePoint` blocks in toolConfig.tools, system and message content. */
export function conversePoints(body: Json): Part[] {
  const parts: Part[] = [];
  const walk = (blocks: unknown, where: 'tools' | 'system' | 'messages', prefix: string): void => {
    if (!Array.isArray(blocks)) return;
    for (const block of blocks) {
      if (isJson(block) && 'cachePoint' in block) parts.push({ kind: 'point', ttl: ttlOf(block.cachePoint), where });
      else parts.push({ kind: 'segment', json: prefix + JSON.stringify(block) });
    }
  };
  walk(isJson(body.toolConfig) ? body.toolConfig.tools : undefined, 'tools', 'tool:');
  walk(body.system, 'system', 'system:');
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (isJson(m)) walk(m.content, 'messages', `${String(m.role)}:`);
  }
  return parts;
}

/** Claude invoke bodies: blocks (tools, system blocks, message content blocks) carrying `cache_control`. */
export function claudePoints(body: Json): Part[] {
  const parts: Part[] = [];
  const walk = (blocks: unknown, where: 'tools' | 'system' | 'messages', prefix: string): void => {
    if (typeof blocks === 'string') {
      parts.push({ kind: 'segment', json: prefix + JSON.stringify(blocks) });
      return;
    }
    if (!Array.isArray(blocks)) return;
    for (const block of blocks) {
      if (!isJson(block)) continue;
      const { cache_control: mark, ...rest } = block;
      parts.push({ kind: 'segment', json: prefix + JSON.stringify(rest) });
      if (mark !== undefined) parts.push({ kind: 'point', ttl: ttlOf(mark), where });
    }
  };
  walk(body.tools, 'tools', 'tool:');
  walk(body.system, 'system', 'system:');
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (isJson(m)) walk(m.content, 'messages', `${String(m.role)}:`);
  }
  return parts;
}

/** The 400 text for cache points a model or Bedrock's limits do not allow, or undefined. */
export function cachePointProblem(modelId: string, parts: readonly Part[]): string | undefined {
  const points = parts.filter((p): p is Extract<Part, { kind: 'point' }> => p.kind === 'point');
  if (points.length === 0) return undefined;
  const caching = cachingOf(modelId);
  if (!caching) return `The model ${modelId} does not support prompt caching. Remove the cache points and try again.`;
  if (points.length > MAX_CACHE_POINTS) return tooManyPoints(points.length);
  let seenShort = false;
  for (const p of points) {
    if (p.ttl === '1h' && !caching.hourTtl) return `The model ${modelId} does not support a 1h cache ttl. Use 5m and try again.`;
    if (p.where === 'tools' && !caching.toolPoints) return `The model ${modelId} does not support cache points in tools.`;
    if (p.ttl === '5m') seenShort = true;
    else if (seenShort) return TTL_ORDER;
  }
  return undefined;
}

function estimate(bytes: number): number {
  return Math.ceil(bytes / 4);
}

/**
 * The cache of one emulator: prefixes (up to a cache point, at least the model's minimum tokens) written
 * by one call are read by the next call that repeats them. A prefix below the minimum is not cached (AWS:
 * "the prefix is not cached"), never an error.
 */
export class PromptCache {
  private readonly written = new Set<string>();

  /**
   * Cache read / write tokens for a request, recording what it writes; of the writes, those under a point with a
   * one-hour ttl (each point writes what lies between the point before it, or what was read, and itself).
   * Undefined when it has no points.
   */
  use(modelId: string, parts: readonly Part[]): { readTokens: number; writeTokens: number; write1hTokens: number } | undefined {
    const caching = cachingOf(modelId);
    if (!caching || !parts.some((p) => p.kind === 'point')) return undefined;
    const hash = createHash('sha256').update(baseModelId(modelId));
    let bytes = 0;
    let readTokens = 0;
    let lastTokens = 0;
    const keys: string[] = [];
    const points: Array<{ tokens: number; ttl: Ttl }> = [];
    for (const part of parts) {
      if (part.kind === 'segment') {
        hash.update(part.json);
        bytes += Buffer.byteLength(part.json);
        continue;
      }
      const tokens = estimate(bytes);
      if (tokens < caching.minTokens) continue;
      const key = hash.copy().digest('hex');
      if (this.written.has(key)) readTokens = tokens;
      keys.push(key);
      points.push({ tokens, ttl: part.ttl });
      lastTokens = tokens;
    }
    for (const key of keys) this.written.add(key);
    let write1hTokens = 0;
    let before = 0;
    for (const point of points) {
      if (point.ttl === '1h') write1hTokens += Math.max(0, point.tokens - Math.max(before, readTokens));
      before = point.tokens;
    }
    return { readTokens, writeTokens: Math.max(0, lastTokens - readTokens), write1hTokens };
  }
}

/** Puts a request's cache use into the plan's usage, unless the reply scripted cache tokens itself. */
export function applyCacheUse(plan: OutputPlan, use: { readTokens: number; writeTokens: number; write1hTokens: number } | undefined): void {
  if (!use || plan.usage.cacheReadTokens !== undefined || plan.usage.cacheWriteTokens !== undefined) return;
  plan.usage.cacheReadTokens = use.readTokens;
  plan.usage.cacheWriteTokens = use.writeTokens;
  plan.usage.cacheWrite1hTokens = use.write1hTokens;
  plan.usage.inputTokens = Math.max(1, plan.usage.inputTokens - use.readTokens - use.writeTokens);
}
