/**
 * Z.AI GLM (`zai.glm-*`: GLM 4.7, 4.7 Flash, 5, and 5.3 by `us.` / `global.` profile), served on the converse
 * route only here (AWS documents no invoke body for it). Bedrock takes `toolConfig` for GLM and streams its
 * `toolUse` (anomalyco/opencode #28168 and #28264, maximhq/bifrost #4684, 2026-06; AWS's GLM 5.3 model card), reads
 * no images or documents (AWS's model metadata lists none; the GLM 5 card says text only), and refuses
 * `stopSequences` ("This model doesn't support the stopSequences field.": bifrost #4684, 2026-06-25;
 * inference-fields.ts). Its reasoning is switched on by `reasoning_config: "high"` in additionalModelRequestFields,
 * as Qwen's (LibreChat #11974, opencode #28143): an alias may set it; no Chat parameter is mapped onto it, since no
 * source shows its other values or GLM 5.3's effort field. Forced tool choices go as asked: no source shows
 * Bedrock's answer to them for GLM. /work/reports/glm13.md (session 13) has the sources.
 */
import type { ChatFamilySpec } from './types.ts';

export const zai: ChatFamilySpec<'zai'> = {
  family: 'zai',
  kind: 'chat',
  modelIds: /^zai\./,
  providers: ['zai'],
  aliases: ['glm'],
  converse: { tools: true, images: false, documents: false, structured: false, extra: [], extraFields: ['reasoning_config'] },
};
