/**
 * Bedrock's CountTokens behind a surface's count endpoint (docs/contract.md#anthropic-messages,
 * docs/contract.md#bedrock-native, docs/bedrock-wire.md#count-tokens), written once for the Messages surface's
 * `/v1/messages/count_tokens` and the native `/model/{modelId}/count-tokens`: the surface reads its request
 * into the model it names and Bedrock's CountTokens `input` (checked as its model call would check it); this
 * resolves the model, sends `{"input": …}` signed by the sidecar, reads Bedrock's `{"inputTokens":N}` and
 * answers in the surface's shape. A model Bedrock cannot count for answers Bedrock's own error: never an
 * estimate passed off as a count. One log line and the request metrics, labelled with the surface. The
 * body, and then Bedrock's answer, are held within the byte budget in flight (`server.max_inflight_bytes`):
 * beyond it a 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SidecarError } from '../errors.ts';
import type { ModelTarget } from '../models/resolve.ts';
import { inspectModelId } from '../models/route.ts';
import type { Logger } from '../ops/logger.ts';
import { readJsonBody } from '../server/body.ts';
import { shedLabel } from '../server/budget.ts';
import { stopAtDrainDeadline } from '../server/drain-deadline.ts';
import type { Generation, ServerContext } from '../server/context.ts';
import { answerFailure, sendJson, type ErrorShape } from '../server/respond.ts';
import type { SurfaceName } from '../server/surface.ts';
import { readBody } from '../upstream/client.ts';
import { encodeModelPath } from '../upstream/signer.ts';

const MAX_ANSWER_BYTES = 1024 * 1024;

/** One count request as the surface read it. */
export interface CountRequest {
  /** The model as the client named it (an alias, a route string, a model id). */
  model: string;
  /** Bedrock's CountTokens `input` for the resolved target (`{invokeModel: {body}}` or `{converse: …}`); throws to refuse. */
  input(target: ModelTarget): Record<string, unknown>;
}

export interface CountSurface extends ErrorShape {
  name: SurfaceName;
  /** The `operation` of the log line. */
  operation: string;
  /** The client's JSON (already parsed) → what to count; throws a SidecarError naming the fault. */
  read(body: unknown, req: IncomingMessage, scope: { generation: Generation; log: Logger }): CountRequest;
  /** The answer's body for Bedrock's count. */
  answer(inputTokens: number): unknown;
}

export async function serveCountTokens(
  surface: CountSurface,
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const log = ctx.log.child({ requestId });
  const started = ctx.now();
  const generation = ctx.generation();
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  let target: ModelTarget | undefined;
  let status = 0;
  let inputTokens: number | null = null;
  let failure: SidecarError | undefined;
  // The body counts against the process's byte budget like a model call's (server/budget.ts).
  const reservation = ctx.budget.reserve();
  const drain = stopAtDrainDeadline(ctx.drainDeadline, res, abort);
  try {
    const body = await readJsonBody(req, generation.config.server.maxBodyBytes, reservation);
    const read = surface.read(body, req, { generation, log });
    target = generation.models.resolve(read.model);
    const input = read.input(target);
    const upstream = await generation.client.call({
      endpoint: target.endpoint,
      region: target.region,
      apiKey: target.apiKey,
      path: encodeModelPath(countedModelId(target.modelId), 'count-tokens'),
      body: Buffer.from(JSON.stringify({ input })),
      accept: 'application/json',
      signal: abort.signal,
      surface: surface.name,
    });
    // Bedrock's answer is read within the same budget as every other call's (server/budget.ts).
    const { text, overflow } = await readBody(upstream.body, MAX_ANSWER_BYTES, (bytes) =>
      reservation.take(bytes, 'buffered Bedrock answers'),
    );
    let count: unknown;
    try {
      count = overflow ? undefined : (JSON.parse(text) as { inputTokens?: unknown } | null)?.inputTokens;
    } catch {
      count = undefined;
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new SidecarError(
        'upstream_protocol_error',
        `Bedrock's CountTokens answered without an inputTokens count: ${text.slice(0, 200)}`,
      );
    }
    inputTokens = count;
    status = 200;
    sendJson(res, 200, surface.answer(count));
  } catch (error) {
    const outcome = { status, error: failure, retries: 0 };
    answerFailure(res, drain.error ?? error, outcome, surface, log);
    ({ status, error: failure } = outcome);
  } finally {
    drain.release();
    reservation.release();
    res.off('close', onClose);
    const shed = shedLabel(failure);
    if (shed) ctx.metrics.shed.inc({ what: shed });
    const durationMs = ctx.now() - started;
    const alias = target?.alias?.name ?? null;
    const labels = { model: alias ?? (target ? 'direct' : 'unknown'), route: target?.route ?? 'none', surface: surface.name };
    ctx.metrics.requests.inc({ ...labels, status: String(status) });
    ctx.metrics.duration.observe(labels, durationMs / 1000);
    log.info(
      {
        surface: surface.name,
        operation: surface.operation,
        alias,
        modelId: target?.modelId ?? null,
        route: target?.route ?? null,
        servedBy: alias,
        status,
        ttfbMs: null,
        durationMs,
        chunks: 0,
        inputTokens,
        outputTokens: null,
        guardrail: 'none',
        retries: 0,
        cancelled: status === 499,
        error: failure ? { type: failure.type, message: failure.message, upstream: failure.upstreamCode } : null,
      },
      'request completed',
    );
  }
}

/**
 * The model id CountTokens is asked with: the base model id of a cross-region inference profile (`us.…`,
 * `global.…`, or the ARN of one), which Bedrock's CountTokens refuses ("The provided model doesn't support
 * counting tokens") though the model behind it counts by its bare id (measured in us-east-1 and us-west-2,
 * 2026-08, on Claude Sonnet 4.6 and every `us.anthropic.*` profile probed). The call's region and signature
 * stay the alias's. Any other id (a bare id, an application inference profile) goes as it is.
 */
export function countedModelId(modelId: string): string {
  const info = inspectModelId(modelId);
  return info.geography !== undefined && info.baseModelId !== undefined ? info.baseModelId : modelId;
}
