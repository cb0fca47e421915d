/**
 * MiniMax M2 (`minimax.*`), served on the converse route only (no invoke body is documented for it): it
 * calls tools and reasons on its own (reasoningContent out; no reasoning setting). docs/contract.md#models-and-routes.
 */
import type { ChatFamilySpec } from './types.ts';

export const minimax: ChatFamilySpec<'minimax'> = {
  family: 'minimax',
  kind: 'chat',
  modelIds: /^minimax\./,
  providers: ['minimax'],
  aliases: [],
  converse: { tools: true, images: false, documents: false, structured: false, extra: [], extraFields: [] },
};
