/**
 * End-to-end rig for guardrail tests: the Bedrock emulator and the sidecar in-process on 127.0.0.1:0, a
 * JSON log sink, and SSE helpers that check the framing as they parse.
 */
import type { EmulatorOptions, RecordedRequest } from '../../src/emulator/index.ts';
import { chat as sendChat, parseStream, startHarness, type Harness } from '../helpers/harness.ts';

export const CLAUDE = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

/** The exact ending of a stream blocked by `name` (docs/contract.md#guardrails). */
export function blockEnding(name: string): string {
  return `data: {"error":{"message":"Violated guardrail policy","type":"guardrail_violation","code":400,"guardrail":"${name}"}}\n\ndata: [DONE]\n\n`;
}

/** The in-process emulator + sidecar of test/helpers/harness.ts. */
export type Rig = Harness;

export interface RigOptions {
  guardrails: Array<Record<string, unknown>>;
  /** Guardrails attached to both aliases (`claude-invoke`, `claude-converse`). */
  attach?: string[];
  emulator?: EmulatorOptions;
  logging?: Record<string, unknown>;
  upstream?: Record<string, unknown>;
}

export async function startRig(options: RigOptions): Promise<Rig> {
  const attach = options.attach ?? [];
  return startHarness(
    {
      logging: { level: 'info', ...options.logging },
      upstream: { max_attempts: 1, ...options.upstream },
      guardrails: options.guardrails,
      models: [
        { name: 'claude-invoke', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1', guardrails: attach },
        { name: 'claude-converse', model: `bedrock/converse/${CLAUDE}`, region: 'us-east-1', guardrails: attach },
        { name: 'claude-bare', model: `bedrock/invoke/${CLAUDE}`, region: 'us-east-1' },
      ],
    },
    options.emulator ? { emulator: options.emulator } : {},
  );
}

/** test/helpers/harness.ts `chat` with this rig's defaults (alias claude-invoke, one user message). */
export function chat(rig: Rig, body: Record<string, unknown>): Promise<Response> {
  return sendChat(rig, { model: 'claude-invoke', messages: [{ role: 'user', content: 'hello' }], ...body });
}

export interface Streamed {
  status: number;
  raw: string;
  /** `data:` payloads in order (`[DONE]` included), comments dropped. */
  frames: string[];
  /** Concatenated `delta.content`. */
  content: string;
  reasoning: string;
  toolArguments: string;
  error: Record<string, unknown> | undefined;
  finish: string | null;
}

export async function stream(rig: Rig, body: Record<string, unknown>): Promise<Streamed> {
  const res = await chat(rig, { stream: true, ...body });
  const raw = await res.text();
  if (res.status !== 200)
    return { status: res.status, raw, frames: [], content: '', reasoning: '', toolArguments: '', error: undefined, finish: null };
  return { status: res.status, raw, ...parseSse(raw) };
}

export function parseSse(raw: string): Omit<Streamed, 'status' | 'raw'> {
  const { frames, text, reasoning, toolArguments, error, finish } = parseStream(raw);
  return { frames, content: text, reasoning, toolArguments, error, finish };
}

const MODEL_OPERATIONS = new Set(['InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream']);

export function modelCalls(rig: Rig): RecordedRequest[] {
  return rig.emu.requests.filter((r) => MODEL_OPERATIONS.has(r.operation));
}

export function guardrailCalls(rig: Rig): RecordedRequest[] {
  return rig.emu.requests.filter((r) => r.operation === 'ApplyGuardrail');
}

/** The texts an ApplyGuardrail call was asked to judge. */
export function judgedTexts(request: RecordedRequest): string[] {
  const body = request.json as { content: Array<{ text: { text: string } }> };
  return body.content.map((c) => c.text.text);
}

/** Resolves when the upstream model call finished; its `clientAborted` says whether the sidecar cut it. */
export async function upstreamDone(rig: Rig): Promise<{ clientAborted: boolean; framesWritten: number }> {
  const calls = modelCalls(rig);
  if (calls.length !== 1) throw new Error(`expected one model call, got ${calls.length}`);
  return withTimeout(calls[0]!.done, 5_000, 'the upstream model call never ended (not aborted?)');
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A long reply with `term` after `before` characters: long enough that upstream is still sending when cut. */
export function longReply(before: number, term: string, after = 200_000): { type: 'text'; text: string; frameDelayMs: number } {
  const filler = (n: number): string => 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(n / 45)).slice(0, n);
  return { type: 'text', text: `${filler(before)}${term}${filler(after)}`, frameDelayMs: 1 };
}

export async function metricsText(rig: Rig): Promise<string> {
  return (await fetch(`${rig.adminUrl}/metrics`)).text();
}

export function requestLog(rig: Rig): Record<string, unknown> | undefined {
  return rig.logs.filter((l) => l.msg === 'request completed').at(-1);
}
