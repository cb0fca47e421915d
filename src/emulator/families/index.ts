// Registry of invoke-route families, keyed by FamilyName. `sniffFamily` picks one from the body alone,
// for model ids that do not name a family (application inference profiles, provisioned/imported models).
import type { FamilyName } from '../model-id.ts';
import { ai21 } from './ai21.ts';
import { anthropic } from './anthropic.ts';
import { cohere } from './cohere.ts';
import { deepseek } from './deepseek.ts';
import { llama } from './llama.ts';
import { mistralChat, mistralText } from './mistral.ts';
import { nova } from './nova.ts';
import { gemma, minimax, moonshot, nemotron, xai, zai } from './open-weight.ts';
import { openai } from './openai.ts';
import { qwen } from './qwen.ts';
import { titan } from './titan.ts';
import type { InvokeFamily, Json } from './types.ts';

export const INVOKE_FAMILIES: Record<FamilyName, InvokeFamily> = {
  anthropic,
  nova,
  titan,
  llama,
  'mistral-text': mistralText,
  'mistral-chat': mistralChat,
  cohere,
  ai21,
  deepseek,
  openai,
  qwen,
  moonshot,
  minimax,
  gemma,
  nemotron,
  xai,
  zai,
};

/** Order matters: distinctive keys first (anthropic_version, schemaVersion/Nova blocks, inputText, …). */
const SNIFF_ORDER: InvokeFamily[] = [anthropic, titan, cohere, nova, llama, mistralText, openai, mistralChat, ai21, deepseek, qwen];

export function sniffFamily(body: Json): InvokeFamily | undefined {
  return SNIFF_ORDER.find((f) => f.sniff(body));
}
