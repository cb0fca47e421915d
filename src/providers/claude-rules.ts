/**
 * Claude's rules per model generation, in one table (docs/contract.md#request-rules): which thinking shape
 * each model takes, whether thinking can be off (and whether leaving `thinking` out turns it off), whether its
 * thinking text must be asked for, which effort levels it has (and which it takes with thinking disabled),
 * which sampling parameters it takes, whether it takes a forced tool (while thinking, or at all) and whether
 * Bedrock takes structured outputs for it. Every surface maps its own reasoning setting through here — Chat
 * Completions' `reasoning_effort` with `claudeReasoning`, Messages' native `thinking` / `output_config` with
 * `adaptClaudeThinking`, Responses' `reasoning.effort` with `claudeReasoning` — so a new Claude generation is
 * one new row.
 *
 * The shapes (Anthropic's Messages body; on converse the same JSON rides in additionalModelRequestFields):
 * - budget: `thinking: {type: "enabled", budget_tokens}` (Claude 3.7 Sonnet, Claude 4, 4.1, 4.5);
 * - adaptive: `thinking: {type: "adaptive"}` + `output_config: {effort}` (Opus 4.6 and Sonnet 4.6, where
 *   the budget shape is deprecated but still accepted; adaptive-only from Opus 4.7 on and on every Claude 5,
 *   where the budget shape is a 400). Models from Opus 4.7 on hide their thinking text unless the request
 *   sets `thinking.display: "summarized"`, so the sidecar sets it (else `reasoning_content` stays empty).
 * A Claude id no row names is a model newer than this table: it takes the newest generation's rule. An id that
 * names no Claude model at all (a profile ARN with `provider: anthropic`) takes its shapes but no refusal.
 */
import { SidecarError } from '../errors.ts';
import { rejectParam } from './policy.ts';
import { assistantBlocks, type ChatMessage, type ChatParams, type ReasoningEffort } from './request.ts';
import type { BuildContext, CacheSupport } from './types.ts';

/** Anthropic's effort levels (`output_config.effort`). */
export type ClaudeEffort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

export interface ClaudeRule {
  /** A name for the generation, for messages and logs. */
  readonly generation: string;
  /**
   * `none`: no thinking at all; `budget`: only `{type: "enabled", budget_tokens}`; `adaptive`: adaptive
   * preferred, the budget shape deprecated but accepted; `adaptive-only`: the budget shape is a 400.
   */
  readonly thinking: 'none' | 'budget' | 'adaptive' | 'adaptive-only';
  /**
   * Whether the model runs without thinking when the request asks for none (by leaving `thinking` out, or with
   * `thinking: {type: "disabled"}` where it thinks by default). Fable, Mythos and Opus 5.5 always think:
   * "\"thinking.type.disabled\" is not supported for this model. Use \"thinking.type.adaptive\" and
   * \"output_config.effort\" to control thinking behavior." (hermes-agent #120069 on Opus 5.5, 2026-09-23; stdapi.ai
   * #284, probed through Bedrock 2026-09-22; PrimeIntellect prime-agent #2533).
   */
  readonly canTurnOff: boolean;
  /**
   * How a model that can turn thinking off (`canTurnOff`) is asked to: `omit`, by leaving `thinking` out (up to
   * Opus 4.8, which run without thinking then); `disabled`, by `thinking: {type: "disabled"}`, where the model
   * thinks adaptively when `thinking` is left out (Opus 5 and Sonnet 5: Anthropic's Opus 5 migration guide as
   * elgorro/aiquila #410 quotes it, 2026-07-31; promptfoo #10631 on Sonnet 5, 2026-09; Podden
   * openwebui_anthropic_api_manifold_pipe #45 and pi-claude-bridge #29, measured live; earendil-works/pi #7081 on
   * Bedrock, citing AWS's Opus 5 model card); `between_tools`, by `thinking: {type: "between_tools"}` (thinking
   * only between tool calls), Sonnet 5.5's least thinking, which refuses `disabled` (AWS's Bedrock client for Mac
   * 2.0.5, 2026-11-23: "Sonnet 5.5 uses Bedrock's between-tools mode"; Anthropic's models overview as a research
   * note quotes it). `omit` on the models that always think.
   */
  readonly thinkingOff: 'omit' | 'disabled' | 'between_tools';
  /**
   * The highest `output_config.effort` the model takes with thinking off (`thinkingOff`), where it refuses the
   * levels above:
   * "output_config.effort 'xhigh' is not supported when thinking is disabled on this model. Use effort 'high' or
   * below, or enable thinking." (anthropics/claude-code #81084 and #80995 on Opus 5, 2026-07; elgorro/aiquila #410;
   * Claude Haiku 5.5 in the AI SDK's @ai-sdk/amazon-bedrock 4.0.192 notes, 2026-10-07; Sonnet 5.5's between-tools
   * mode and Haiku 5.5 "both at High effort or lower", AWS's Bedrock client for Mac 2.0.5). Undefined: no limit.
   */
  readonly maxEffortWithoutThinking?: ClaudeEffort;
  /** Whether the model hides its thinking text unless `thinking.display: "summarized"` is sent. */
  readonly hidesThinking: boolean;
  /** The `output_config.effort` levels the model takes (none for the budget generations). */
  readonly efforts: readonly ClaudeEffort[];
  /**
   * The sampling parameters the model takes: `any`; `one`: `temperature` or `top_p`, not both; `none`: no
   * `temperature`, `top_p` or `top_k` at all (each a 400 on Bedrock).
   */
  readonly sampling: 'any' | 'one' | 'none';
  /**
   * Whether the model takes a tool choice that forces a tool (`any` / `tool`) while it thinks: Claude 3.7
   * through 4.7 refuse it ("Thinking may not be enabled when tool_choice forces tool use.": strands-agents
   * harness-sdk #1495 and sdk-typescript #798, oh-my-pi #341 on Sonnet 4.6, pydantic-ai #3092 on Sonnet 4.5,
   * 2025-10 to 2026-04); Opus 4.8, the Claude 5 models and Fable take it (langchain-aws #1141 and #1151,
   * 2026-07, from AWS's maintainer there).
   */
  readonly forcedToolWithThinking: boolean;
  /**
   * Whether the model takes a tool choice that forces a tool at all: Fable 5.1 and Mythos 5.1 take `auto` and
   * `none` only ("tool_choice: type \"tool\" and \"any\" are not supported for this model.": langchain-aws
   * #1273 on Bedrock, 2026-09-10; claude-cookbooks #854 and lobehub #19016, 2026-09, Anthropic's Fable 5.1
   * migration guide; Fable 5 takes them: celeste-python #393, claude-cookbooks #854).
   */
  readonly forcedTool: boolean;
  /**
   * Whether Bedrock takes Claude's structured outputs for the model (Converse `outputConfig.textFormat`,
   * `output_config.format` of its body). From Opus 4.7 on it refuses them ("output_config.format: Extra inputs
   * are not permitted": vercel/ai #14773 and models.dev #1765 on Opus 4.7, 2026-04/05, the latter from AWS's
   * maintainer citing AWS's Opus 4.7 model card; truefoundry/models #1314 on Opus 4.7 / 4.8, 2026-06;
   * anthropic-sdk-python #1759 on Opus 4.8 and Sonnet 5, 2026-07; vercel/ai #17919 on Opus 5, Fable 5 and
   * Sonnet 5, 2026-07; litellm #39070 and presenton #939 on Claude 5, 2026-09), though AWS's structured-output
   * page lists them. Mythos follows its generation (no report names it).
   */
  readonly structuredOutputs: boolean;
}

interface Row extends ClaudeRule {
  /** Matched against the model name: the id after `anthropic.` (geography prefix, ARN and version removed). */
  readonly match: RegExp;
}

const ADAPTIVE_EFFORTS: readonly ClaudeEffort[] = ['low', 'medium', 'high'];
const ALL_EFFORTS: readonly ClaudeEffort[] = ['low', 'medium', 'high', 'xhigh', 'max'];

/** The newest generation: what a Claude id this table does not know yet gets. */
const NEWEST: ClaudeRule = {
  generation: 'Claude 5',
  thinking: 'adaptive-only',
  canTurnOff: true,
  thinkingOff: 'disabled',
  maxEffortWithoutThinking: 'high',
  hidesThinking: true,
  efforts: ALL_EFFORTS,
  sampling: 'none',
  forcedToolWithThinking: true,
  forcedTool: true,
  structuredOutputs: false,
};

/**
 * A Claude the id does not name at all: an application inference profile, provisioned or imported model ARN
 * that the alias marks `provider: anthropic` (the SPEC's own `tuned-claude`). The shapes are the newest
 * generation's (what a new profile most likely wraps), but nothing the model might take is refused or
 * rewritten on a guess — sampling, structured outputs and forced tools go as asked, thinking off is `thinking`
 * left out — so Bedrock, which knows the model behind the ARN, answers for it.
 */
const UNPLACED: ClaudeRule = {
  ...NEWEST,
  generation: 'a Claude model the id does not name',
  thinkingOff: 'omit',
  maxEffortWithoutThinking: undefined,
  sampling: 'any',
  forcedToolWithThinking: true,
  forcedTool: true,
  structuredOutputs: true,
};

/**
 * First match wins. Sources: AWS "Adaptive thinking" and "Extended thinking" user-guide pages, Anthropic's model docs.
 * Sampling, as reported from Bedrock and Anthropic's API: Opus 4.1, Sonnet and Haiku 4.5, Opus and Sonnet 4.6
 * refuse `temperature` with `top_p` ("`temperature` and `top_p` cannot both be specified for this model. Please
 * use only one.": open-webui pipelines #546 2025-08, bedrock-access-gateway #191 2025-10, gemini-cli-pro #38
 * 2026-04 on Opus 4.6); from Opus 4.7 on each is refused ("`temperature` is deprecated for this model.": AWS's
 * Opus 4.7 model card as quoted by cube #10879, anything-llm #5822 on Opus 4.8, promptfoo #10307 on Opus 5).
 */
const ROWS: readonly Row[] = [
  {
    match: /^claude-(instant|v1|v2|3-haiku|3-sonnet|3-opus|3-5-)/,
    generation: 'Claude 3 / 3.5',
    thinking: 'none',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: [],
    sampling: 'any',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  {
    match: /^claude-3-7-sonnet/,
    generation: 'Claude 3.7',
    thinking: 'budget',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: [],
    sampling: 'any',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  // Claude 4, 4.1 and 4.5: dated ids (claude-sonnet-4-20250514, claude-opus-4-1-…, claude-haiku-4-5-…).
  {
    match: /^claude-(sonnet|opus|haiku)-4(-\d{8}|$)/,
    generation: 'Claude 4',
    thinking: 'budget',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: [],
    sampling: 'any',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  {
    match: /^claude-(sonnet|opus|haiku)-4-[15](-\d{8}|$)/,
    generation: 'Claude 4.1 / 4.5',
    thinking: 'budget',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: [],
    sampling: 'one',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  {
    match: /^claude-opus-4-6/,
    generation: 'Claude Opus 4.6',
    thinking: 'adaptive',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: [...ADAPTIVE_EFFORTS, 'max'],
    sampling: 'one',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  {
    match: /^claude-sonnet-4-6/,
    generation: 'Claude Sonnet 4.6',
    thinking: 'adaptive',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: false,
    efforts: ADAPTIVE_EFFORTS,
    sampling: 'one',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: true,
  },
  {
    match: /^claude-opus-4-7/,
    generation: 'Claude Opus 4.7',
    thinking: 'adaptive-only',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: false,
    forcedTool: true,
    structuredOutputs: false,
  },
  {
    match: /^claude-opus-4-8/,
    generation: 'Claude Opus 4.8',
    thinking: 'adaptive-only',
    canTurnOff: true,
    thinkingOff: 'omit',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: true,
    forcedTool: true,
    structuredOutputs: false,
  },
  // Mythos and Fable: adaptive thinking is always on (`thinking: {type: "disabled"}` is a 400); from 5.1 on
  // no forced tool at all.
  {
    match: /^claude-(mythos|fable)-5-[1-9]/,
    generation: 'Claude Mythos / Fable 5.1',
    thinking: 'adaptive-only',
    canTurnOff: false,
    thinkingOff: 'omit',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: false,
    forcedTool: false,
    structuredOutputs: false,
  },
  {
    match: /^claude-(mythos|fable)-/,
    generation: 'Claude Mythos / Fable',
    thinking: 'adaptive-only',
    canTurnOff: false,
    thinkingOff: 'omit',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: true,
    forcedTool: true,
    structuredOutputs: false,
  },
  // Opus 5.5 always thinks and takes no forced tool (stdapi.ai #284, probed on Converse 2026-09-22; hermes-agent
  // #120069; prime-agent #2533 and #2534); taken to hold for the Opus 5.x after it.
  {
    match: /^claude-opus-5-[5-9](?!\d)/,
    generation: 'Claude Opus 5.5',
    thinking: 'adaptive-only',
    canTurnOff: false,
    thinkingOff: 'omit',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: false,
    forcedTool: false,
    structuredOutputs: false,
  },
  // Sonnet 5.5 turns thinking down to between tools, not off, and takes no forced tool (the sources of
  // `thinkingOff` and `forcedTool`).
  {
    match: /^claude-sonnet-5-[5-9](?!\d)/,
    generation: 'Claude Sonnet 5.5',
    thinking: 'adaptive-only',
    canTurnOff: true,
    thinkingOff: 'between_tools',
    maxEffortWithoutThinking: 'high',
    hidesThinking: true,
    efforts: ALL_EFFORTS,
    sampling: 'none',
    forcedToolWithThinking: false,
    forcedTool: false,
    structuredOutputs: false,
  },
  { match: /^claude-(opus|sonnet|haiku)-5/, ...NEWEST },
];

/** The model name the table matches: `us.anthropic.claude-opus-4-7` → `claude-opus-4-7`. */
export function claudeModelName(modelId: string): string {
  const last = modelId.toLowerCase().split('/').pop() ?? '';
  const at = last.indexOf('anthropic.');
  return at >= 0 ? last.slice(at + 'anthropic.'.length) : last;
}

/** The reasoning rule of a Claude model id (base id, profile id, ARN, with or without `-v1:0`). */
export function claudeRule(modelId: string): ClaudeRule {
  const name = claudeModelName(modelId);
  const row = ROWS.find((r) => r.match.test(name));
  if (!row) return name.startsWith('claude-') ? NEWEST : UNPLACED;
  const { match: _match, ...rule } = row;
  return rule;
}

/** How a Claude model caches prompts: 3.5 Haiku, 3.7 and later; a 1h TTL from Claude 4.5 on (docs/contract.md#request-rules). */
export function claudeCaching(modelId: string): CacheSupport | undefined {
  const name = claudeModelName(modelId);
  if (/^claude-(instant|v1|v2|3-haiku|3-sonnet|3-opus|3-5-sonnet)/.test(name)) return undefined;
  const rule = claudeRule(modelId);
  const hourTtl = rule.thinking === 'adaptive' || rule.thinking === 'adaptive-only' || /^claude-(opus|sonnet|haiku)-4-5/.test(name);
  return { hourTtl, toolPoints: true };
}

/** Thinking budgets for the budget generations (Anthropic's minimum budget is 1024). */
export const THINKING_BUDGET: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
  xhigh: 32768,
  // The budget generations' output limits (32K on Claude 4) leave no room above xhigh's budget.
  max: 32768,
};

/** What a reasoning setting becomes for one Claude model. */
export type ClaudeReasoning =
  | {
      ok: true;
      /** Native fields for the body (invoke) or additionalModelRequestFields (converse); empty: thinking off. */
      fields: { thinking?: Record<string, unknown>; output_config?: { effort: ClaudeEffort } };
      /** The budget of the budget shape: max_tokens must be larger. */
      budgetTokens?: number;
      /** Whether the model will think (sampling restrictions apply). */
      thinking: boolean;
    }
  | { ok: false; why: string };

function adaptiveFields(rule: ClaudeRule, effort: ClaudeEffort): ClaudeReasoning {
  const thinking: Record<string, unknown> = { type: 'adaptive' };
  if (rule.hidesThinking) thinking.display = 'summarized';
  return { ok: true, fields: { thinking, output_config: { effort } }, thinking: true };
}

/** The fields that run a model that can turn thinking off without it (or with the least it takes): `thinkingOff`. */
function thinkingOff(rule: ClaudeRule): { thinking?: Record<string, unknown> } {
  return rule.thinkingOff === 'omit' ? {} : { thinking: { type: rule.thinkingOff } };
}

const EFFORT_ORDER: readonly ClaudeEffort[] = ['low', 'medium', 'high', 'xhigh', 'max'];

/** The effort level an OpenAI effort becomes on an adaptive model, or undefined when it has none. */
function effortFor(rule: ClaudeRule, effort: Exclude<ReasoningEffort, 'none'>): ClaudeEffort | undefined {
  if (effort === 'minimal') return 'low'; // Claude's lowest effort; it may then skip thinking on easy turns
  if (effort === 'xhigh') return rule.efforts.includes('xhigh') ? 'xhigh' : rule.efforts.includes('max') ? 'max' : undefined;
  if (effort === 'max') return rule.efforts.includes('max') ? 'max' : undefined;
  return effort;
}

/**
 * OpenAI's `reasoning_effort` (and Responses' `reasoning.effort`) for a Claude model: the native fields,
 * or why the model cannot take it (the caller answers 400 `unsupported_parameter`, or drops it with
 * drop_params).
 */
export function claudeReasoning(modelId: string, effort: ReasoningEffort): ClaudeReasoning {
  const rule = claudeRule(modelId);
  if (rule.thinking === 'none') return { ok: false, why: `is not supported by ${modelId} (${rule.generation} has no extended thinking)` };
  if (effort === 'none') {
    if (!rule.canTurnOff)
      return { ok: false, why: `"none" is not supported by ${modelId}: ${rule.generation} always thinks (use "minimal" or "low")` };
    return { ok: true, fields: thinkingOff(rule), thinking: false };
  }
  if (rule.thinking === 'budget') {
    const budget = THINKING_BUDGET[effort];
    return { ok: true, fields: { thinking: { type: 'enabled', budget_tokens: budget } }, budgetTokens: budget, thinking: true };
  }
  const level = effortFor(rule, effort);
  if (level === undefined) return { ok: false, why: `"${effort}" is not supported by ${modelId} (efforts: ${rule.efforts.join(', ')})` };
  return adaptiveFields(rule, level);
}

/** The effort a budget of thinking tokens corresponds to (for a budget request sent to an adaptive-only model). */
export function effortForBudget(budgetTokens: number): ClaudeEffort {
  if (budgetTokens <= THINKING_BUDGET.low) return 'low';
  if (budgetTokens <= THINKING_BUDGET.medium) return 'medium';
  return 'high';
}

/**
 * Messages' native `thinking` / `output_config` for a Claude model: kept when the model takes them,
 * rewritten to the shape it takes when it does not (a budget request to an adaptive-only model becomes
 * adaptive with the effort the budget corresponds to; an adaptive request to a budget model gets the budget
 * of its effort; `disabled` on an always-thinking model is left out). Returns the fields to send (a key
 * absent = leave it out of the body) and one note per change, for the debug log.
 */
export function adaptClaudeThinking(
  modelId: string,
  thinking: Record<string, unknown> | undefined,
  outputConfig: Record<string, unknown> | undefined,
): { thinking?: Record<string, unknown>; output_config?: Record<string, unknown>; notes: string[] } {
  const rule = claudeRule(modelId);
  const notes: string[] = [];
  const out: { thinking?: Record<string, unknown>; output_config?: Record<string, unknown>; notes: string[] } = { notes };
  const type = thinking?.type;
  const effort = typeof outputConfig?.effort === 'string' ? outputConfig.effort : undefined;
  const keepOutput = (): void => {
    if (outputConfig !== undefined) out.output_config = outputConfig;
  };
  if (thinking === undefined) {
    if (rule.thinking !== 'budget' && rule.thinking !== 'none') keepOutput();
    else if (outputConfig !== undefined) {
      const { effort: _e, ...rest } = outputConfig;
      if (Object.keys(rest).length > 0) out.output_config = rest;
      if (effort !== undefined) notes.push(`output_config.effort dropped: ${rule.generation} has no effort setting`);
    }
    return out;
  }
  if (rule.thinking === 'none') {
    notes.push(`thinking dropped: ${rule.generation} has no extended thinking`);
    return out;
  }
  if (type === 'disabled' || type === 'between_tools') {
    if (!rule.canTurnOff) {
      notes.push(`thinking {type: "${type}"} left out: ${rule.generation} always thinks and does not take it`);
    } else if (rule.thinkingOff === 'omit' && (type === 'between_tools' || rule.thinking === 'adaptive-only')) {
      notes.push(`thinking {type: "${type}"} left out: ${rule.generation} runs without thinking when it is left out`);
    } else if (rule.thinkingOff === 'omit' || rule.thinkingOff === type) {
      out.thinking = thinking;
    } else {
      out.thinking = { type: rule.thinkingOff };
      notes.push(`thinking {type: "${type}"} sent as {type: "${rule.thinkingOff}"}: ${rule.generation}'s least thinking`);
    }
    if (rule.thinking !== 'budget') keepOutput();
    const cap = out.thinking ? rule.maxEffortWithoutThinking : undefined;
    if (cap !== undefined && effort !== undefined && EFFORT_ORDER.indexOf(effort as ClaudeEffort) > EFFORT_ORDER.indexOf(cap)) {
      out.output_config = { ...outputConfig, effort: cap };
      notes.push(`output_config.effort "${effort}" sent as "${cap}": ${rule.generation} takes at most "${cap}" with thinking off`);
    }
    return out;
  }
  if (type === 'enabled' && rule.thinking === 'adaptive-only') {
    const budget = typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : THINKING_BUDGET.high;
    const level = (effort as ClaudeEffort | undefined) ?? effortForBudget(budget);
    out.thinking = { type: 'adaptive', ...(rule.hidesThinking ? { display: 'summarized' } : {}) };
    out.output_config = { ...(outputConfig ?? {}), effort: level };
    notes.push(
      `thinking {type: "enabled", budget_tokens: ${budget}} sent as adaptive with effort "${level}": ${rule.generation} takes only adaptive thinking`,
    );
    return out;
  }
  if (type === 'adaptive' && rule.thinking === 'budget') {
    const level = effort === 'low' || effort === 'medium' ? effort : 'high';
    out.thinking = { type: 'enabled', budget_tokens: THINKING_BUDGET[level] };
    notes.push(
      `thinking {type: "adaptive"} sent as a budget of ${THINKING_BUDGET[level]} tokens: ${rule.generation} has no adaptive thinking`,
    );
    if (outputConfig !== undefined) {
      const { effort: _e, ...rest } = outputConfig;
      if (Object.keys(rest).length > 0) out.output_config = rest;
    }
    return out;
  }
  if (type === 'adaptive' && rule.hidesThinking && thinking.display === undefined) {
    out.thinking = { ...thinking, display: 'summarized' };
    notes.push(`thinking.display "summarized" added: ${rule.generation} hides its thinking otherwise`);
  } else {
    out.thinking = thinking;
  }
  if (rule.thinking !== 'budget') keepOutput();
  return out;
}

/**
 * A client's `output_config.effort` (a Messages body, or Claude's body on native InvokeModel): one of Claude's
 * levels, undefined when absent, else a 400 naming it — read once here for every surface that carries it.
 */
export function claudeOutputEffort(outputConfig: unknown): ClaudeEffort | undefined {
  const effort = typeof outputConfig === 'object' && outputConfig !== null ? (outputConfig as Record<string, unknown>).effort : undefined;
  if (effort === undefined || effort === null) return undefined;
  if (typeof effort !== 'string' || !(ALL_EFFORTS as readonly string[]).includes(effort)) {
    throw new SidecarError('invalid_request_error', `output_config.effort: must be ${ALL_EFFORTS.join(', ')}`, {
      param: 'output_config.effort',
    });
  }
  return effort as ClaudeEffort;
}

/**
 * Claude's `output_config.effort` asked without thinking, as either route sends it (Claude's body, or
 * converse's additionalModelRequestFields): kept where the model has an effort setting, dropped and logged
 * where it has none — the rule of Claude's own body (`adaptClaudeThinking`), so both routes agree.
 */
export function claudeEffortField(
  modelId: string,
  effort: string,
  ctx: BuildContext,
  thinking?: unknown,
): { output_config?: Record<string, unknown> } {
  // Beside thinking turned off (the fields already sent) the effort is held to what the model takes then.
  const type = typeof thinking === 'object' && thinking !== null ? (thinking as Record<string, unknown>).type : undefined;
  const off = type === 'disabled' || type === 'between_tools';
  const adapted = adaptClaudeThinking(modelId, off ? { type } : undefined, { effort });
  for (const note of adapted.notes) ctx.note(note);
  return adapted.output_config ? { output_config: adapted.output_config } : {};
}

/** What Claude gets when the request sets no max_tokens and it does not think adaptively, on both routes. */
export const CLAUDE_MAX_TOKENS = 4096;

/**
 * What Claude gets when the request sets no max_tokens and the turn thinks adaptively: Claude 5, which thinks
 * unless told not to, and an effort on the adaptive generations. Its thinking spends from max_tokens, and at
 * 4096 it can spend all of it and answer nothing (`stop_reason: "max_tokens"`, one text-less thinking block:
 * WordPress/openstation #517 and gunkl/ClimateAdvisor #565 on Sonnet 5, octopusreview/octopus #689 on Opus 5 at
 * 8192, lidge-jun/opencodex #256 on Fable 5; 2026-07/08). Bedrock's own default is 4096 on Converse too
 * (BerriAI/litellm #41529, boto3 on Sonnet 5, 2026-09-17), so the sidecar sends this on both routes. Claude Code
 * asks for 32000 itself; every adaptive Claude takes at least 64000.
 */
export const CLAUDE_THINKING_MAX_TOKENS = 32000;

/**
 * Applies `reasoning_effort` to a Claude body on either route: the native thinking fields, max_tokens
 * raised above a thinking budget (or, unset, the room of `CLAUDE_THINKING_MAX_TOKENS` for adaptive thinking), and
 * Anthropic's rules for a thinking turn (no temperature / top_k, top_p from 0.95, no forced tool) enforced with the
 * parameter policy (400, or dropped with drop_params). Returns the parameters left after those refusals, the
 * native fields and the max_tokens to send.
 */
export function applyClaudeReasoning(
  params: ChatParams,
  ctx: BuildContext,
  messages: readonly ChatMessage[],
): { params: ChatParams; fields: Record<string, unknown>; maxTokens: number } {
  const applied = reasoningOf(params, ctx, params.max_tokens ?? CLAUDE_MAX_TOKENS, messages);
  const room = params.max_tokens === undefined ? claudeThinkingRoom(ctx, applied.fields) : undefined;
  return room === undefined ? applied : { ...applied, maxTokens: Math.max(applied.maxTokens, room) };
}

/**
 * The max_tokens a Claude turn with these native thinking fields gets when the client set none:
 * `CLAUDE_THINKING_MAX_TOKENS` (told to `ctx.note`) where it thinks adaptively — adaptive thinking asked for (or
 * thinking only between tools), or nothing said to a model that thinks unless told not to — else undefined (the
 * route's default). Budget thinking has its room added by `applyClaudeReasoning`.
 */
export function claudeThinkingRoom(ctx: BuildContext, fields: Record<string, unknown>): number | undefined {
  const rule = claudeRule(ctx.target.modelId);
  const thinking = fields.thinking as { type?: unknown } | undefined;
  const thinks =
    thinking !== undefined
      ? thinking.type === 'adaptive' || thinking.type === 'between_tools'
      : rule.thinking.startsWith('adaptive') && (!rule.canTurnOff || rule.thinkingOff !== 'omit');
  if (!thinks) return undefined;
  ctx.note(
    `max_tokens ${CLAUDE_THINKING_MAX_TOKENS} (none was sent): ${ctx.target.modelId} thinks on this turn, and its thinking spends from max_tokens`,
  );
  return CLAUDE_THINKING_MAX_TOKENS;
}

function reasoningOf(
  params: ChatParams,
  ctx: BuildContext,
  maxTokens: number,
  messages: readonly ChatMessage[],
): { params: ChatParams; fields: Record<string, unknown>; maxTokens: number } {
  const p: ChatParams = { ...params };
  if (p.reasoning_effort === undefined) return { params: p, fields: {}, maxTokens };
  const modelId = ctx.target.modelId;
  const result = claudeReasoning(modelId, p.reasoning_effort);
  if (!result.ok) {
    rejectParam(ctx, 'reasoning_effort', result.why);
    delete p.reasoning_effort;
    return { params: p, fields: {}, maxTokens };
  }
  const rule = claudeRule(modelId);
  if (result.thinking && rule.canTurnOff && continuesUnsignedToolTurn(messages)) {
    ctx.note(
      `reasoning_effort "${p.reasoning_effort}": thinking left off for this turn — it answers tool results of a turn whose signed thinking was not handed back, which ${modelId} requires when thinking is on`,
    );
    delete p.reasoning_effort;
    return { params: p, fields: thinkingOff(rule), maxTokens };
  }
  let max = maxTokens;
  if (result.budgetTokens !== undefined && max <= result.budgetTokens) {
    ctx.note(`max_tokens ${max} raised to ${max + result.budgetTokens} to leave room for a thinking budget of ${result.budgetTokens}`);
    max += result.budgetTokens;
  }
  if (result.thinking) {
    // A thinking turn takes no sampling changes, and before Opus 4.8 no forced tool use (Anthropic's rules, enforced by Bedrock).
    for (const key of ['temperature', 'top_k'] as const) {
      if (p[key] !== undefined) {
        rejectParam(ctx, key, `cannot be combined with reasoning_effort (thinking) on ${modelId}`);
        delete p[key];
      }
    }
    if (p.top_p !== undefined && p.top_p < 0.95) {
      rejectParam(ctx, 'top_p', `must be from 0.95 to 1 with reasoning_effort (thinking) on ${modelId}`);
      delete p.top_p;
    }
    const choice = p.tool_choice?.type;
    // A model that takes no forced tool at all refuses it whether it thinks or not (applyClaudeToolChoice).
    if ((choice === 'required' || choice === 'function') && rule.forcedTool && !rule.forcedToolWithThinking) {
      rejectParam(
        ctx,
        'tool_choice',
        `"${choice}" cannot be combined with reasoning_effort (thinking) on ${modelId} (${rule.generation} forces a tool only without thinking)`,
      );
      delete p.tool_choice;
    }
  }
  return { params: p, fields: result.fields, maxTokens: max };
}

/**
 * A forced tool choice (`required`, a named function) on a Claude model that takes none (the table's
 * `forcedTool`: Fable 5.1, Mythos 5.1): the parameter policy's (400 naming tool_choice, or dropped with
 * drop_params, the model then choosing for itself).
 */
export function applyClaudeToolChoice(params: ChatParams, ctx: BuildContext): ChatParams {
  const choice = params.tool_choice?.type;
  if (choice !== 'required' && choice !== 'function') return params;
  const modelId = ctx.target.modelId;
  const rule = claudeRule(modelId);
  if (rule.forcedTool) return params;
  rejectParam(ctx, 'tool_choice', `"${choice}" is not supported by ${modelId} (${rule.generation} takes tool_choice auto or none only)`);
  const { tool_choice: _choice, ...rest } = params;
  return rest;
}

/**
 * Why Bedrock takes no structured outputs (`response_format` json_schema) for a Claude model, or undefined
 * when it takes them (the table's `structuredOutputs`).
 */
export function claudeRefusesStructured(modelId: string): string | undefined {
  const rule = claudeRule(modelId);
  return rule.structuredOutputs
    ? undefined
    : `Bedrock takes no structured outputs for ${rule.generation} ("output_config.format: Extra inputs are not permitted"); json_object, which asks in the prompt, still works`;
}

type SamplingKey = 'temperature' | 'top_p' | 'top_k';

/**
 * The sampling parameters a Claude model takes of those a request sets (the table's `sampling`): what is
 * refused (each with why), and notes for what is left out without changing the answer — a `temperature` or
 * `top_p` of 1 is Claude's default, so sending nothing means the same.
 */
export function claudeSampling(
  modelId: string,
  values: Readonly<Partial<Record<SamplingKey, unknown>>>,
): { refused: Array<{ key: SamplingKey; why: string }>; omitted: Array<{ key: SamplingKey; note: string }> } {
  const rule = claudeRule(modelId);
  const refused: Array<{ key: SamplingKey; why: string }> = [];
  const omitted: Array<{ key: SamplingKey; note: string }> = [];
  if (rule.sampling === 'none') {
    for (const key of ['temperature', 'top_p', 'top_k'] as const) {
      if (values[key] === undefined) continue;
      if (values[key] === 1 && key !== 'top_k') omitted.push({ key, note: `${key} 1 (the default) left out: ${modelId} takes no ${key}` });
      else refused.push({ key, why: `is not supported by ${modelId} (${rule.generation} takes no temperature, top_p or top_k)` });
    }
  } else if (rule.sampling === 'one' && values.temperature !== undefined && values.top_p !== undefined) {
    if (values.top_p === 1)
      omitted.push({ key: 'top_p', note: `top_p 1 (the default) left out: ${modelId} takes temperature or top_p, not both` });
    else if (values.temperature === 1)
      omitted.push({ key: 'temperature', note: `temperature 1 (the default) left out: ${modelId} takes temperature or top_p, not both` });
    else refused.push({ key: 'top_p', why: `cannot be combined with temperature on ${modelId} (it takes one of them)` });
  }
  return { refused, omitted };
}

/** `claudeSampling` on a request's parameters: a refused one is the parameter policy's (400, or dropped with drop_params). */
export function applyClaudeSampling(params: ChatParams, ctx: BuildContext): ChatParams {
  const { refused, omitted } = claudeSampling(ctx.target.modelId, params);
  if (refused.length === 0 && omitted.length === 0) return params;
  const p: ChatParams = { ...params };
  for (const { key, note } of omitted) {
    ctx.note(note);
    delete p[key];
  }
  for (const { key, why } of refused) {
    rejectParam(ctx, key, why);
    delete p[key];
  }
  return p;
}

/**
 * Whether a request answers tool results of an assistant turn that does not start with signed thinking: the
 * conversation ends with tool results (and perhaps user text), and the turn that called the tools has no
 * signed or redacted reasoning block first. With thinking on, Claude refuses it on either route ("When
 * `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost
 * set of `tool_use` and `tool_result` blocks) … To avoid this requirement, disable `thinking`.": litellm users
 * through opencode #3077, bedrock-access-gateway #221, langchain-aws #844, openai-agents-python #1704,
 * 2025–2026). An OpenAI Chat client keeps no signature, so every tool continuation of its would be refused.
 */
export function continuesUnsignedToolTurn(messages: readonly ChatMessage[]): boolean {
  let i = messages.length - 1;
  let results = false;
  while (i >= 0 && (messages[i]!.role === 'tool' || messages[i]!.role === 'user' || messages[i]!.role === 'system')) {
    if (messages[i]!.role === 'tool') results = true;
    i--;
  }
  const turn = messages[i];
  if (!results || turn?.role !== 'assistant' || turn.toolCalls.length === 0) return false;
  const first = assistantBlocks(turn).find((b) => b.kind !== 'text' || b.part.text.trim() !== '');
  return !(first?.kind === 'reasoning' && ('redacted' in first.block || first.block.signature !== undefined));
}
