// InvokeModel / InvokeModelWithResponseStream (docs/bedrock-wire.md#endpoints-and-operations, #invoke-stream-events,
// #model-native-bodies). Input: a validated route + body. Output: the family-native JSON (non-stream, with the
// token-count headers) or an event stream of `chunk` frames, each `{"bytes":<base64 native event>,"p":<padding>}`,
// whose last native event carries `amazon-bedrock-invocationMetrics`.
// Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html
//         https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html
import { sendAwsError } from './aws-errors.ts';
import { INVALID_MODEL_ID, MALFORMED_INPUT, novaToolNameFault, rawBody, settleReply, type CallContext } from './call.ts';
import { planContextManagement } from './families/anthropic.ts';
import { INVOKE_FAMILIES, sniffFamily } from './families/index.ts';
import { isJson, type InvokeFamily, type Json } from './families/types.ts';
import { chunkPayload, eventFrame, padding } from './frames.ts';
import { embeddingModelOf, handleEmbedding } from './embeddings.ts';
import { familyOf } from './model-id.ts';
import { nativeGuardrail, type NativeGuard } from './native-guardrail.ts';
import { planFromReply, type OutputPlan } from './output.ts';
import { applyCacheUse, cachePointProblem, claudePoints, conversePoints } from './prompt-cache.ts';
import { writeStream } from './stream-writer.ts';

const GUARDRAIL_CONFIG_KEY = 'amazon-bedrock-guardrailConfig';

/**
 * The family whose body the model id names. For ids that name none (application inference profiles,
 * provisioned/imported models) the body decides: a family whose distinctive keys it has, else the first
 * family that accepts it whole.
 */
function chooseFamily(modelId: string, body: Json, stream: boolean): InvokeFamily | string {
  const name = familyOf(modelId);
  if (name === undefined) return INVALID_MODEL_ID;
  if (name !== 'any') return INVOKE_FAMILIES[name];
  const { [GUARDRAIL_CONFIG_KEY]: _cfg, ...native } = body;
  return (
    sniffFamily(native) ??
    Object.values(INVOKE_FAMILIES).find((f) => f.validate(native, { stream, modelId }) === undefined) ??
    MALFORMED_INPUT
  );
}

/** Checks the Bedrock-level guardrail inputs (docs/bedrock-wire.md#guardrails-inside-invoke); returns a message when they conflict. */
function guardrailProblem(call: CallContext, body: Json): string | undefined {
  const id = call.req.headers['x-amzn-bedrock-guardrailidentifier'];
  const version = call.req.headers['x-amzn-bedrock-guardrailversion'];
  if (GUARDRAIL_CONFIG_KEY in body) {
    if (!id)
      return `${GUARDRAIL_CONFIG_KEY} is present in the request body, but no guardrail identifier was provided in the request headers.`;
    const cfg = body[GUARDRAIL_CONFIG_KEY];
    const mode = isJson(cfg) ? cfg.streamProcessingMode : undefined;
    if (
      !isJson(cfg) ||
      Object.keys(cfg).some((k) => k !== 'streamProcessingMode' && k !== 'tagSuffix') ||
      (mode !== undefined && mode !== 'SYNCHRONOUS' && mode !== 'ASYNCHRONOUS')
    ) {
      return `Malformed input request: #/${GUARDRAIL_CONFIG_KEY}: invalid guardrail configuration, please reformat your input and try again.`;
    }
  }
  if (id && !version) return 'Guardrail version must be provided when a guardrail identifier is specified.';
  if (version && !id) return 'Guardrail identifier must be provided when a guardrail version is specified.';
  return undefined;
}

function metrics(call: CallContext, plan: OutputPlan, firstByteMs: number, cacheCounts: boolean): Json {
  const m: Json = {
    inputTokenCount: plan.usage.inputTokens,
    outputTokenCount: plan.usage.outputTokens,
    invocationLatency: Math.max(1, Date.now() - call.startMs),
    firstByteLatency: Math.max(0, firstByteMs - call.startMs),
  };
  if (plan.usage.cacheReadTokens !== undefined || cacheCounts) m.cacheReadInputTokenCount = plan.usage.cacheReadTokens ?? 0;
  if (plan.usage.cacheWriteTokens !== undefined || cacheCounts) m.cacheWriteInputTokenCount = plan.usage.cacheWriteTokens ?? 0;
  return m;
}

/** Bedrock-level members of the final chunk / non-stream body when a native guardrail is active. */
function guardrailMembers(guard: NativeGuard): Json {
  if (!guard.active) return {};
  const out: Json = { 'amazon-bedrock-guardrailAction': guard.hit ? 'INTERVENED' : 'NONE' };
  const trace = guard.invokeTrace();
  if (trace) out['amazon-bedrock-trace'] = trace;
  return out;
}

/** The native events, with invocation metrics (and guardrail action) merged into the last one. */
function* withMetrics(
  call: CallContext,
  plan: OutputPlan,
  guard: NativeGuard,
  events: Iterable<Json>,
  cacheCounts: boolean,
): Generator<Json> {
  let prev: Json | undefined;
  let firstByteMs = 0;
  for (const ev of events) {
    if (prev !== undefined) yield prev;
    else firstByteMs = Date.now();
    prev = ev;
  }
  if (prev !== undefined) {
    yield { ...prev, ...guardrailMembers(guard), 'amazon-bedrock-invocationMetrics': metrics(call, plan, firstByteMs, cacheCounts) };
  }
}

function* chunkFrames(call: CallContext, nativeEvents: Iterable<unknown>): Generator<Buffer> {
  for (const ev of nativeEvents) {
    const json = typeof ev === 'string' ? ev : JSON.stringify(ev);
    yield eventFrame('chunk', chunkPayload(json, padding(call.rand)));
  }
}

const TIER_HEADER = 'x-amzn-bedrock-service-tier';
const LATENCY_HEADER = 'x-amzn-bedrock-performanceconfig-latency';

/** The service-tier and latency request headers (API_runtime_InvokeModel): a 400 for a value Bedrock refuses. */
function servingProblem(call: CallContext): string | undefined {
  const tier = call.req.headers[TIER_HEADER];
  if (tier !== undefined && !['priority', 'default', 'flex', 'reserved'].includes(String(tier))) {
    return `1 validation error detected: Value '${String(tier)}' at 'serviceTier' failed to satisfy constraint: Member must satisfy enum value set: [priority, default, flex, reserved]`;
  }
  if (tier === 'reserved') return 'Reservation not found.';
  const latency = call.req.headers[LATENCY_HEADER];
  if (latency !== undefined && latency !== 'standard' && latency !== 'optimized') {
    return `1 validation error detected: Value '${String(latency)}' at 'performanceConfigLatency' failed to satisfy constraint: Member must satisfy enum value set: [standard, optimized]`;
  }
  return undefined;
}

/** Response headers saying what served the call, as the SDK's InvokeModel output reads them. */
function servedHeaders(call: CallContext): Record<string, string> {
  const out: Record<string, string> = {};
  const tier = call.req.headers[TIER_HEADER];
  if (typeof tier === 'string') out['X-Amzn-Bedrock-Service-Tier'] = tier;
  const latency = call.req.headers[LATENCY_HEADER];
  if (typeof latency === 'string') out['X-Amzn-Bedrock-PerformanceConfig-Latency'] = latency;
  return out;
}

function startStream(call: CallContext): void {
  call.record.status = 200;
  call.res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    'x-amzn-bedrock-content-type': 'application/json',
    'x-amzn-RequestId': call.requestId,
    ...servedHeaders(call),
  });
  call.res.flushHeaders();
}

export async function handleInvoke(call: CallContext, stream: boolean): Promise<void> {
  const embedding = embeddingModelOf(call.modelId);
  if (embedding) return handleEmbedding(call, embedding, stream);
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.body.toString('utf8'));
  } catch {
    return call.validationError(MALFORMED_INPUT);
  }
  if (!isJson(parsed)) return call.validationError(MALFORMED_INPUT);
  const family = chooseFamily(call.modelId, parsed, stream);
  if (typeof family === 'string') return call.validationError(family);
  const guardProblem = guardrailProblem(call, parsed);
  if (guardProblem) return call.validationError(guardProblem);
  const { [GUARDRAIL_CONFIG_KEY]: _guardrailConfig, ...nativeBody } = parsed;
  const problem = family.validate(nativeBody, { stream, modelId: call.modelId });
  if (problem) return call.validationError(problem);
  const serving = servingProblem(call);
  if (serving) return call.validationError(serving);
  const cacheParts = family.name === 'anthropic' ? claudePoints(nativeBody) : family.name === 'nova' ? conversePoints(nativeBody) : [];
  const cacheProblem = cachePointProblem(call.modelId, cacheParts);
  if (cacheProblem) return call.validationError(cacheProblem);

  const reply = await settleReply(call, call.nextReply(family.lastUserText(nativeBody)));
  if (!reply || novaToolNameFault(call, reply)) return;
  const frameDelayMs = reply.frameDelayMs ?? call.frameDelayMs;

  if (reply.type === 'raw') {
    if (stream) {
      startStream(call);
      return writeStream(call.res, call.tracker, chunkFrames(call, reply.events ?? []), {
        frameDelayMs,
        fault: reply.fault,
        pause: reply.pause,
      });
    }
    const body = rawBody(reply);
    call.record.status = reply.status ?? 200;
    call.res.writeHead(call.record.status, {
      'content-type': 'application/json',
      'content-length': body.length,
      'x-amzn-RequestId': call.requestId,
      ...reply.headers,
    });
    call.res.end(body);
    return;
  }

  if (reply.type === 'tool_use' && !family.supportsTools) {
    call.record.status = 500;
    sendAwsError(
      call.res,
      call.requestId,
      500,
      'InternalServerException',
      `emulator: the ${family.name} family has no native tool calls; script a text reply for this model`,
    );
    return;
  }
  const plan = planFromReply(reply, call.body.length, call.seq);
  const compactionProblem = family.name === 'anthropic' ? planContextManagement(plan, nativeBody) : undefined;
  if (compactionProblem) {
    call.record.status = 500;
    sendAwsError(call.res, call.requestId, 500, 'InternalServerException', compactionProblem);
    return;
  }
  applyCacheUse(plan, call.promptCache.use(call.modelId, cacheParts));
  const guard = nativeGuardrail(call, undefined);
  if (stream) {
    guard.guardStream(plan);
    startStream(call);
    const events = withMetrics(call, plan, guard, family.streamEvents(plan, call.render), family.cacheCounts === true);
    return writeStream(call.res, call.tracker, chunkFrames(call, events), { frameDelayMs, fault: reply.fault, pause: reply.pause });
  }
  guard.guardWhole(plan);
  const body = Buffer.from(JSON.stringify({ ...family.response(plan, call.render), ...guardrailMembers(guard) }), 'utf8');
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-amzn-RequestId': call.requestId,
    'X-Amzn-Bedrock-Input-Token-Count': plan.usage.inputTokens,
    'X-Amzn-Bedrock-Output-Token-Count': plan.usage.outputTokens,
    'X-Amzn-Bedrock-Invocation-Latency': Math.max(1, Date.now() - call.startMs),
    ...servedHeaders(call),
  };
  if (plan.usage.cacheReadTokens !== undefined) headers['X-Amzn-Bedrock-Cache-Read-Input-Token-Count'] = plan.usage.cacheReadTokens;
  if (plan.usage.cacheWriteTokens !== undefined) headers['X-Amzn-Bedrock-Cache-Write-Input-Token-Count'] = plan.usage.cacheWriteTokens;
  call.record.status = 200;
  call.res.writeHead(200, headers);
  call.res.end(body);
}
