/**
 * What every target is asked, and what a correct answer looks like.
 *
 * One realistic ConverseStream reply for every request: `messageStart` (the role), 200 text deltas of 20
 * bytes each (4,000 bytes of text with a 3-byte em dash and a 4-byte emoji in every 100 bytes),
 * `contentBlockStop`, `messageStop`, `metadata` (usage) — 204 upstream events. The emulator derives the
 * reply from markers in the user text, so the same request bytes reach it from every target:
 * `[[emulator:repeat:40]]` repeats its 100-byte default reply (5 deltas of 20 bytes) 40 times, and
 * `[[emulator:frame-delay:10]]` paces the frames 10 ms apart (unpaced: each frame its own `write()`, as
 * fast as the socket takes them).
 *
 * Targets speak one of two protocols back to the load generator: `eventstream` (the emulator's own bytes:
 * direct, and the pass-through proxy) or `sse` (the sidecar and the peer gateway, OpenAI chunks).
 */
import { defaultReplyText } from '../../src/emulator/index.ts';
import { createCredentialSource } from '../../src/upstream/credentials.ts';
import { createSigner } from '../../src/upstream/signer.ts';

export const MODEL_ID = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
export const SIDECAR_ALIAS = 'claude';
/** The echoed sentence makes the default reply exactly 100 bytes, cut by the emulator into 5 × 20 bytes. */
const ECHO = 'Tell me about streaming proxies in a few words.';
export const DELTAS_PER_REPEAT = 5;
export const DELTA_BYTES = 20;
/** The normal reply: 40 × 5 = 200 deltas. */
export const STREAM_REPEAT = 40;
/** messageStart + contentBlockStop + messageStop + metadata around the deltas. */
export const NON_TEXT_EVENTS = 4;

export type Protocol = 'eventstream' | 'sse';

export interface Workload {
  /** Emulator frame delay, ms (0 = unpaced). */
  paceMs: number;
  repeat: number;
}

export function userText(w: Workload): string {
  const pace = w.paceMs > 0 ? ` [[emulator:frame-delay:${w.paceMs}]]` : '';
  return `[[emulator:repeat:${w.repeat}]]${pace} ${ECHO}`;
}

export function expectedText(w: Workload): string {
  return defaultReplyText(userText(w)).repeat(w.repeat);
}

/** Upstream event-stream frames one stream carries. */
export function upstreamEvents(w: Workload): number {
  return w.repeat * DELTAS_PER_REPEAT + NON_TEXT_EVENTS;
}

export interface RequestShape {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  protocol: Protocol;
}

/** The emulator's own ConverseStream request: what the direct target and the pass-through are sent. */
export function converseRequest(w: Workload): RequestShape {
  const path = `/model/${encodeURIComponent(MODEL_ID)}/converse-stream`;
  const body = { messages: [{ role: 'user', content: [{ text: userText(w) }] }], inferenceConfig: { maxTokens: 4096 } };
  return {
    path,
    headers: { 'content-type': 'application/json', accept: 'application/vnd.amazon.eventstream' },
    body: Buffer.from(JSON.stringify(body)),
    protocol: 'eventstream',
  };
}

/** The OpenAI request an app sends the sidecar (and the peer gateway, with its own headers and model). */
export function chatRequest(w: Workload, model = SIDECAR_ALIAS, headers: Record<string, string> = {}): RequestShape {
  const body = { model, messages: [{ role: 'user', content: userText(w) }], stream: true, max_tokens: 4096 };
  return {
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: Buffer.from(JSON.stringify(body)),
    protocol: 'sse',
  };
}

const signer = createSigner({
  credentials: createCredentialSource(async () => ({
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  })),
});

/**
 * The request signed with SigV4 for `origin`, as the app's AWS SDK would send it to Bedrock. The emulator
 * checks every signature it is sent (and spends ~0.3 ms doing it) even with verification off, and the
 * sidecar always signs: signing the direct and pass-through requests too keeps that upstream cost the
 * same for every target. One signature per point is enough (valid for 15 minutes).
 */
export async function signed(shape: RequestShape, origin: string): Promise<RequestShape> {
  const headers = await signer.sign(
    { method: 'POST', url: new URL(origin + shape.path), headers: shape.headers, body: shape.body },
    'us-east-1',
  );
  return { ...shape, headers };
}
