// CountTokens (docs/bedrock-wire.md#endpoints-and-operations): `{"input":{"invokeModel":{"body":"<base64>"}}}` or
// `{"input":{"converse":{"messages":[…],"system":[…]}}}` → `{"inputTokens":n}`, counted with the same
// estimate the emulator reports as usage (one token per 4 UTF-8 bytes of the body, at least 1).
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html
import { MALFORMED_INPUT, type CallContext } from './call.ts';
import { baseModelId } from './model-id.ts';
import { isJson } from './families/types.ts';
import { estimateTokens } from './output.ts';

/**
 * Bedrock counts by bare foundation-model id only, and not for Claude from Opus 4.7 on: a cross-region profile
 * (`us.anthropic.claude-sonnet-4-6`, its ARN) and `anthropic.claude-opus-4-7`, `-4-8`, `claude-sonnet-5`,
 * `claude-opus-5`, `claude-fable-5` answer "The provided model doesn't support counting tokens" (measurements of
 * 2026-07 to 2026-09 in us-east-1, us-west-2 and ap-northeast-2, quoted in public design notes and runbooks).
 */
function countsTokens(modelId: string): boolean {
  const last = modelId.split('/').pop() ?? modelId;
  if (baseModelId(modelId) !== last) return false; // a geography prefix: a cross-region inference profile
  const claude = /anthropic\.claude-(?:(opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?|(fable|mythos))/.exec(last);
  if (!claude) return true;
  if (claude[4]) return false;
  const major = Number(claude[2]);
  return major < 4 || (major === 4 && Number(claude[3] ?? 0) < 7);
}

export async function handleCountTokens(call: CallContext): Promise<void> {
  if (!countsTokens(call.modelId)) return call.validationError("The provided model doesn't support counting tokens");
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.body.toString('utf8'));
  } catch {
    return call.validationError(MALFORMED_INPUT);
  }
  const input = isJson(parsed) ? parsed.input : undefined;
  let bytes: number;
  if (isJson(input) && isJson(input.invokeModel) && typeof input.invokeModel.body === 'string' && Object.keys(input).length === 1) {
    bytes = Buffer.from(input.invokeModel.body, 'base64').length;
  } else if (isJson(input) && isJson(input.converse) && Object.keys(input).length === 1) {
    bytes = Buffer.byteLength(JSON.stringify(input.converse), 'utf8');
  } else {
    return call.validationError(
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have exactly one of invokeModel, converse set",
    );
  }
  const body = JSON.stringify({ inputTokens: estimateTokens(bytes) });
  call.record.status = 200;
  call.res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': call.requestId,
  });
  call.res.end(body);
}
