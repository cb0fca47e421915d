/**
 * Google Gemma 3 (`google.gemma*`), served on the converse route only (no invoke body is documented for
 * it): it reads images and calls no tools. docs/contract.md#models-and-routes.
 */
import type { ChatFamilySpec } from './types.ts';

export const google: ChatFamilySpec<'google'> = {
  family: 'google',
  kind: 'chat',
  modelIds: /^google\.gemma/,
  providers: ['google'],
  aliases: ['gemma'],
  converse: { tools: false, images: true, documents: false, structured: false, extra: [], extraFields: [] },
};
