// Model id → family (docs/bedrock-wire.md#family-detection, #model-identifiers). Input: the percent-decoded `{modelId}`
// path label. Output: the family whose native body the emulator expects, 'any' when the id cannot name one (application
// inference profiles, provisioned/imported models: the body decides), or undefined for an id no family matches
// (answered as Bedrock does for an invalid id).

export const FAMILIES = [
  'anthropic',
  'nova',
  'titan',
  'llama',
  'mistral-text',
  'mistral-chat',
  'cohere',
  'ai21',
  'deepseek',
  'openai',
  'qwen',
  'moonshot',
  'minimax',
  'gemma',
  'nemotron',
  'xai',
  'zai',
] as const;
export type FamilyName = (typeof FAMILIES)[number];

export const GEO_PREFIXES = ['us-gov.', 'us.', 'eu.', 'apac.', 'jp.', 'au.', 'ca.', 'global.'] as const;

export function stripGeo(id: string): string {
  for (const p of GEO_PREFIXES) if (id.startsWith(p)) return id.slice(p.length);
  return id;
}

/** The base model id named by `modelId`, or 'opaque' when an ARN does not embed one. */
export function baseModelId(modelId: string): string {
  if (!modelId.startsWith('arn:')) return stripGeo(modelId);
  // arn:partition:service:region:account:resource-type/resource-id
  const parts = modelId.split(':');
  if (parts.length < 6) return 'opaque';
  const resource = parts.slice(5).join(':');
  const slash = resource.indexOf('/');
  if (slash < 0) return 'opaque';
  const type = resource.slice(0, slash);
  const rest = resource.slice(slash + 1);
  switch (type) {
    case 'foundation-model':
    case 'inference-profile':
      return stripGeo(rest);
    case 'custom-model': {
      // custom-model/{provider}.{model}/{suffix}: the base id is embedded
      const inner = rest.split('/');
      return inner.length >= 2 ? inner.slice(0, -1).join('/') : 'opaque';
    }
    default:
      return 'opaque';
  }
}

export function familyOf(modelId: string): FamilyName | 'any' | undefined {
  const base = baseModelId(modelId);
  if (base === 'opaque') return 'any';
  if (base.startsWith('anthropic.claude')) return 'anthropic';
  if (base.startsWith('amazon.nova-') && !base.includes('-embeddings-')) return 'nova';
  // amazon.titan-tg1-large is Titan Text's legacy id, still served (real recordings answer 200).
  if (base.startsWith('amazon.titan-text') || base.startsWith('amazon.titan-tg1')) return 'titan';
  if (base.startsWith('meta.llama')) return 'llama';
  if (/^mistral\.mistral-large-(2407|3)/.test(base) || base.startsWith('mistral.pixtral') || base.startsWith('mistral.magistral'))
    return 'mistral-chat';
  if (base.startsWith('mistral.')) return 'mistral-text';
  if (base.startsWith('cohere.command-r')) return 'cohere';
  if (base.startsWith('ai21.jamba')) return 'ai21';
  if (base.startsWith('deepseek.')) return 'deepseek';
  if (base.startsWith('openai.')) return 'openai';
  if (base.startsWith('qwen.')) return 'qwen';
  if (base.startsWith('moonshot.') || base.startsWith('moonshotai.')) return 'moonshot';
  if (base.startsWith('minimax.')) return 'minimax';
  if (base.startsWith('google.gemma')) return 'gemma';
  if (base.startsWith('nvidia.nemotron')) return 'nemotron';
  if (base.startsWith('xai.grok')) return 'xai';
  if (base.startsWith('zai.glm')) return 'zai';
  return undefined;
}
