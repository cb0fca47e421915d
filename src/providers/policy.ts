/**
 * The two checks a static allow-list cannot make, shared by every family's body builder:
 *
 * - `rejectParam`: a parameter (or a value of one) that only some models of a family can take — tools on
 *   a prompt-only Mistral model, reasoning on Nova 1, images on Llama 3.1. Same rule as `applyParamPolicy`:
 *   400 `unsupported_parameter` naming it, or dropped and logged with drop_params.
 * - `mergeExtraFields`: the alias's `additional_model_request_fields`, checked against the family's
 *   native-key allow-list (also checked when the config loads, see `checkExtraFields`), then merged into
 *   the native body one level deep, so `{inferenceConfig: {topK: 20}}` adds to the body's inferenceConfig.
 */
import { SidecarError } from '../errors.ts';
import { isRecord } from './answer.ts';
import { messageAt, partAt } from './paths.ts';
import type { ChatMessage, ChatRequest, ImagePart, ReasoningEffort } from './request.ts';
import type { BuildContext } from './types.ts';

/** Throws `unsupported_parameter` for `param`, or (drop_params) logs it and returns false. */
export function rejectParam(ctx: BuildContext, param: string, why: string): false {
  const drop = (ctx.dropParams ?? ctx.target.alias?.dropParams ?? false) && ctx.keepParams?.has(param) !== true;
  if (!drop) {
    throw new SidecarError(
      'unsupported_parameter',
      `"${param}" ${why}; remove it, or set drop_params: true to drop unsupported parameters`,
      { param },
    );
  }
  ctx.note(`parameter "${param}" dropped (drop_params): ${why}`);
  return false;
}

/** The first key of `fields` the allow-list does not name, or undefined when all are allowed. */
export function disallowedExtraField(fields: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  if (allowed.has('*')) return undefined;
  return Object.keys(fields).find((key) => !allowed.has(key));
}

/** A config-load message for a disallowed key, or undefined. */
export function checkExtraFields(
  fields: Record<string, unknown> | undefined,
  allowed: ReadonlySet<string>,
  what: string,
): string | undefined {
  if (!fields) return undefined;
  const key = disallowedExtraField(fields, allowed);
  if (key === undefined) return undefined;
  const list = [...allowed].sort().join(', ') || 'none';
  return `additional_model_request_fields: "${key}" is not a field ${what} takes (allowed: ${list})`;
}

/**
 * Merges the alias's extra fields into `target` (a body, or converse's additionalModelRequestFields).
 * A key the allow-list does not name is a 400 (the registry already refuses it when the config loads).
 */
export function mergeExtraFields(target: Record<string, unknown>, ctx: BuildContext, allowed: ReadonlySet<string>, what: string): void {
  const extra = ctx.target.alias?.additionalModelRequestFields;
  if (!extra) return;
  const problem = checkExtraFields(extra, allowed, what);
  if (problem) throw new SidecarError('invalid_request_error', `model "${ctx.target.name}": ${problem}`, { param: 'model' });
  for (const [key, value] of Object.entries(extra)) {
    const current = target[key];
    target[key] = isRecord(current) && isRecord(value) ? { ...current, ...value } : value;
  }
}

/** The 400 for an image sent to a model that takes none, naming the part (content, so never dropped). */
export function imageRefused(where: string, what = 'this model'): SidecarError {
  return new SidecarError('unsupported_parameter', `${where}: ${what} takes no images`, { param: where });
}

/** Images sent to a text-only model: the 400 of `imageRefused` for the first one. */
export function refuseImages(request: ChatRequest, what: string): void {
  request.messages.forEach((m, i) => {
    if (m.role !== 'user') return;
    m.content.forEach((part, j) => {
      if (part.type === 'image') throw imageRefused(partAt(m, i, j), what);
    });
  });
}

/**
 * Tool results beyond text — images, documents, a failed tool — for a target that cannot take them (`takes`;
 * `what` names the model and route): content, so a 400 naming the part, or the message for the status. With
 * `drop` (a surface whose clients cannot be configured: Anthropic Messages, docs/contract.md#anthropic-messages)
 * they are dropped instead, each logged through `drop`, and the result's text goes on — or, when it had none
 * (Claude Code's Read of a PDF is the document alone), a line saying what the tool returned that the model
 * cannot read, since Bedrock refuses a blank tool result and the model should not take it for an empty file.
 *
 * With `imagesBeside` (a model that reads images in a user turn but not inside a tool result: GPT, Grok, Kimi,
 * Mistral's and Qwen's vision models on Converse) an image is neither refused nor dropped: it moves out of its
 * result into a user message right after the run of results it belongs to, the result says where it went, and
 * `imagesBeside` is told (`besideResults`). Returns the request.
 */
export function checkToolResults(
  request: ChatRequest,
  takes: boolean,
  what: string,
  drop?: (message: string) => void,
  imagesBeside?: (message: string) => void,
): ChatRequest {
  if (takes) return request;
  const moved = imagesBeside ? besideResults(request.messages, what, imagesBeside) : request.messages;
  const messages = moved.map((m, i): ChatMessage => {
    if (m.role !== 'tool' || (m.error !== true && m.content.every((part) => part.type === 'text'))) return m;
    m.content.forEach((part, j) => {
      if (part.type === 'text') return;
      const where = partAt(m, i, j);
      const message = `${where}: ${what} takes no ${part.type}s in a tool result (${m.toolCallId})`;
      if (!drop) throw new SidecarError('unsupported_parameter', message, { param: where });
      drop(`${message}: dropped`);
    });
    if (m.error === true) {
      const where = messageAt(m, i);
      const message = `${where}: ${what} takes no error status in a tool result (${m.toolCallId})`;
      if (!drop) throw new SidecarError('unsupported_parameter', message, { param: where });
      drop(`${message}: dropped, its text goes on`);
    }
    const { error: _error, ...rest } = m;
    const text = m.content.filter((part) => part.type === 'text');
    const left = [
      ...new Set(m.content.flatMap((part) => (part.type === 'text' ? [] : [part.type === 'image' ? 'an image' : 'a document']))),
    ];
    if (left.length > 0 && text.every((part) => part.text.trim() === '')) {
      return { ...rest, content: [{ type: 'text', text: `(the tool returned ${left.join(' and ')}, which this model cannot read)` }] };
    }
    return { ...rest, content: text };
  });
  return { ...request, messages };
}

/**
 * Images taken out of tool results and put beside them: each run of tool messages is followed by one user
 * message holding the run's images in order (Converse merges it into the results' user turn, where Bedrock
 * reads an image for models that refuse one inside `toolResult`: opencode #49443 and #48069, pi #8643, probed
 * 2026-08/09), and each result that held some says which they are ("image 2 after the tool results"), so a
 * model that called several tools knows whose picture it sees. Each move is told to `note`; the client's own
 * `at` stays on each image.
 */
function besideResults(messages: readonly ChatMessage[], what: string, note: (message: string) => void): ChatMessage[] {
  const out: ChatMessage[] = [];
  let images: ImagePart[] = [];
  const endOfRun = (): void => {
    if (images.length > 0) out.push({ role: 'user', content: images });
    images = [];
  };
  messages.forEach((m, i) => {
    if (m.role !== 'tool') {
      endOfRun();
      out.push(m);
      return;
    }
    const own = m.content.filter((part): part is ImagePart => part.type === 'image');
    if (own.length === 0) {
      out.push(m);
      return;
    }
    const first = images.length + 1;
    images.push(...own);
    const which = own.length === 1 ? `image ${first}` : `images ${first}–${first + own.length - 1}`;
    note(`${messageAt(m, i)}: ${what} reads no images in a tool result (${m.toolCallId}): ${which} moved after the tool results`);
    const kept = m.content.filter((part) => part.type !== 'image');
    // A text result is sent as its parts joined, so the line starts on its own.
    const after = kept.some((part) => part.type === 'text' && part.text.trim() !== '') ? '\n' : '';
    const said = `${after}(the tool returned ${own.length === 1 ? 'an image' : `${own.length} images`}: ${which} after the tool results)`;
    out.push({ ...m, content: [...kept, { type: 'text', text: said }] });
  });
  endOfRun();
  return out;
}

/**
 * Stop sequences of whitespace only (`"\n"`, `" "`), which Converse refuses for every model ("The stop sequence
 * value at inferenceConfig.stopSequences.0 is blank.": stdapi-ai/stdapi.ai probes of five models, 2026-09) and
 * Claude's own body too ("stop_sequences: each stop sequence must contain non-whitespace", 2026-09-30): the
 * parameter policy's (a 400 naming `stop`, or, with drop_params, left out and the others kept). Returns the request.
 */
export function withoutBlankStops(request: ChatRequest, ctx: BuildContext): ChatRequest {
  const stop = request.params.stop;
  if (stop === undefined || stop.every((s) => s.trim() !== '')) return request;
  rejectParam(ctx, 'stop', `holds a sequence of whitespace only, which Bedrock refuses for ${ctx.target.modelId}`);
  const kept = stop.filter((s) => s.trim() !== '');
  const { stop: _stop, ...params } = request.params;
  return { ...request, params: kept.length > 0 ? { ...params, stop: kept } : params };
}

/**
 * The `reasoning: {effort}` field of the models that take Responses' shape on Converse (OpenAI's GPT-5.6 and later,
 * Kimi K3): the effort as asked, `minimal`, which neither takes, as `low`.
 */
export function reasoningEffortField(effort: ReasoningEffort): { reasoning: { effort: Exclude<ReasoningEffort, 'minimal'> } } {
  return { reasoning: { effort: effort === 'minimal' ? 'low' : effort } };
}

/**
 * `reasoning_effort` for a family with three levels (Nova 2 `maxReasoningEffort`, gpt-oss
 * `reasoning_effort`): `minimal` → `low`; `none` → undefined (no reasoning sent) where reasoning can be off,
 * else refused; `xhigh` and `max` refused (no level above `high`). Refusals follow `rejectParam` (undefined once
 * dropped).
 */
export function threeLevelEffort(ctx: BuildContext, effort: ReasoningEffort, canTurnOff: boolean): 'low' | 'medium' | 'high' | undefined {
  switch (effort) {
    case 'none':
      if (!canTurnOff) rejectParam(ctx, 'reasoning_effort', `"none" is not supported by ${ctx.target.modelId}: it always reasons`);
      return undefined;
    case 'xhigh':
    case 'max':
      rejectParam(ctx, 'reasoning_effort', `"${effort}" is not supported by ${ctx.target.modelId} (levels: low, medium, high)`);
      return undefined;
    case 'minimal':
      return 'low';
    case 'low':
    case 'medium':
    case 'high':
      return effort;
  }
}
