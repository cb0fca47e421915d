// CountTokens (docs/bedrock-wire.md#endpoints-and-operations): `{"input":{"invokeModel":{"body":"<base64>"}}}` or
// `{"input":{"converse":{"messages":[…],"system":[…]}}}` → `{"inputTokens":n}`, counted with the same
// estimate the emulator reports as usage (one token per 4 UTF-8 bytes of the body, at least 1).
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html
import { MALFORMED_INPUT, type CallContext } from './call.ts';
import { isJson } from './families/types.ts';
import { estimateTokens } from './output.ts';

export async function handleCountTokens(call: CallContext): Promise<void> {
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
