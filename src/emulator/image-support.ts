// Where a Converse image may stand, per model: which models read images at all, and which read one inside a
// `toolResult`. Input: the model id (base id, geography profile or ARN) and a Converse body's messages. Output:
// Bedrock's refusal, or nothing. Claude is not judged here (converse.ts holds its own media rules), nor an id that
// names no model (an application inference profile: the body decides); a model the lists below do not name is
// not refused either: the emulator answers only for what was measured.
//
// Sources, all measured against Bedrock's Converse:
// - An image inside `toolResult.content`: anomalyco/opencode #49443 (2026-09-17, us-east-1, one 4x4 PNG as a
//   user-level `image` and inside a `toolResult`): Claude, Nova (pro, 2-lite) and Llama 4 Maverick 200 both ways;
//   GPT-6 Astra and GPT-5.6 Sol / Luna / Terra 200 at user level, 400 in the tool result; #49444 (same author): four
//   OpenAI, two Mistral, Qwen, Gemma, Kimi and Grok models the same. anomalyco/opencode #48069 (2026-09-16,
//   eu-west-2, global. GPT-6 profiles): the image hoisted beside a text-only toolResult in the same user turn is
//   200. earendil-works/pi #8642 / #8643 (2026-08-25, us.openai.gpt-5.6-sol) quote the words. AWS's API reference,
//   ToolResultContentBlock.image: "only supported by Amazon Nova and Anthropic Claude 3 and 4 models".
// - A user-level image to a model that reads none: the same sentence (earendil-works/pi #8960, 2026-09-01).
// - Which models read images: ListFoundationModels, us-east-1, 2026-09-27 (`inputModalities` holding IMAGE),
//   and AWS's model pages for Llama 3.2 11B / 90B.
import { baseModelId, familyOf } from './model-id.ts';
import { isJson, type Json } from './families/types.ts';

export const IMAGE_FIELD_REFUSED = "This model doesn't support the image field for user messages. Remove image and try again.";

/**
 * What a base model id reads, first match wins. Writer's Palmyra is in the readback too, but the emulator knows no
 * such family (its ids are invalid here), so it has no row.
 */
const READS: ReadonlyArray<{ models: RegExp; images: boolean }> = [
  { models: /^anthropic\.claude/, images: true },
  { models: /^amazon\.nova-micro/, images: false },
  { models: /^amazon\.nova-(lite|pro|2-lite)/, images: true },
  { models: /^meta\.llama4-(maverick|scout)/, images: true },
  { models: /^meta\.llama3-2-(11b|90b)/, images: true },
  { models: /^meta\.llama3-(\d+b|1|3)-/, images: false },
  { models: /^mistral\.(pixtral-large-2502|mistral-large-3-675b|ministral-3-(3b|8b|14b)|magistral-small-2509)/, images: true },
  { models: /^mistral\.(mistral-7b|mixtral|mistral-large-2402|mistral-small-2402|devstral-2)/, images: false },
  { models: /^moonshot(ai)?\.kimi-k2-thinking/, images: false },
  { models: /^moonshot(ai)?\.kimi-k(2\.5|3)/, images: true },
  { models: /^nvidia\.nemotron-nano-12b-v2/, images: true },
  { models: /^nvidia\.nemotron/, images: false },
  { models: /^openai\.gpt-oss/, images: false },
  { models: /^openai\.gpt-(5\.[456]|6)\b/, images: true },
  { models: /^qwen\.qwen3-vl/, images: true },
  { models: /^qwen\./, images: false },
  { models: /^xai\.grok-4\.6/, images: true },
  { models: /^google\.gemma-3-(4b|12b|27b)/, images: true },
  { models: /^(deepseek|minimax)\./, images: false },
  { models: /^zai\.glm/, images: false },
];

/** Whether `modelId` reads images: true or false where measured, undefined for a model no source names. */
export function readsImages(modelId: string): boolean | undefined {
  const base = baseModelId(modelId);
  return READS.find((row) => row.models.test(base))?.images;
}

/** Whether `modelId` takes an image inside a tool result: Nova and Llama 4 (Claude is judged in converse.ts). */
function takesToolResultImages(modelId: string): boolean {
  return familyOf(modelId) === 'nova' || /^meta\.llama4-/.test(baseModelId(modelId));
}

const hasImage = (part: unknown): boolean => isJson(part) && 'image' in part;

/** Bedrock's refusal of an image `modelId` does not read where it stands in `messages`, or undefined. */
export function imagePlacementProblem(modelId: string, messages: readonly Json[]): string | undefined {
  const family = familyOf(modelId);
  if (family === undefined || family === 'any' || family === 'anthropic') return undefined;
  const textOnly = readsImages(modelId) === false;
  for (const message of messages) {
    if (message.role !== 'user' || !Array.isArray(message.content)) continue;
    for (const block of message.content as unknown[]) {
      if (textOnly && hasImage(block)) return IMAGE_FIELD_REFUSED;
      const result = isJson(block) && isJson(block.toolResult) ? block.toolResult : undefined;
      const parts = Array.isArray(result?.content) ? (result.content as unknown[]) : [];
      if (parts.some(hasImage) && (textOnly || !takesToolResultImages(modelId))) return IMAGE_FIELD_REFUSED;
    }
  }
  return undefined;
}
