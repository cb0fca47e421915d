/**
 * Converse `inferenceConfig` fields a model refuses outright, whatever their value: "This model doesn't support
 * the stopSequences field. Remove stopSequences and try again." (and the same of `temperature`, `topP`). Users
 * report it from Bedrock for gpt-oss (crewAI #3317, 2025-08: CrewAI's own "\nObservation:" stop; langchain4j
 * #3650, even an empty list), Qwen3 (dify-official-plugins #1767), and a gateway probed every field of each
 * model against Bedrock (2026-08-28): OpenAI's GPT-5.6 and GPT-6 refuse all three; gpt-oss, DeepSeek V3.x,
 * Gemma, MiniMax, Kimi and Qwen refuse `stopSequences` (DeepSeek R1 takes all three); Kimi K3 refuses
 * `temperature` and `topP` (verified on Converse 2026-09-19, with GPT-6 Sol and Luna); Nemotron refuses a stop
 * (a probe of 2026-09-17), as does GLM (bifrost #4684, 2026-06-25). These models' invoke bodies are their own and are not concerned.
 *
 * The rule is the parameter policy's: a value that changes nothing (`temperature` or `top_p` of 1, the
 * models' default; an empty `stop`) is left out with a debug line; any other is a 400 naming the parameter,
 * or dropped with `drop_params`. A model not listed keeps every field.
 */
import { rejectParam } from './policy.ts';
import type { ChatParams } from './request.ts';
import type { BuildContext } from './types.ts';

export type InferenceField = 'temperature' | 'top_p' | 'stop';

const ALL: readonly InferenceField[] = ['temperature', 'top_p', 'stop'];
const STOP: readonly InferenceField[] = ['stop'];
const SAMPLING: readonly InferenceField[] = ['temperature', 'top_p'];

/** The fields `modelId` (any geography prefix) refuses on converse. */
export function refusedInferenceFields(modelId: string): readonly InferenceField[] {
  const id = modelId.toLowerCase();
  // GPT-5.6 and every later OpenAI frontier id (5.7, 6.x, 7 …), Kimi K3 and later: each of them probed on Converse
  // refuses all three, and ids not yet probed (openai.gpt-7-sol, moonshotai.kimi-k4 appear in clients' catalogs)
  // are taken to follow them, as the Claude table's newest row does, rather than fail on Bedrock after the call.
  if (/(^|\.)openai\.gpt-(5\.([6-9]|\d\d)|[6-9]|\d\d)/.test(id)) return ALL;
  if (/(^|\.)moonshot(ai)?\.kimi-k([3-9]|\d\d)/.test(id)) return ALL;
  // Grok: sampling refused (xai.ts); its stop is not known from Bedrock, so it goes.
  if (/(^|\.)xai\.grok/.test(id)) return SAMPLING;
  if (/(^|\.)(openai\.gpt-oss|deepseek\.v3|google\.gemma|minimax\.|moonshot(ai)?\.|qwen\.|nvidia\.nemotron|zai\.)/.test(id)) return STOP;
  return [];
}

/** A family's converse `sampling` trait: the refused fields out of `params` (noted, or the policy's 400). */
export function withoutRefusedInference(params: ChatParams, ctx: BuildContext): ChatParams {
  const modelId = ctx.target.modelId;
  const refused = refusedInferenceFields(modelId).filter((field) => params[field] !== undefined);
  if (refused.length === 0) return params;
  const out = { ...params };
  for (const field of refused) {
    const value = out[field];
    delete out[field];
    const noOp = Array.isArray(value) ? value.length === 0 : value === 1;
    if (noOp)
      ctx.note(`${field} ${JSON.stringify(value)} left out: ${modelId} takes no ${field} on converse, and this value changes nothing`);
    else rejectParam(ctx, field, `is not supported by ${modelId} on converse (Bedrock refuses the field for this model)`);
  }
  return out;
}
