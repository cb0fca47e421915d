// Path routing (docs/bedrock-wire.md#endpoints-and-operations, #model-ids-in-the-path rule 3): split the RAW path on
// `/` first, then percent-decode each segment, so `%2F` inside a model id stays inside its segment and both `%3A` and a
// literal `:` work.
import type { Operation } from './types.ts';

export interface Route {
  operation: Operation;
  modelId?: string;
  guardrailId?: string;
  guardrailVersion?: string;
}

const MODEL_OPS: Record<string, Operation> = {
  invoke: 'InvokeModel',
  'invoke-with-response-stream': 'InvokeModelWithResponseStream',
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
  'count-tokens': 'CountTokens',
};

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

export function route(method: string, rawPath: string): Route {
  const unknown: Route = { operation: 'unknown' };
  if (method !== 'POST') return unknown;
  const segs = rawPath.split('/');
  if (segs[0] !== '') return unknown;
  if (segs.length === 4 && segs[1] === 'model') {
    const op = Object.hasOwn(MODEL_OPS, segs[3]!) ? MODEL_OPS[segs[3]!] : undefined;
    const modelId = decode(segs[2]!);
    if (!op || !modelId) return unknown;
    return { operation: op, modelId };
  }
  if (segs.length === 6 && segs[1] === 'guardrail' && segs[3] === 'version' && segs[5] === 'apply') {
    const guardrailId = decode(segs[2]!);
    const guardrailVersion = decode(segs[4]!);
    if (!guardrailId || !guardrailVersion) return unknown;
    return { operation: 'ApplyGuardrail', guardrailId, guardrailVersion };
  }
  return unknown;
}
