/**
 * NVIDIA Nemotron 3 (`nvidia.nemotron*`), served on the converse route only (no invoke body is documented
 * for it): it calls tools. docs/contract.md#models-and-routes.
 */
import type { ChatFamilySpec } from './types.ts';

export const nvidia: ChatFamilySpec<'nvidia'> = {
  family: 'nvidia',
  kind: 'chat',
  modelIds: /^nvidia\.nemotron/,
  providers: ['nvidia'],
  aliases: ['nemotron'],
  converse: { tools: true, images: false, documents: false, structured: false, extra: [], extraFields: [] },
};
