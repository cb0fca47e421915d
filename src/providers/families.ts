/**
 * The family registry: every model family the sidecar serves, each defined in its own file. This list is
 * the only place a family is named outside its file: model-id detection and `provider:` names
 * (src/models/route.ts), the routes each family serves and the converse traits (index.ts) are all read
 * from the specs here. Imports nothing from src/models/ at run time (models/ imports this).
 */
import { ai21 } from './ai21.ts';
import { anthropic } from './anthropic.ts';
import { cohere } from './cohere.ts';
import { deepseek } from './deepseek.ts';
import { cohereEmbed } from './embeddings/cohere.ts';
import { novaEmbed } from './embeddings/nova.ts';
import { titanEmbed } from './embeddings/titan.ts';
import { google } from './google.ts';
import { llama } from './llama.ts';
import { minimax } from './minimax.ts';
import { mistral } from './mistral.ts';
import { moonshot } from './moonshot.ts';
import { nova } from './nova.ts';
import { nvidia } from './nvidia.ts';
import { openai } from './openai.ts';
import { qwen } from './qwen.ts';
import { titan } from './titan.ts';
import { xai } from './xai.ts';
import { zai } from './zai.ts';

export const FAMILY_SPECS = [
  anthropic,
  nova,
  titan,
  llama,
  mistral,
  cohere,
  ai21,
  deepseek,
  openai,
  qwen,
  moonshot,
  minimax,
  google,
  nvidia,
  xai,
  zai,
  titanEmbed,
  cohereEmbed,
  novaEmbed,
] as const;

type Spec = (typeof FAMILY_SPECS)[number];
export type Family = Spec['family'];
/** Families that generate text (the chat-shaped surfaces). */
export type ChatFamily = Extract<Spec, { kind: 'chat' }>['family'];
/** Families that turn text into vectors (`POST /v1/embeddings`; the invoke route only). */
export type EmbeddingFamily = Extract<Spec, { kind: 'embedding' }>['family'];
