/**
 * The model a native path names (docs/contract.md#bedrock-native): `/model/{modelId}/{operation}` with the id
 * percent-encoded as the AWS SDK and Claude Code send it (an ARN's `/` as `%2F`; a literal `/` is taken too).
 * The id is an alias name; or the Bedrock model id, inference-profile id or ARN an alias is configured with
 * (the first such alias, its guardrails included); or, with `routing.allow_direct_models`, any Bedrock id,
 * on the route its operation implies. Otherwise it stays as given and the registry answers it is unknown.
 */
import type { SidecarConfig } from '../../config/schema.ts';
import type { ModelRegistry } from '../../models/resolve.ts';
import { SidecarError } from '../../errors.ts';

export type NativeOperation = 'converse' | 'converse-stream' | 'invoke' | 'invoke-with-response-stream' | 'count-tokens';

const MAX_ID_CHARS = 2048;

/** The decoded model id and operation of a native path. */
export function parseModelPath(url: string): { modelId: string; operation: string } {
  const path = url.split('?')[0]!;
  const last = path.lastIndexOf('/');
  const raw = path.slice('/model/'.length, last);
  let modelId: string;
  try {
    modelId = decodeURIComponent(raw);
  } catch {
    throw new SidecarError('invalid_request_error', `the model id in the path is not valid percent-encoding: ${raw}`, { param: 'modelId' });
  }
  if (modelId === '' || modelId.length > MAX_ID_CHARS || [...modelId].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new SidecarError(
      'invalid_request_error',
      `1 validation error detected: Value at 'modelId' failed to satisfy constraint: a model id of 1 to ${MAX_ID_CHARS} printable characters`,
      { param: 'modelId' },
    );
  }
  return { modelId, operation: path.slice(last + 1) };
}

export function modelNameFor(
  modelId: string,
  operation: NativeOperation,
  { config, models }: { config: SidecarConfig; models: ModelRegistry },
): string {
  const targets = models.list();
  if (targets.some((t) => t.name === modelId)) return modelId;
  const byId = targets.find((t) => t.modelId === modelId);
  if (byId) return byId.name;
  if (!config.routing.allowDirectModels || modelId.startsWith('bedrock/')) return modelId;
  return `bedrock/${operation.startsWith('invoke') ? 'invoke' : 'converse'}/${modelId}`;
}
