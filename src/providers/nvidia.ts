/**
 * NVIDIA Nemotron 3 (`nvidia.nemotron*`), served on the converse route only (no invoke body is documented
 * for it): it calls tools, and the Nano 12B v2 VL reads images. docs/contract.md#models-and-routes.
 */
import type { ChatFamilySpec } from './types.ts';

export const nvidia: ChatFamilySpec<'nvidia'> = {
  family: 'nvidia',
  kind: 'chat',
  modelIds: /^nvidia\.nemotron/,
  providers: ['nvidia'],
  aliases: ['nemotron'],
  // Nemotron Nano 12B v2 VL reads images (IMAGE among its input modalities in Bedrock's ListFoundationModels,
  // us-east-1 readback of 2026-09-27); the other Nemotrons read text only.
  converse: {
    tools: true,
    images: (modelId) => /nemotron-nano-12b-v2/.test(modelId.toLowerCase()),
    documents: false,
    structured: false,
    extra: [],
    extraFields: [],
  },
};
