// Converse `inferenceConfig` fields a model refuses whatever their value (an empty stopSequences too), and the
// reasoning shape OpenAI's own models take on Converse. As users report them from Bedrock:
// - "This model doesn't support the stopSequences field. Remove stopSequences and try again.": gpt-oss
//   (crewAIInc/crewAI #3317, 2025-08; langchain4j #3650, 2025-09, with `stopSequences: []`), Qwen3
//   (langgenius/dify-official-plugins #1767, 2025-09); a gateway that probed each field of each model against
//   Bedrock (2026-08-28) adds DeepSeek V3.x, Gemma, MiniMax and Kimi, and all three fields on GPT-5.6; Kimi K3 and
//   GPT-6 refuse `temperature` and `topP` ("This model doesn't support the temperature field.", verified on
//   Converse 2026-09); Nemotron refuses a stop (a probe of 2026-09-17).
// - GPT-5.6 and GPT-6 take `additionalModelRequestFields.reasoning: {effort}` and refuse the flat
//   `reasoning_effort` with "Unknown parameter: 'reasoning_effort'." (anomalyco/opencode #48195, 2026-09;
//   stdapi-ai/stdapi.ai #283, probed 2026-09-22: none/low/medium/high/xhigh/max on GPT-6 Astra, Sol and Luna, and
//   `minimal` refused on GPT-6); GPT-6 Astra refuses `none` (opencode #48195, probed on Bedrock; models.dev
//   #6578), and GPT-6.1 Sol and GPT-6.2 (AWS's Bedrock client for Mac 2.0.5, 2026-11-23), where GPT-6.1 Terra
//   takes it.
import { baseModelId } from './model-id.ts';
import { isJson, type Json } from './families/types.ts';

const FIELDS: Array<{ models: RegExp; refuses: readonly string[] }> = [
  { models: /^openai\.gpt-(5\.6|6)/, refuses: ['temperature', 'topP', 'stopSequences'] },
  { models: /^moonshot(ai)?\.kimi-k3/, refuses: ['temperature', 'topP', 'stopSequences'] },
  // Grok 4.6 / 4.7 (aws-samples/sample-kolya-br-proxy #104, production logs 2026-08-27; hermes-agent #111043, boto3).
  { models: /^xai\.grok/, refuses: ['temperature', 'topP'] },
  // GLM refuses a stop too (maximhq/bifrost #4684, 2026-06-25, against Bedrock).
  {
    models: /^(openai\.gpt-oss|deepseek\.v3|google\.gemma|minimax\.|moonshot(ai)?\.|qwen\.|nvidia\.nemotron|zai\.)/,
    refuses: ['stopSequences'],
  },
];

/**
 * Bedrock's refusal of an `inferenceConfig` field `modelId` does not take, or undefined. A stop sequence of
 * whitespace only is refused first, for every model ("The stop sequence value at inferenceConfig.stopSequences.0 is
 * blank. …": stdapi-ai/stdapi.ai probes of Kimi K3, Kimi K2.5, Sonnet 5.5, GPT-6.1 Sol and MiniMax M2.5, 2026-09,
 * before GPT-6.1 Sol's own refusal of the field).
 */
export function inferenceFieldProblem(modelId: string, inferenceConfig: unknown): string | undefined {
  if (!isJson(inferenceConfig)) return undefined;
  const stops = Array.isArray(inferenceConfig.stopSequences) ? (inferenceConfig.stopSequences as unknown[]) : [];
  const blank = stops.findIndex((s) => typeof s === 'string' && s.trim() === '');
  if (blank >= 0)
    return `The stop sequence value at inferenceConfig.stopSequences.${blank} is blank. Try again with a non blank stop sequence.`;
  const base = baseModelId(modelId);
  const refuses = FIELDS.find((row) => row.models.test(base))?.refuses ?? [];
  const field = refuses.find((f) => inferenceConfig[f] !== undefined);
  return field === undefined ? undefined : `This model doesn't support the ${field} field. Remove ${field} and try again.`;
}

/** Whether `modelId` is one of OpenAI's own models (GPT-5.x, GPT-6) rather than the open-weight gpt-oss. */
export function isGptFrontier(modelId: string): boolean {
  return /^openai\.gpt-(?!oss)/.test(baseModelId(modelId));
}

const EFFORTS = ['none', 'low', 'medium', 'high', 'xhigh', 'max'];

/** GPT-5.x / GPT-6's refusal of `additionalModelRequestFields` on Converse, or undefined. */
export function gptFieldsProblem(modelId: string, fields: Json): string | undefined {
  for (const key of Object.keys(fields)) if (key !== 'reasoning') return `Unknown parameter: '${key}'.`;
  const reasoning = fields.reasoning;
  if (reasoning === undefined) return undefined;
  const effort = isJson(reasoning) ? reasoning.effort : undefined;
  const version = /gpt-(\d+)(?:\.(\d+))?-?([a-z]*)/.exec(baseModelId(modelId));
  const [major, minor, name] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0), version?.[3] ?? ''];
  const refusesNone = major === 6 && (minor >= 2 || (minor === 1 && name === 'sol') || (minor === 0 && name === 'astra'));
  // The wording of a refused effort is OpenAI's own for an unsupported value (no Bedrock text is quoted).
  if (typeof effort !== 'string' || !EFFORTS.includes(effort) || (refusesNone && effort === 'none'))
    return `Unsupported value: 'reasoning.effort' does not support ${JSON.stringify(effort)} with this model.`;
  return undefined;
}
