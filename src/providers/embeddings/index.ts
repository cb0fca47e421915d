/**
 * The embedding families: a model id (or, for an opaque ARN, the alias's `provider:`) → the
 * `EmbeddingModel` that knows its body, its limits and its answer. docs/contract.md#embeddings.
 */
import type { ModelAliasConfig } from '../../config/schema.ts';
import { inspectModelId, isEmbeddingFamily, parseRoute, type EmbeddingFamily, type Family } from '../../models/route.ts';
import type { AliasProblem, ModelTarget } from '../../models/resolve.ts';
import { FAMILY_SPECS } from '../families.ts';
import type { EmbeddingFamilySpec } from '../types.ts';
import type { EmbeddingModel } from './types.ts';

export type { EmbeddingAnswer, EmbeddingModel, EmbeddingOptions, InputType } from './types.ts';
export { INPUT_TYPES } from './types.ts';

/** The model an embedding family serves for `modelId` (a base id, profile id or ARN). */
export function embeddingModel(family: EmbeddingFamily, modelId: string): EmbeddingModel {
  // An opaque ARN (application inference profile) names no model: its family's newest generation.
  const base = inspectModelId(modelId).baseModelId ?? '';
  return SPECS.get(family)!.model(base);
}

const SPECS: ReadonlyMap<string, EmbeddingFamilySpec> = new Map(
  FAMILY_SPECS.flatMap((spec) => (spec.kind === 'embedding' ? [[spec.family, spec] as const] : [])),
);

export function embeddingModelOf(target: ModelTarget): EmbeddingModel | undefined {
  return isEmbeddingFamily(target.family) ? embeddingModel(target.family, target.modelId) : undefined;
}

/** Lists sizes as prose: "256, 512 or 1024". */
export function describeSizes(sizes: readonly number[]): string {
  return sizes.length === 1 ? String(sizes[0]) : `${sizes.slice(0, -1).join(', ')} or ${sizes[sizes.length - 1]}`;
}

/**
 * The alias keys that only make sense for (or never for) an embedding model, checked when the config
 * loads: `embedding:` on a chat model, a size or purpose the model cannot take, and
 * `additional_model_request_fields` (embedding bodies have no extras channel).
 */
export function checkEmbeddingAlias(family: Family | undefined, alias: ModelAliasConfig): AliasProblem | undefined {
  if (!isEmbeddingFamily(family)) {
    if (alias.embedding === undefined) return undefined;
    return { path: ['embedding'], message: `only applies to embedding models, not the ${family ?? 'unknown'} family` };
  }
  if (alias.additionalModelRequestFields !== undefined) {
    return { path: ['additional_model_request_fields'], message: 'does not apply to an embedding model (its body has no extra fields)' };
  }
  const model = embeddingModel(family, parseRoute(alias.model).modelId);
  const dimensions = alias.embedding?.dimensions;
  if (dimensions !== undefined && !model.dimensions.includes(dimensions)) {
    return {
      path: ['embedding', 'dimensions'],
      message: `${model.label} gives ${describeSizes(model.dimensions)} dimensions, not ${dimensions}`,
    };
  }
  if (alias.embedding?.inputType !== undefined && !model.takesInputType) {
    return { path: ['embedding', 'input_type'], message: `${model.label} takes no input type` };
  }
  return undefined;
}
