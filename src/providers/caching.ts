/**
 * Prompt caching (docs/contract.md#request-rules): where the request's cache points go, which models take
 * them, and Bedrock's limits checked before the call.
 *
 * - Only Claude (3.5 Haiku, 3.7 and later) and Amazon Nova cache (their families' `caching`). A cache point
 *   for another model is a 400 `unsupported_parameter` naming `cache_control`, or, with drop_params,
 *   dropped and logged.
 * - At most 4 points per request; TTLs non-increasing in Bedrock's processing order tools → system →
 *   messages; a 1h TTL only on the models that have it (Claude 4.5 and later); Nova takes no point in its
 *   tools. Each is a 400 that names the rule.
 * - An alias's `prompt_caching: auto` places points itself: after the last tool, after the system prompt and
 *   on the last user turn (where the client placed none), within the limit; none when the client marks an
 *   hour-long point (a five-minute one in front of it would break the TTL order), or asks for its own points
 *   only (`ChatRequest.promptCache.explicit`).
 * - An OpenAI `prompt_cache_breakpoint` asks a minimum lifetime, `30m` or `12h`: best effort, it becomes a 1h
 *   point where the model takes 1h, else a 5m one (Bedrock's only TTLs), and the log says so. One with no
 *   lifetime takes the request's `prompt_cache_options.ttl`, else it is a 5m point. OpenAI writes only a request's latest breakpoints and never refuses more, so
 *   breakpoints past Bedrock's four are dropped earliest first, and one asking an hour lifts the breakpoints in
 *   front of it to an hour (a longer life keeps the minimum each asked) rather than break the TTL order; both
 *   logged. Marks given as `cache_control` keep Bedrock's limits as 400s. Its refusals name
 *   `prompt_cache_breakpoint`.
 * - A prefix shorter than the model's minimum (1,024 tokens and more) is simply not cached, as AWS documents:
 *   the sidecar cannot count tokens before the call, so it does not refuse one.
 *
 * `normaliseCacheMarks` first puts every mark where the body builders render it: a user or assistant message's
 * own mark on its last part (unless the message ends with tool calls), a system or tool message's part marks
 * on the message (each is one block upstream).
 */
import { SidecarError } from '../errors.ts';
import { rejectParam } from './policy.ts';
import type { CacheMark, ChatMessage, ChatRequest, ContentPart, ToolDefinition } from './request.ts';
import type { BuildContext, CacheSupport } from './types.ts';

export const MAX_CACHE_POINTS = 4;

function lastOf<T>(list: readonly T[]): T | undefined {
  return list[list.length - 1];
}

/** Moves each mark to where the builders render it (see the header); returns a new request. */
export function normaliseCacheMarks(request: ChatRequest): ChatRequest {
  const messages = request.messages.map((m): ChatMessage => {
    switch (m.role) {
      case 'system':
      case 'tool': {
        const partMark = [...m.content].reverse().find((p) => p.cache !== undefined)?.cache;
        const mark = m.cache ?? partMark;
        const content = m.content.map(({ cache: _c, ...p }) => p);
        return (mark ? { ...m, content, cache: mark } : { ...m, content }) as ChatMessage;
      }
      case 'user':
      case 'assistant': {
        const endsWithTools = m.role === 'assistant' && m.toolCalls.length > 0;
        const last = lastOf<ContentPart>(m.content);
        if (m.cache === undefined || endsWithTools || last === undefined) return m;
        const { cache, ...rest } = m;
        if (last.cache !== undefined) return rest;
        const content = [...m.content.slice(0, -1), { ...last, cache }];
        return { ...rest, content } as ChatMessage;
      }
    }
  });
  return { ...request, messages };
}

interface Located {
  where: 'tools' | 'system' | 'messages';
  mark: CacheMark;
}

/** Every mark in Bedrock's processing order: tools, then system messages, then the conversation. */
function marksInOrder(request: ChatRequest): Located[] {
  const out: Located[] = [];
  for (const tool of request.params.tools ?? []) if (tool.cache) out.push({ where: 'tools', mark: tool.cache });
  const ofMessage = (m: ChatMessage, where: 'system' | 'messages'): void => {
    for (const part of m.content) if (part.cache) out.push({ where, mark: part.cache });
    if (m.cache) out.push({ where, mark: m.cache });
  };
  for (const m of request.messages) if (m.role === 'system') ofMessage(m, 'system');
  for (const m of request.messages) if (m.role !== 'system') ofMessage(m, 'messages');
  return out;
}

function stripMarks(
  request: ChatRequest,
  keep: (where: 'tools' | 'system' | 'messages', mark: CacheMark) => CacheMark | undefined,
): ChatRequest {
  const fix = <T extends { cache?: CacheMark }>(item: T, where: 'tools' | 'system' | 'messages'): T => {
    if (!item.cache) return item;
    const { cache, ...rest } = item;
    const kept = keep(where, cache);
    return (kept ? { ...rest, cache: kept } : rest) as T;
  };
  const tools = request.params.tools?.map((t) => fix<ToolDefinition>(t, 'tools'));
  const messages = request.messages.map((m) => {
    const where = m.role === 'system' ? 'system' : 'messages';
    const content = m.content.map((p) => fix(p, where));
    return fix({ ...m, content } as ChatMessage, where);
  });
  return { ...request, messages, params: { ...request.params, ...(tools ? { tools } : {}) } };
}

/** `prompt_caching: auto`: points after the last tool, after the system prompt, on the last user turn. */
function placeAuto(request: ChatRequest, support: CacheSupport, ctx: BuildContext): ChatRequest {
  const own = marksInOrder(request);
  // A five-minute point in front of the client's hour-long one would break Bedrock's TTL order.
  if (own.some((m) => m.mark.ttl === '1h')) {
    ctx.note('prompt_caching auto: no points added, the client marks an hour-long cache itself');
    return request;
  }
  let budget = MAX_CACHE_POINTS - own.length;
  const placed: string[] = [];
  let tools = request.params.tools;
  const lastTool = tools !== undefined ? lastOf(tools) : undefined;
  if (support.toolPoints && tools && lastTool && !tools.some((t) => t.cache) && budget > 0) {
    tools = [...tools.slice(0, -1), { ...lastTool, cache: {} }];
    budget--;
    placed.push('after the tools');
  }
  const messages = [...request.messages];
  const systemAt = messages.map((m) => m.role).lastIndexOf('system');
  const system = messages[systemAt];
  if (system && !messages.some((m) => m.role === 'system' && (m.cache || m.content.some((p) => p.cache))) && budget > 0) {
    messages[systemAt] = { ...system, cache: {} };
    budget--;
    placed.push('after the system prompt');
  }
  const userAt = messages.map((m) => m.role).lastIndexOf('user');
  const user = messages[userAt];
  if (user && user.role === 'user' && !user.cache && !user.content.some((p) => p.cache) && budget > 0) {
    messages[userAt] = { ...user, cache: {} };
    placed.push('on the last user turn');
  }
  if (placed.length > 0) ctx.note(`prompt_caching auto: cache points ${placed.join(', ')}`);
  return { ...request, messages, params: { ...request.params, ...(tools ? { tools } : {}) } };
}

function refuse(message: string, param: string): SidecarError {
  return new SidecarError('invalid_request_error', `${param}: ${message}`, { param });
}

/** The parameter a refusal names: `prompt_cache_breakpoint` when every mark is one, else `cache_control`. */
function markParam(marks: readonly CacheMark[]): string {
  return marks.length > 0 && marks.every((m) => m.breakpoint) ? 'prompt_cache_breakpoint' : 'cache_control';
}

/** Each OpenAI breakpoint's lifetime as a Bedrock TTL: 1h where the model takes it, else 5m (see the header). */
function mapLifetimes(request: ChatRequest, support: CacheSupport, ctx: BuildContext): ChatRequest {
  const mapped = new Set<string>();
  const out = stripMarks(request, (_where, mark) => {
    const lifetime = mark.breakpoint && (mark.breakpoint.lifetime ?? request.promptCache?.lifetime);
    if (lifetime === undefined) return mark;
    const { ttl: _ttl, ...rest } = mark;
    mapped.add(`"${lifetime}" → ${support.hourTtl ? '"1h"' : '"5m"'}`);
    return support.hourTtl ? { ...rest, ttl: '1h' } : rest;
  });
  if (mapped.size > 0) {
    const why = support.hourTtl ? "Bedrock's TTLs are 5m and 1h" : `${ctx.target.modelId} takes no 1h cache`;
    ctx.note(`prompt_cache_breakpoint ttl ${[...mapped].join(', ')} (${why}; best effort, a minimum lifetime is not guaranteed)`);
  }
  return out;
}

/**
 * OpenAI breakpoints fitted to Bedrock's limits where OpenAI would take them (see the header): the earliest
 * dropped past four points, those in front of an hour-long one lifted to an hour. `cache_control` marks are
 * left as they are, for checkCacheLimits to refuse.
 */
function fitBreakpoints(request: ChatRequest, ctx: BuildContext): ChatRequest {
  const located = marksInOrder(request);
  const breakpoints = located.filter((m) => m.mark.breakpoint);
  const drop = new Set<CacheMark>(breakpoints.slice(0, Math.max(0, located.length - MAX_CACHE_POINTS)).map((m) => m.mark));
  const kept = located.filter((m) => !drop.has(m.mark));
  const lastHour = kept.findLastIndex((m) => m.mark.breakpoint !== undefined && m.mark.ttl === '1h');
  const lift = new Set<CacheMark>(
    kept
      .slice(0, Math.max(0, lastHour))
      .filter((m) => m.mark.breakpoint && m.mark.ttl !== '1h')
      .map((m) => m.mark),
  );
  if (drop.size > 0) ctx.note(`prompt_cache_breakpoint: the ${drop.size} earliest dropped, Bedrock takes ${MAX_CACHE_POINTS} cache points`);
  if (lift.size > 0)
    ctx.note(`prompt_cache_breakpoint: ${lift.size} in front of an hour-long one lifted to ttl "1h" (Bedrock's TTL order)`);
  if (drop.size === 0 && lift.size === 0) return request;
  return stripMarks(request, (_where, mark) => (drop.has(mark) ? undefined : lift.has(mark) ? { ...mark, ttl: '1h' } : mark));
}

/**
 * Applies the caching rules to a request for one model (`support`: how it caches, from its family's file;
 * undefined: it does not): auto placement, refusals, Bedrock's limits. The returned request carries only
 * marks the model can take, normalised for the body builders.
 */
export function preparePromptCache(request: ChatRequest, ctx: BuildContext, support: CacheSupport | undefined): ChatRequest {
  const { modelId } = ctx.target;
  let out = normaliseCacheMarks(request);
  if (!support) {
    const marks = marksInOrder(out);
    if (marks.length === 0) return out;
    rejectParam(
      ctx,
      markParam(marks.map((m) => m.mark)),
      `is not supported by ${modelId}: prompt caching is for Claude (3.5 Haiku, 3.7 and later) and Amazon Nova models`,
    );
    return stripMarks(out, () => undefined);
  }
  // Mapping and fitting copy the request's messages: only for a request that has an OpenAI breakpoint.
  if (marksInOrder(out).some((m) => m.mark.breakpoint)) out = fitBreakpoints(mapLifetimes(out, support, ctx), ctx);
  if (ctx.target.alias?.promptCaching === 'auto') {
    if (request.promptCache?.explicit)
      ctx.note('prompt_caching auto: no points added, the client asks for its own only (prompt_cache_options.mode "explicit")');
    else out = placeAuto(out, support, ctx);
  }
  const marks = marksInOrder(out);
  if (!support.toolPoints && marks.some((m) => m.where === 'tools')) {
    rejectParam(ctx, 'cache_control', `on a tool is not supported by ${modelId} (Nova caches the system prompt and messages only)`);
    out = stripMarks(out, (where, mark) => (where === 'tools' ? undefined : mark));
  }
  if (!support.hourTtl) {
    if (marksInOrder(out).some((m) => m.mark.ttl === '1h')) {
      rejectParam(ctx, 'cache_control', `ttl "1h" is not supported by ${modelId} (1h caching: Claude 4.5 and later)`);
    }
    // 5m is these models' only TTL: sent as the default, without a ttl the model may not know.
    out = stripMarks(out, (_where, { ttl: _ttl, ...rest }) => rest);
  }
  checkCacheLimits(marksInOrder(out).map((m) => m.mark));
  return out;
}

/**
 * Bedrock's limits on a request's cache points, given in its processing order (tools, system, messages):
 * at most four, TTLs not increasing. Throws the 400 naming the rule. Also used on Claude's own body
 * (anthropic-native.ts), whose marks the neutral request may not all carry.
 */
export function checkCacheLimits(marks: readonly CacheMark[]): void {
  const param = markParam(marks);
  if (marks.length > MAX_CACHE_POINTS) {
    throw refuse(`at most ${MAX_CACHE_POINTS} cache points per request (Bedrock's limit); this request has ${marks.length}`, param);
  }
  let short = false;
  for (const mark of marks) {
    if ((mark.ttl ?? '5m') === '5m') short = true;
    else if (short) {
      throw refuse('a ttl "1h" cache point cannot follow a "5m" one: TTLs must not increase in the order tools, system, messages', param);
    }
  }
}
