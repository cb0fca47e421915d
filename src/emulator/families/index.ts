// Registry of invoke-route families, keyed by FamilyName. `sniffFamily` picks one from the body alone,
// for model ids that do not name a family (application inference profiles, provisioned/imported models).
import type { FamilyName } from '../model-id.ts';
import { anthropic } from './anthropic.ts';
import type { InvokeFamily, Json } from './types.ts';

export const INVOKE_FAMILIES: Partial<Record<FamilyName, InvokeFamily>> = {
  anthropic,
};

export function sniffFamily(body: Json): InvokeFamily | undefined {
  return Object.values(INVOKE_FAMILIES).find((f) => f.sniff(body));
}
