/**
 * xAI Grok (`xai.grok-*`: Grok 4.6 and 4.7, by cross-region `us.` / `global.` profile only: promptfoo #10589,
 * verified live 2026-08-31), served on the converse route only here (AWS documents no invoke body for it; one
 * report sees OpenAI's chat shape there). Probed on Bedrock (2026-08/09): it takes `toolConfig` with `auto`,
 * `any` and `tool` choices (aws-solutions-library-samples accelerated-intelligent-document-processing-on-aws #738)
 * and images in a user turn (anomalyco/opencode #49444, which also found them refused inside a tool result), and
 * refuses `temperature` and `topP` ("This model doesn't support the temperature field. Remove temperature and try
 * again.": kolya-br-proxy #104 production logs, hermes-agent #111043 with boto3; inference-fields.ts). Its
 * reasoning setting and `stop` are not known from Bedrock: `reasoning_effort` is refused, `stop` goes as asked.
 */
import type { ChatFamilySpec } from './types.ts';

export const xai: ChatFamilySpec<'xai'> = {
  family: 'xai',
  kind: 'chat',
  modelIds: /^xai\./,
  providers: ['xai'],
  aliases: ['grok'],
  converse: { tools: true, images: true, documents: false, structured: false, extra: [], extraFields: [] },
};
