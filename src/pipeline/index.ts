/**
 * The five stages, built in one place:
 *
 *   bytes ─▶ event-stream decoder ─▶ normaliser ─▶ guardrail ─▶ re-chunker ─▶ encoder ─▶ bytes
 *
 * `createPipeline` builds them for one stream; the caller joins `stages` with `stream.pipeline` between
 * its source and its sink (src/server/stream-response.ts: Bedrock's body and the client's response; the
 * golden test: recorded bytes and a string). Everything that would make the output vary between two runs
 * is an option: the completion id and the clock reading (`created`) go into the surface's renderer, which
 * the encoder stage drives. How the input is
 * split shows in the output only through the re-chunker's release of held text: with `maxHoldMs: 0` each
 * upstream read's text goes out at the end of that read (docs/contract.md#rechunking), while a hold longer
 * than the stream releases text only when a chunk is full, a non-text event comes or the stream ends — then
 * the same bytes give the same output however they are cut.
 *
 * The stages are built with `emitClose: false`: `stream.pipeline` then sees each one done at its end and
 * finish, rather than waiting for a 'close' that comes a tick later — by then the response has finished and
 * the pipeline would build an ERR_STREAM_DESTROYED error (a stack trace) for every stage still open, on
 * every successful stream.
 *
 * With no output guard the guardrail stage would only pass batches on (and cut what follows an error,
 * which the encoder drops anyway), so it is left out: one stream hop less per upstream read.
 */
import type { Transform, TransformCallback } from 'node:stream';
import type { Route } from '../config/schema.ts';
import type { StreamMapper } from '../providers/types.ts';
import { EventStreamDecoder } from './event-stream-decoder.ts';
import type { StreamEvent } from './events.ts';
import { GuardrailStage, type OutputGuard } from './guardrail.ts';
import { BedrockEventNormalizer, NormalizerStage } from './normalizer.ts';
import { RechunkerStage } from './rechunker.ts';
import { EncoderStage, type EncoderStageOptions, type Renderer } from './encoder.ts';

export interface PipelineOptions {
  /** The Bedrock operation's stream shape: invoke `chunk` events or converse events. */
  route: Route;
  /** The family's mapper from its native events to internal events. */
  mapper: StreamMapper;
  guard: OutputGuard | undefined;
  chunkSizeBytes: number;
  /** Longest time held text waits for more before it is released; 0 = only a full chunk or the end releases it. */
  maxHoldMs: number;
  /** Whether text deltas are re-chunked (default true); false leaves the re-chunker out (native streams keep Bedrock's framing). */
  rechunk?: boolean;
  /** The surface's rendering of this stream (its completion id and clock reading injected where it is built). */
  renderer: Renderer;
  heartbeatMs: number;
  /** Sees every batch just before the encoder renders it (metrics, logs, ending the upstream on an error). */
  observe?: (batch: readonly StreamEvent[]) => void;
  /** Called once the model's answer is whole (its final event is in): the input may end there. */
  onComplete?: () => void;
}

export interface Pipeline {
  /** Stage 1: write upstream bytes (or a final `SidecarError`) here. */
  readonly decoder: EventStreamDecoder;
  /** Stage 5: the client's bytes come out here. */
  readonly encoder: EncoderStage;
  /** Every stage in order, decoder first, encoder last. */
  readonly stages: readonly Transform[];
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const decoder = new EventStreamDecoder();
  const normalizer = new NormalizerStage(new BedrockEventNormalizer(options.route, options.mapper), options.onComplete);
  const guard = options.guard ? new GuardrailStage(options.guard) : undefined;
  const rechunker =
    options.rechunk === false ? undefined : new RechunkerStage({ chunkSizeBytes: options.chunkSizeBytes, maxHoldMs: options.maxHoldMs });
  const stageOptions = { renderer: options.renderer, heartbeatMs: options.heartbeatMs };
  const encoder = options.observe ? new ObservedEncoderStage(stageOptions, options.observe) : new EncoderStage(stageOptions);
  const stages = [decoder, normalizer, ...(guard ? [guard] : []), ...(rechunker ? [rechunker] : []), encoder];
  return { decoder, encoder, stages };
}

/** The encoder stage with a look at each batch before it is rendered. */
class ObservedEncoderStage extends EncoderStage {
  constructor(
    options: EncoderStageOptions,
    private readonly observe: (batch: readonly StreamEvent[]) => void,
  ) {
    super(options);
  }

  override _transform(batch: readonly StreamEvent[], encoding: BufferEncoding, callback: TransformCallback): void {
    this.observe(batch);
    super._transform(batch, encoding, callback);
  }
}
