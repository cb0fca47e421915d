// Anthropic Claude Messages API on the invoke route.
// Source: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages-request-response.html
//         https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html
//         https://docs.anthropic.com/en/docs/build-with-claude/streaming (event shapes)
//         docs/bedrock-wire.md#anthropic-claude
// Validation speaks Anthropic's (pydantic) dialect: `<dotted.path>: Extra inputs are not permitted`, first
// problem only. `model` and `stream` are not accepted (observed on Bedrock).
import { estimateTokens, type LazyText, type OutputPlan, type PlannedToolCall } from '../output.ts';
import { any, arr, bool, check, int, num, obj, oneOf, opt, pydanticMessage, req, str, tagged, type Schema } from '../schema.ts';
import { isJson, type InvokeFamily, type Json, type RenderContext } from './types.ts';
import { imageLabelProblem, imageSizeOf } from '../image-bytes.ts';
import { claudeToolIdProblem } from '../tool-use-ids.ts';
import { claudeConstraintProblem } from '../structured-output.ts';

export const ANTHROPIC_VERSION = 'bedrock-2023-05-31';

const cacheControl = opt(obj({ type: req(str(['ephemeral'])), ttl: opt(str(['5m', '1h'])) }));

const textBlock = obj({ type: req(str()), text: req(str()), cache_control: cacheControl, citations: opt(any) });
const imageBlock = obj({ type: req(str()), source: req(obj({}, true)), cache_control: cacheControl });
const documentBlock = obj({
  type: req(str()),
  source: req(obj({}, true)),
  title: opt(str()),
  context: opt(str()),
  citations: opt(any),
  cache_control: cacheControl,
});
const toolUseBlock = obj({ type: req(str()), id: req(str()), name: req(str()), input: req(any), cache_control: cacheControl });
const toolResultContent = tagged('type', { text: textBlock, image: imageBlock, document: documentBlock, search_result: obj({}, true) });
const toolResultBlock = obj({
  type: req(str()),
  tool_use_id: req(str()),
  content: opt(oneOf(str(), arr(toolResultContent))),
  is_error: opt(bool),
  cache_control: cacheControl,
});
const thinkingBlock = obj({ type: req(str()), thinking: req(str()), signature: req(str()) });
const redactedThinkingBlock = obj({ type: req(str()), data: req(str()) });
// A compaction block handed back (Anthropic's BetaCompactionBlockParam): `content` null is a failed compaction.
const compactionBlock = obj({ type: req(str()), content: req(any), encrypted_content: opt(any), cache_control: cacheControl });

const contentBlock = tagged('type', {
  text: textBlock,
  image: imageBlock,
  document: documentBlock,
  tool_use: toolUseBlock,
  tool_result: toolResultBlock,
  thinking: thinkingBlock,
  redacted_thinking: redactedThinkingBlock,
  compaction: compactionBlock,
  search_result: obj({}, true),
});

const message = obj({ role: req(str(['user', 'assistant'])), content: req(oneOf(str(), arr(contentBlock))) });

const customTool = obj({
  type: opt(str(['custom'])),
  name: req(str()),
  description: opt(str()),
  input_schema: req(obj({}, true)),
  cache_control: cacheControl,
});
// Anthropic-defined tools (computer_…, bash_…, text_editor_…) carry their own members.
const definedTool = obj({ type: req(str()), name: req(str()) }, true);
const tool = tagged('type', { custom: customTool }, { missing: customTool, other: definedTool });

const parallel = { disable_parallel_tool_use: opt(bool) };
const toolChoice = tagged('type', {
  auto: obj({ type: req(str()), ...parallel }),
  any: obj({ type: req(str()), ...parallel }),
  tool: obj({ type: req(str()), name: req(str()), ...parallel }),
  none: obj({ type: req(str()) }),
});

const display = opt(str(['summarized', 'omitted']));
const thinking = tagged('type', {
  enabled: obj({ type: req(str()), budget_tokens: req(int(1024)), display }),
  disabled: obj({ type: req(str()) }),
  adaptive: obj({ type: req(str()), display }),
  between_tools: obj({ type: req(str()), display }),
});
const outputConfig = obj({ effort: opt(str(['low', 'medium', 'high', 'xhigh', 'max'])), format: opt(obj({}, true)) });

const anthropicProps = {
  anthropic_version: req(str([ANTHROPIC_VERSION])),
  max_tokens: req(int(1)),
  messages: req(arr(message, 1)),
  system: opt(oneOf(str(), arr(textBlock))),
  anthropic_beta: opt(arr(str())),
  temperature: opt(num(0, 1)),
  top_p: opt(num(0, 1)),
  top_k: opt(int(0)),
  stop_sequences: opt(arr(str())),
  tools: opt(arr(tool)),
  tool_choice: opt(toolChoice),
  thinking: opt(thinking),
  output_config: opt(outputConfig),
};

/**
 * `context_management` (Claude's context editing and compaction), on InvokeModel only (AWS's claude-messages-compaction
 * page: "Neither mechanism is supported by the Converse API"), so not among the keys Converse's
 * additionalModelRequestFields take (`topLevelKeys`). Edits: tool-use clearing (aws-samples/anthropic-on-aws
 * automatic_tool_clearing_bedrock.ipynb, probed 2025-10-09), thinking clearing (litellm #25835: Bedrock parses it),
 * compaction (AWS's page; litellm #27532, 2026-05-09); the compaction trigger is at least 50000 input tokens
 * (Anthropic's compaction page).
 */
const contextManagement = obj({
  edits: req(
    arr(
      tagged('type', {
        clear_tool_uses_20250919: obj({}, true),
        clear_thinking_20251015: obj({}, true),
        compact_20260112: obj({
          type: req(str()),
          trigger: opt(obj({ type: req(str(['input_tokens'])), value: req(int(50000)) })),
          pause_after_compaction: opt(bool),
          instructions: opt(str()),
        }),
      }),
    ),
  ),
});
export const anthropicSchema: Schema = obj({ ...anthropicProps, context_management: opt(contextManagement) });

/**
 * Which thinking types a Claude model takes (AWS "Adaptive thinking" page): adaptive from Opus 4.6 and
 * Sonnet 4.6 on; only adaptive on Opus 4.7 / 4.8, Mythos, Fable and the Claude 5 models (the budget shape
 * and, on Opus 4.7, Mythos and Fable, `disabled` are 400s); no adaptive before 4.6. The model name is read
 * from the id here, independently of the sidecar's own table.
 */
function thinkingTypes(modelId: string): { enabled: boolean; adaptive: boolean; disabled: boolean; between_tools: boolean } {
  const name = (modelId.split('/').pop() ?? modelId).replace(/^.*anthropic\./, '');
  const version = /^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(name);
  const none = { between_tools: false };
  if (name.startsWith('claude-mythos') || name.startsWith('claude-fable'))
    return { enabled: false, adaptive: true, disabled: false, ...none };
  if (!version) return { enabled: true, adaptive: false, disabled: true, ...none }; // Claude 3.x and older
  const major = Number(version[1]);
  const minor = Number(version[2] ?? 0);
  // Opus 5.5 always thinks: "\"thinking.type.disabled\" is not supported for this model. …" (hermes-agent #120069,
  // 2026-09-23; stdapi.ai #284, probed through Bedrock 2026-09-22). Sonnet 5.5 thinks at least between tools: it
  // takes `between_tools` where the others take `disabled` (AWS's Bedrock client for Mac 2.0.5, 2026-11-23;
  // Anthropic's models overview), and no other model takes it.
  if (major === 5 && minor >= 5 && name.startsWith('claude-opus')) return { enabled: false, adaptive: true, disabled: false, ...none };
  if (major === 5 && minor >= 5 && name.startsWith('claude-sonnet'))
    return { enabled: false, adaptive: true, disabled: false, between_tools: true };
  if (major >= 5) return { enabled: false, adaptive: true, disabled: true, ...none };
  if (major === 4 && minor >= 7) return { enabled: false, adaptive: true, disabled: minor > 7, ...none };
  if (major === 4 && minor === 6) return { enabled: true, adaptive: true, disabled: true, ...none };
  return { enabled: true, adaptive: false, disabled: true, ...none };
}

/**
 * Claude 5 (Sonnet 5, Fable 5.1) refuses an assistant turn of reasoning alone anywhere in a Converse
 * conversation, as if it were a prefill, where Sonnet 4.6 takes it (hermes-agent #105780, measured on Bedrock
 * 2026-09): "This model does not support assistant message prefill. The conversation must end with a user
 * message."
 */
export function refusesReasoningOnlyTurn(modelId: string): boolean {
  const name = (modelId.split('/').pop() ?? modelId).replace(/^.*anthropic\./, '');
  const version = /^claude-(?:opus|sonnet|haiku)-(\d+)/.exec(name);
  return name.startsWith('claude-fable') || (version !== null && Number(version[1]) >= 5);
}

/**
 * Sampling parameters by Claude model, as users report Bedrock's answers: Opus 4.1, Sonnet and Haiku 4.5, Opus
 * and Sonnet 4.6 refuse `temperature` together with `top_p` (bedrock-access-gateway #191, 2025-10, Haiku 4.5;
 * gemini-cli-pro #38, 2026-04, Opus 4.6); Opus 4.7 and later refuse each of `temperature`, `top_p` and
 * `top_k`, whatever its value (obsidian-copilot #2600 and anything-llm #5822 on Opus 4.7 / 4.8, 2026-06;
 * promptfoo #10307 on Opus 5, 2026-08; AWS's Opus 4.7 model card, as cube #10879 quotes it). The model name is
 * read from the id here, independently of the sidecar's own table.
 */
export function samplingProblem(modelId: string, values: { temperature?: unknown; top_p?: unknown; top_k?: unknown }): string | undefined {
  const name = (modelId.split('/').pop() ?? modelId).replace(/^.*anthropic\./, '');
  const version = /^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(name);
  const major = version ? Number(version[2]) : 0;
  const minor = version ? Number(version[3] ?? 0) : 0;
  const takesNone =
    name.startsWith('claude-mythos') ||
    name.startsWith('claude-fable') ||
    major >= 5 ||
    (major === 4 && minor >= 7 && version?.[1] === 'opus');
  if (takesNone) {
    const key = (['temperature', 'top_p', 'top_k'] as const).find((k) => values[k] !== undefined);
    return key === undefined ? undefined : `\`${key}\` is deprecated for this model.`;
  }
  const oneOfTwo = major === 4 && (minor === 5 || minor === 6 || (minor === 1 && version?.[1] === 'opus'));
  if (oneOfTwo && values.temperature !== undefined && values.top_p !== undefined)
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
  return undefined;
}

/**
 * The most output tokens a Claude model gives (Anthropic's model overview, AWS's model cards): a request for
 * more is Bedrock's 400 on either route, in the words users report (litellm #5656 on InvokeModel, dify #10390
 * and bedrock-access-gateway #41 on Converse): "The maximum tokens you requested exceeds the model limit of
 * 4096. Try again with a maximum tokens value that is lower than 4096." Models not listed are not checked.
 */
const OUTPUT_LIMITS: ReadonlyArray<[RegExp, number]> = [
  [/^claude-3-haiku/, 4096],
  [/^claude-3-5-(haiku|sonnet)/, 8192],
  [/^claude-3-7-sonnet/, 64000],
  [/^claude-opus-4(-1)?(-\d{8}|$)/, 32000],
  [/^claude-(sonnet|haiku|opus)-4(-5)?(-\d{8}|$)/, 64000],
  [/^claude-sonnet-4-6/, 64000],
  [/^claude-opus-4-6/, 128000],
];

export function maxTokensProblem(modelId: string, maxTokens: unknown): string | undefined {
  const name = (modelId.split('/').pop() ?? modelId).replace(/^.*anthropic\./, '').replace(/-v\d+:\d+$/, '');
  const limit = OUTPUT_LIMITS.find(([match]) => match.test(name))?.[1];
  if (limit === undefined || typeof maxTokens !== 'number' || maxTokens <= limit) return undefined;
  return `The maximum tokens you requested exceeds the model limit of ${limit}. Try again with a maximum tokens value that is lower than ${limit}.`;
}

/**
 * With thinking on, the assistant turn whose tool calls the last user turn answers must start with a thinking
 * (or redacted_thinking) block, as Claude answered it; on either route (opencode #3077 through Bedrock,
 * langchain-aws #844 on ConverseStream, bedrock-access-gateway #221; 2025–2026). Every report is of budget
 * thinking (`type: "enabled"`), where Claude always thinks first; with adaptive thinking the model may answer
 * without thinking, and no report says what Claude then requires, so only budget thinking is held to it. `blocks` are the Claude block
 * types of each message (`tool_result` in the last one marks the continuation), `index` numbers Claude's messages.
 */
export function thinkingContinuationProblem(
  thinkingOn: boolean,
  turns: ReadonlyArray<{ role: unknown; types: readonly string[] }>,
): string | undefined {
  const last = turns.at(-1);
  const before = turns.at(-2);
  if (!thinkingOn || !last || !before || last.role !== 'user' || !last.types.includes('tool_result') || before.role !== 'assistant')
    return undefined;
  const first = before.types[0];
  if (first === 'thinking' || first === 'redacted_thinking') return undefined;
  return (
    `messages.${turns.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first ?? 'text'}\`. ` +
    'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
    'We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
    'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking'
  );
}

function continuationProblem(body: Json): string | undefined {
  const thinking = isJson(body.thinking) ? body.thinking.type : undefined;
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const turns = messages.map((m) => ({
    role: isJson(m) ? m.role : undefined,
    types:
      isJson(m) && Array.isArray(m.content)
        ? m.content.map((b: unknown) => (isJson(b) && typeof b.type === 'string' ? b.type : ''))
        : ['text'],
  }));
  return thinkingContinuationProblem(thinking === 'enabled', turns);
}

export const PREFILL_REFUSED = 'This model does not support assistant message prefill. The conversation must end with a user message.';

/**
 * Threshold compaction's beta, on the models Anthropic lists for it with "Amazon Bedrock: beta" (its compaction
 * page: Opus 4.6 on, Sonnet 4.6 on, the Claude 5 models, Mythos, Fable; AWS's older page lists Sonnet and Opus 4.6).
 * Another model most likely answers "invalid beta flag" (unprobed).
 */
const COMPACT_BETA = 'compact-2026-01-12';

/**
 * Beta flags Bedrock's Claude body takes, per the AWS request page (anthropic_beta) and the allow-lists of
 * gateways in front of Bedrock, read independently of the sidecar: anything else is Bedrock's "invalid beta
 * flag" 400. The 1M context window exists for Sonnet 4 and later and Opus 4.6 and later only. The adaptive-only
 * models (Opus 4.7 on, Claude 5, Mythos, Fable) refuse fine-grained tool streaming (vercel/ai #14542, confirmed
 * by AWS) and, as anthropics/claude-code #49648 reports (#49370 disagrees), interleaved thinking, which adaptive
 * thinking does by itself.
 */
const BETAS = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'fine-grained-tool-streaming-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
  COMPACT_BETA,
]);

function compacts(name: string): boolean {
  return /^claude-((opus|sonnet)-4-([6-9]|\d{2,})|(opus|sonnet|haiku)-([5-9]|\d{2,})|mythos-|fable-)/.test(name);
}

/**
 * Converse refuses the compact beta: "The compact beta feature is not currently supported on the Converse and
 * ConverseStream APIs" (a ValidationException; kazuya-iwami/anthropic_on_aws_samples claude_opus46_on_bedrock.ipynb,
 * 2026-02; stdapi.ai #288, 2026-09-22).
 */
export function converseCompactProblem(fields: Json): string | undefined {
  const betas: unknown[] = Array.isArray(fields.anthropic_beta) ? fields.anthropic_beta : [];
  return betas.includes(COMPACT_BETA)
    ? 'The compact beta feature is not currently supported on the Converse and ConverseStream APIs'
    : undefined;
}

/**
 * `context_management` needs the beta of each of its edits in `anthropic_beta` (`compact-2026-01-12` for compaction,
 * `context-management-2025-06-27` for the others), else Bedrock's body has no such member: "context_management: Extra
 * inputs are not permitted" (litellm #27532, 2026-05-09, compaction without its beta; anthropics/claude-code #49548,
 * 2026-04-16, and #51700; Wei-Shaw/sub2api #2726, 2026-05-23). Thinking clearing needs thinking on: "clear_thinking_20251015
 * strategy requires thinking to be enabled or adaptive" (litellm #25835, 2026-04-16, from Bedrock).
 */
function contextManagementProblem(body: Json): string | undefined {
  if (!isJson(body.context_management)) return undefined;
  const betas: unknown[] = Array.isArray(body.anthropic_beta) ? body.anthropic_beta : [];
  const edits: unknown[] = Array.isArray(body.context_management.edits) ? body.context_management.edits : [];
  for (const edit of edits) {
    const type = isJson(edit) ? edit.type : undefined;
    if (!betas.includes(type === 'compact_20260112' ? COMPACT_BETA : 'context-management-2025-06-27'))
      return 'context_management: Extra inputs are not permitted';
    const thinking = isJson(body.thinking) ? body.thinking.type : undefined;
    if (type === 'clear_thinking_20251015' && thinking !== 'enabled' && thinking !== 'adaptive')
      return 'clear_thinking_20251015 strategy requires thinking to be enabled or adaptive';
  }
  return undefined;
}

/**
 * What the request asked of Claude's context management, on the plan of its answer; a scripted compaction the
 * request did not ask for is the script's mistake (a 500 naming it), as Claude compacts only when asked.
 */
export function planContextManagement(plan: OutputPlan, body: Json): string | undefined {
  const edits: unknown[] =
    isJson(body.context_management) && Array.isArray(body.context_management.edits) ? body.context_management.edits : [];
  const compact = edits.find((e): e is Json => isJson(e) && e.type === 'compact_20260112');
  if (plan.compaction && !compact)
    return 'emulator: a compaction was scripted, but the request asks for none (context_management.edits has no compact_20260112)';
  if (isJson(body.context_management)) plan.contextManagement = { pauseAfterCompaction: compact?.pause_after_compaction === true };
  return undefined;
}

/** Flags the adaptive-only models refuse. */
const BEFORE_ADAPTIVE_ONLY = new Set(['interleaved-thinking-2025-05-14', 'fine-grained-tool-streaming-2025-05-14']);

export function betaProblem(modelId: string, body: Json): string | undefined {
  const betas = Array.isArray(body.anthropic_beta) ? body.anthropic_beta : [];
  const name = modelName(modelId);
  for (const beta of betas) {
    if (typeof beta !== 'string' || !BETAS.has(beta)) return 'invalid beta flag';
    if (beta === COMPACT_BETA && !compacts(name)) return 'invalid beta flag';
    if (beta === 'context-1m-2025-08-07' && !/^claude-(sonnet-[4-9]|opus-4-[6-9]|opus-[5-9])/.test(name)) return 'invalid beta flag';
    if (BEFORE_ADAPTIVE_ONLY.has(beta) && !thinkingTypes(modelId).enabled) return 'invalid beta flag';
  }
  return undefined;
}

/**
 * Opus 5 and Haiku 5.5 take thinking disabled only at effort `high` or below (anthropics/claude-code #81084 and
 * #80995 on Opus 5, 2026-07, in these words; elgorro/aiquila #410; the AI SDK's @ai-sdk/amazon-bedrock 4.0.192
 * notes on Haiku 5.5, 2026-10-07). No report names Sonnet 5.
 */
function disabledEffortProblem(modelId: string, fields: Json): string | undefined {
  const effort = isJson(fields.output_config) ? fields.output_config.effort : undefined;
  if (effort !== 'xhigh' && effort !== 'max') return undefined;
  if (!/^claude-(opus-5(?!-[1-9](?!\d))|haiku-5)/.test(modelName(modelId))) return undefined;
  return `output_config.effort '${effort}' is not supported when thinking is disabled on this model. Use effort 'high' or below, or enable thinking.`;
}

/**
 * Sonnet 5.5 takes `between_tools` only at effort `high` or below ("both at High effort or lower", AWS's Bedrock
 * client for Mac 2.0.5, 2026-11-23, of it and Haiku 5.5's `disabled`). No report quotes Bedrock's words: these are
 * modelled on Opus 5's.
 */
function betweenToolsEffortProblem(fields: Json): string | undefined {
  const effort = isJson(fields.output_config) ? fields.output_config.effort : undefined;
  if (effort !== 'xhigh' && effort !== 'max') return undefined;
  return `output_config.effort '${effort}' is not supported when thinking is between_tools on this model. Use effort 'high' or below.`;
}

/** Bedrock's 400 for a thinking type the model does not take (invoke body, or converse's additional fields). */
export function thinkingProblem(modelId: string, fields: Json): string | undefined {
  const type = isJson(fields.thinking) ? fields.thinking.type : undefined;
  if (type !== 'enabled' && type !== 'adaptive' && type !== 'disabled' && type !== 'between_tools') return undefined;
  const takes = thinkingTypes(modelId);
  if (takes[type])
    return type === 'disabled'
      ? disabledEffortProblem(modelId, fields)
      : type === 'between_tools'
        ? betweenToolsEffortProblem(fields)
        : undefined;
  if (type === 'adaptive') return 'adaptive thinking is not supported on this model';
  return `"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`;
}

const STOP: Record<string, string> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
};

function nativeStop(stop: string): string {
  return STOP[stop] ?? stop;
}

/** Whether Claude's `tool_choice` forces a tool. */
function isForced(choice: unknown): boolean {
  return isJson(choice) && (choice.type === 'any' || choice.type === 'tool');
}

function modelName(modelId: string): string {
  const last = modelId.split('/').pop() ?? modelId;
  return last.replace(/^([a-z-]+\.)?anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

/** One thinking block of Claude's stream: its deltas, then its own signature. */
function* thinkingEvents(text: LazyText, signature: string, index: number): Generator<Json> {
  yield { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } };
  for (const piece of text.pieces()) yield { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } };
  yield { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } };
  yield { type: 'content_block_stop', index };
}

function toolId(call: PlannedToolCall, ctx: RenderContext): string {
  return call.id ?? ctx.newId('toolu_bdrk_');
}

/**
 * Claude's `usage` as current models answer on Bedrock (test/fixtures/real-traffic/i[sv]-anthropic-*): the
 * cache counts always (0 when nothing was cached), and in a whole answer the cache writes by TTL.
 */
function usage(plan: OutputPlan, outputTokens: number, whole: boolean): Json {
  const write = plan.usage.cacheWriteTokens ?? 0;
  const hour = Math.min(write, plan.usage.cacheWrite1hTokens ?? 0);
  const u: Json = { input_tokens: plan.usage.inputTokens };
  if (whole) u.cache_creation = { ephemeral_5m_input_tokens: write - hour, ephemeral_1h_input_tokens: hour };
  u.cache_creation_input_tokens = write;
  u.cache_read_input_tokens = plan.usage.cacheReadTokens ?? 0;
  u.output_tokens = outputTokens;
  return u;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b) => isJson(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => (b as Json).text)
    .join('\n');
}

/**
 * Claude's own refusal of a blank text block in a list of content blocks (as Bedrock relays it, reported by
 * hermes-agent users: "messages: text content blocks must contain non-whitespace text").
 */
function blankTextProblem(body: Json): string | undefined {
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages) {
    const content: unknown[] = isJson(m) && Array.isArray(m.content) ? m.content : [];
    for (const b of content) {
      if (!isJson(b) || b.type !== 'text' || typeof b.text !== 'string') continue;
      if (b.text === '') return 'messages: text content blocks must be non-empty';
      if (b.text.trim() === '') return 'messages: text content blocks must contain non-whitespace text';
    }
  }
  return undefined;
}

/**
 * Claude takes no `anyOf`, `oneOf` or `allOf` at the top of a custom tool's `input_schema`, on Anthropic's API
 * and through Bedrock (anthropics/claude-code #5319, 2025-08; senpi #1947, 2026-09, through Bedrock Converse):
 * "tools.24.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level".
 * `schemas` lists each tool's schema by its index in Claude's `tools` (undefined for a tool without one).
 */
export function topLevelCompositionProblem(schemas: readonly unknown[]): string | undefined {
  const at = schemas.findIndex((schema) => isJson(schema) && ['anyOf', 'oneOf', 'allOf'].some((key) => key in schema));
  return at === -1 ? undefined : `tools.${at}.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level`;
}

/**
 * Claude 3.7 through 4.7 refuse thinking (enabled or adaptive) with a tool choice that forces a tool (`any`,
 * `tool`), on InvokeModel and inside the model's errors on Converse: "Thinking may not be enabled when
 * tool_choice forces tool use." (strands-agents/harness-sdk #1495, 2026-01-15; strands-agents/sdk-typescript
 * #798, 2026-04-08, verified against Bedrock; oh-my-pi #341, 2026-03-09, Sonnet 4.6; pydantic-ai #3092,
 * 2025-10, Sonnet 4.5; langchain-aws #925, 2026-03). Opus 4.8, the Claude 5 models and Fable take it (the AWS
 * maintainer of langchain-aws, #1141 2026-07-02 and #1151 2026-07-07: "Claude ≤4.7" refuse). The model name is
 * read from the id here, independently of the sidecar's own table.
 */
export function forcedToolProblem(modelId: string, thinkingType: unknown, forced: boolean): string | undefined {
  if (!forced) return undefined;
  const name = modelName(modelId);
  // Fable 5.1 and Mythos 5.1 take no forced tool at all (langchain-aws #1273 on Bedrock, 2026-09-10, in these
  // words; claude-cookbooks #854, lobehub #19016 and celeste-python #393 on Anthropic's API, 2026-09).
  // Opus 5.5 and Sonnet 5.5 neither (stdapi.ai #284: "newly rejected by Opus 5.5 on Converse and Mantle",
  // 2026-09-22; Anthropic's models overview lists both; their words are not quoted, so Fable's are used).
  if (/^claude-(fable|mythos)-5-[1-9]/.test(name) || /^claude-(opus|sonnet)-5-[5-9](?!\d)/.test(name))
    return 'tool_choice: type "tool" and "any" are not supported for this model.';
  if (thinkingType !== 'enabled' && thinkingType !== 'adaptive') return undefined;
  const version = /^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(name);
  const refuses = name.startsWith('claude-3-7') || (version !== null && Number(version[1]) === 4 && Number(version[2] ?? 0) <= 7);
  return refuses ? 'Thinking may not be enabled when tool_choice forces tool use.' : undefined;
}

export const STRUCTURED_OUTPUT_REFUSED = 'output_config.format: Extra inputs are not permitted';

/**
 * Whether Bedrock refuses Claude's structured outputs (`output_config.format`; Converse `outputConfig.textFormat`)
 * for the model: Opus 4.7 and 4.8, the Claude 5 models and Fable, with Anthropic's pydantic words,
 * "output_config.format: Extra inputs are not permitted" (vercel/ai #14773, 2026-04-28, and models.dev #1765,
 * 2026-05-13, on Opus 4.7; truefoundry/models #1314 on Opus 4.7 / 4.8, 2026-06; anthropic-sdk-python #1759 on Opus
 * 4.8 and Sonnet 5, 2026-07-15; vercel/ai #17919 on Opus 5, Fable 5 and Sonnet 5, 2026-07-24; presenton #939 on
 * Sonnet 5, 2026-09-18). Earlier Claude takes them (AWS's structured-output page). Read from the id here,
 * independently of the sidecar's own table.
 */
export function refusesStructuredOutput(modelId: string): boolean {
  const name = modelName(modelId);
  const version = /^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(name);
  if (name.startsWith('claude-fable')) return true;
  if (!version) return false;
  const major = Number(version[1]);
  return major >= 5 || (major === 4 && Number(version[2] ?? 0) >= 7);
}

/**
 * Claude's structured output (`output_config.format`): refused whole by the models that take none, else with a
 * constraint keyword its grammar refuses (structured-output.ts).
 */
function outputFormatProblem(modelId: string, body: Json): string | undefined {
  const format = isJson(body.output_config) ? body.output_config.format : undefined;
  if (format !== undefined && refusesStructuredOutput(modelId)) return STRUCTURED_OUTPUT_REFUSED;
  return isJson(format) && isJson(format.schema) ? claudeConstraintProblem(format.schema) : undefined;
}

function toolSchemaProblem(body: Json): string | undefined {
  const tools: unknown[] = Array.isArray(body.tools) ? body.tools : [];
  return topLevelCompositionProblem(
    tools.map((tool) => (isJson(tool) && (tool.type ?? 'custom') === 'custom' ? tool.input_schema : undefined)),
  );
}

/**
 * Claude before 4.5 takes at most 20 images and documents together in one request, on InvokeModel and Converse
 * alike (Anthropic's own API takes 100). Reported from Bedrock: "The model returned the following errors: too
 * many images and documents: 19 + 5 > 20" (boto/boto3 #4632, Claude Sonnet 4 on Converse, 2025-10); "too many
 * images and documents: 21 + 0 > 20" (cline/cline #1844, Claude 3.5 Sonnet, 2025-03); the 20-image limit of
 * Claude's InvokeModel body (aws-samples/amazon-bedrock-samples #588, Claude 3.7, 2025-05). Claude Sonnet 5 took
 * 29 images in one Converse request (aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws
 * #994, 2026-09) and no report names 4.5 or later, so the limit is held only before 4.5.
 */
const MEDIA_LIMIT = 20;

function mediaLimit(modelId: string): number | undefined {
  const name = modelName(modelId);
  if (name.startsWith('claude-mythos') || name.startsWith('claude-fable')) return undefined;
  const version = /^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?/.exec(name);
  if (!version) return MEDIA_LIMIT; // Claude 3.x and older
  return Number(version[1]) === 4 && Number(version[2] ?? 0) < 5 ? MEDIA_LIMIT : undefined;
}

/**
 * From Claude 4.5 on, a request of more than 20 images takes none larger than 2000 px on a side (8000 px
 * otherwise): "image exceed max allowed size for many-image requests: 2000 pixels", measured on Bedrock with
 * Claude Sonnet 5 (aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws #994, 2026-09:
 * 29 images at 2001 px refused, at 2000 px taken); Claude's full words, with the image's path, as Anthropic's API
 * gives them (anthropics/claude-code #52220, 2026-04).
 */
const MANY_IMAGES = 20;
const MANY_IMAGE_SIDE = 2000;

export function manyImageProblem(modelId: string, images: ReadonlyArray<{ at: string; data: string }>): string | undefined {
  if (mediaLimit(modelId) !== undefined || images.length <= MANY_IMAGES) return undefined;
  for (const image of images) {
    const size = imageSizeOf(image.data);
    if (size && Math.max(size.width, size.height) > MANY_IMAGE_SIDE)
      return `${image.at}: At least one of the image dimensions exceed max allowed size for many-image requests: ${MANY_IMAGE_SIDE} pixels`;
  }
  return undefined;
}

/** Claude's refusal of more images and documents than the model takes (its words), or undefined. */
export function mediaProblem(modelId: string, images: number, documents: number): string | undefined {
  const limit = mediaLimit(modelId);
  return limit !== undefined && images + documents > limit
    ? `too many images and documents: ${images} + ${documents} > ${limit}`
    : undefined;
}

/** Images and documents of a Claude body: in the messages and inside their tool results (base64 images with their paths). */
function claudeMedia(body: Json): { images: number; documents: number; base64: Array<{ at: string; data: string }> } {
  const count = { images: 0, documents: 0, base64: [] as Array<{ at: string; data: string }> };
  const visit = (blocks: unknown, at: string): void => {
    if (!Array.isArray(blocks)) return;
    for (const [j, b] of (blocks as unknown[]).entries()) {
      if (!isJson(b)) continue;
      if (b.type === 'image') {
        count.images++;
        if (isJson(b.source) && typeof b.source.data === 'string')
          count.base64.push({ at: `${at}.${j}.image.source.base64.data`, data: b.source.data });
      } else if (b.type === 'document') count.documents++;
      else if (b.type === 'tool_result') visit(b.content, `${at}.${j}.content`);
    }
  };
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  for (const [i, m] of messages.entries()) if (isJson(m)) visit(m.content, `messages.${i}.content`);
  return count;
}

/**
 * Claude checks each image's bytes against its declared media type, through Bedrock too: "The image was specified
 * using the image/jpeg media type, but the image appears to be a image/png image" (ziatdinovmax/SciLink #382,
 * Claude Opus 4.8 on Bedrock, 2026-07; on Converse inside the model's errors, NousResearch/hermes-agent #55429,
 * measured on Sonnet 4.5, 2026-09). Clients label an image by its file name (Claude Code's Read tool, chat apps'
 * caches), so a PNG called .jpg is common.
 */
function imageLabelProblems(body: Json): string | undefined {
  const visit = (blocks: unknown, at: string): string | undefined => {
    if (!Array.isArray(blocks)) return undefined;
    for (const [j, b] of (blocks as unknown[]).entries()) {
      if (!isJson(b)) continue;
      if (b.type === 'tool_result') {
        const inner = visit(b.content, `${at}.${j}.content`);
        if (inner) return inner;
      }
      const source = b.type === 'image' && isJson(b.source) ? b.source : undefined;
      if (source?.type !== 'base64' || typeof source.media_type !== 'string' || typeof source.data !== 'string') continue;
      const problem = imageLabelProblem(`${at}.${j}.image.source.base64`, source.media_type, source.data);
      if (problem) return problem;
    }
    return undefined;
  };
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  for (const [i, m] of messages.entries()) {
    const problem = isJson(m) ? visit(m.content, `messages.${i}.content`) : undefined;
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Claude's body refuses a stop sequence of whitespace only: "stop_sequences: each stop sequence must contain
 * non-whitespace" (captured on claude-haiku-4-5, 2026-09-30; in HELM's and two clients' changelogs).
 */
function blankStopProblem(body: Json): string | undefined {
  const stops: unknown[] = Array.isArray(body.stop_sequences) ? body.stop_sequences : [];
  return stops.some((s) => typeof s === 'string' && s.trim() === '')
    ? 'stop_sequences: each stop sequence must contain non-whitespace'
    : undefined;
}

export const anthropic: InvokeFamily = {
  name: 'anthropic',

  validate(body, ctx) {
    const problems = check(anthropicSchema, body);
    if (problems.length > 0) return pydanticMessage(problems[0]!);
    if (!isJson(body)) return undefined;
    const media = claudeMedia(body);
    return (
      maxTokensProblem(ctx.modelId, body.max_tokens) ??
      betaProblem(ctx.modelId, body) ??
      contextManagementProblem(body) ??
      thinkingProblem(ctx.modelId, body) ??
      samplingProblem(ctx.modelId, body) ??
      forcedToolProblem(ctx.modelId, isJson(body.thinking) ? body.thinking.type : undefined, isForced(body.tool_choice)) ??
      outputFormatProblem(ctx.modelId, body) ??
      blankTextProblem(body) ??
      blankStopProblem(body) ??
      claudeToolIdProblem(body) ??
      continuationProblem(body) ??
      toolSchemaProblem(body) ??
      imageLabelProblems(body) ??
      mediaProblem(ctx.modelId, media.images, media.documents) ??
      manyImageProblem(ctx.modelId, media.base64)
    );
  },

  supportsTools: true,
  topLevelKeys: Object.keys(anthropicProps),
  extraKeyMessage: (key) => `${key}: Extra inputs are not permitted`,

  sniff: (body) => 'anthropic_version' in body,

  lastUserText(body) {
    const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (isJson(m) && m.role === 'user') return textOf(m.content);
    }
    return '';
  },

  response(plan, ctx) {
    const content: Json[] = [];
    if (plan.compaction) content.push(compactionOf(plan));
    if (paused(plan)) return wholeMessage(plan, ctx, content, plan.usage.outputTokens, true);
    if (plan.reasoning) content.push({ type: 'thinking', thinking: plan.reasoning.full(), signature: plan.reasoningSignature });
    if (plan.text.bytes > 0 || plan.toolCalls.length === 0) content.push({ type: 'text', text: plan.text.full() });
    for (const call of plan.toolCalls) {
      if (call.reasoning) content.push({ type: 'thinking', thinking: call.reasoning.full(), signature: call.reasoningSignature });
      content.push({ type: 'tool_use', id: toolId(call, ctx), name: call.name, input: call.input });
    }
    return wholeMessage(plan, ctx, content, plan.usage.outputTokens, false);
  },

  *streamEvents(plan, ctx) {
    yield {
      type: 'message_start',
      message: {
        id: ctx.newId('msg_bdrk_'),
        type: 'message',
        role: 'assistant',
        model: modelName(ctx.modelId),
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(plan, 1, false),
      },
    };
    let index = 0;
    if (plan.compaction) {
      // Anthropic's compaction stream: the block starts empty, its whole summary comes in one delta (no
      // incremental streaming), `encrypted_content` with it (Anthropic's compaction page; anthropic-python #1821).
      yield { type: 'content_block_start', index, content_block: { type: 'compaction', content: null } };
      yield {
        type: 'content_block_delta',
        index,
        delta: { type: 'compaction_delta', content: plan.compaction.content, encrypted_content: plan.compaction.encryptedContent },
      };
      yield { type: 'content_block_stop', index };
      index++;
    }
    if (paused(plan)) {
      yield { type: 'message_delta', ...ending(plan, true), usage: { output_tokens: plan.usage.outputTokens, ...iterations(plan, true) } };
      yield { type: 'message_stop' };
      return;
    }
    if (plan.reasoning) {
      yield* thinkingEvents(plan.reasoning, plan.reasoningSignature, index);
      index++;
    }
    if (plan.text.bytes > 0 || plan.toolCalls.length === 0) {
      yield { type: 'content_block_start', index, content_block: { type: 'text', text: '' } };
      for (const piece of plan.text.pieces()) {
        yield { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } };
      }
      yield { type: 'content_block_stop', index };
      index++;
    }
    for (const call of plan.toolCalls) {
      if (call.reasoning) {
        yield* thinkingEvents(call.reasoning, call.reasoningSignature, index);
        index++;
      }
      yield { type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolId(call, ctx), name: call.name, input: {} } };
      for (const piece of call.argumentDeltas) {
        yield { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } };
      }
      yield { type: 'content_block_stop', index };
      index++;
    }
    yield { type: 'message_delta', ...ending(plan, false), usage: { output_tokens: plan.usage.outputTokens, ...iterations(plan, false) } };
    yield { type: 'message_stop' };
  },
};

/** Whether the answer stops at its compaction (`pause_after_compaction: true`). */
function paused(plan: OutputPlan): boolean {
  return plan.compaction !== undefined && plan.contextManagement?.pauseAfterCompaction === true;
}

function compactionOf(plan: OutputPlan): Json {
  return { type: 'compaction', content: plan.compaction!.content, encrypted_content: plan.compaction!.encryptedContent };
}

/**
 * `message_delta`'s stop and `context_management`: the applied edits of a request that asked for context management
 * (`[]` when none applied, as probed for tool-use clearing; a compaction listed as `compact_20260112`).
 */
function ending(plan: OutputPlan, pausedHere: boolean): Json {
  return {
    delta: { stop_reason: pausedHere ? 'compaction' : nativeStop(plan.stopReason), stop_sequence: null },
    ...contextManagementOf(plan),
  };
}

function contextManagementOf(plan: OutputPlan): Json {
  if (!plan.contextManagement) return {};
  return { context_management: { applied_edits: plan.compaction ? [{ type: 'compact_20260112' }] : [] } };
}

/**
 * `usage.iterations` of an answer that compacted (Anthropic's compaction page): the compaction's sampling pass, then
 * the answer's (none when it paused); the top-level counts are the answer's own. The compaction pass is counted here
 * as the whole prompt in and the summary out.
 */
function iterations(plan: OutputPlan, pausedHere: boolean): Json {
  if (!plan.compaction) return {};
  const summary = estimateTokens(Buffer.byteLength(plan.compaction.content ?? '', 'utf8'));
  const passes: Json[] = [{ type: 'compaction', input_tokens: plan.usage.inputTokens, output_tokens: summary }];
  if (!pausedHere) passes.push({ type: 'message', input_tokens: plan.usage.inputTokens, output_tokens: plan.usage.outputTokens });
  return { iterations: passes };
}

/** The whole message. */
function wholeMessage(plan: OutputPlan, ctx: RenderContext, content: Json[], outputTokens: number, pausedHere: boolean): Json {
  return {
    id: ctx.newId('msg_bdrk_'),
    type: 'message',
    role: 'assistant',
    model: modelName(ctx.modelId),
    content,
    stop_reason: pausedHere ? 'compaction' : nativeStop(plan.stopReason),
    stop_sequence: null,
    usage: { ...usage(plan, outputTokens, true), ...iterations(plan, pausedHere) },
    ...contextManagementOf(plan),
  };
}
