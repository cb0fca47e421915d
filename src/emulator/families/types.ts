// The narrow interface every invoke-route family implements: validate a native request body, find the
// last user text (for the default reply and markers), and render an OutputPlan as the family's native
// non-stream JSON and stream events. Invocation metrics and framing are added by invoke.ts, not here.
import type { FamilyName } from '../model-id.ts';
import type { OutputPlan } from '../output.ts';

export type Json = Record<string, unknown>;

export interface RenderContext {
  /** The model id as requested (percent-decoded). */
  modelId: string;
  /** Deterministic id generator (`prefix` + counter-derived suffix). */
  newId(prefix: string): string;
}

export interface ValidateContext {
  stream: boolean;
  modelId: string;
}

export interface InvokeFamily {
  readonly name: FamilyName;
  /** ValidationException message for a bad body, or undefined when the body is acceptable. */
  validate(body: unknown, ctx: ValidateContext): string | undefined;
  /** Whether the family has native tool calls (a scripted tool_use reply is refused otherwise). */
  readonly supportsTools: boolean;
  /** Top-level keys of the native body (Converse checks `additionalModelRequestFields` against them). */
  readonly topLevelKeys: readonly string[];
  /** Keys Converse's `additionalModelRequestFields` take besides `topLevelKeys`, where the model's Converse shape differs. */
  readonly converseExtraKeys?: readonly string[];
  /** The family's own wording for an unexpected top-level key. */
  extraKeyMessage(key: string): string;
  /** Whether a body looks like this family's (used for application-inference-profile ARNs). */
  sniff(body: Json): boolean;
  lastUserText(body: Json): string;
  response(plan: OutputPlan, ctx: RenderContext): Json;
  /** Whether the stream's invocation metrics always carry the cache counts, 0 when nothing was cached (Nova). */
  readonly cacheCounts?: boolean;
  /** Native stream events in order; the last one is the terminal event (it receives invocation metrics). */
  streamEvents(plan: OutputPlan, ctx: RenderContext): Iterable<Json>;
}

export function isJson(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
