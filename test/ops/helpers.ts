/**
 * What the observability tests share on top of test/helpers/harness.ts (which starts the sidecar and the
 * emulator and captures every log line): a chat call read whole, the SSE chunks, a wait for a log line.
 */
import { chat as sendChat, sseData, type Harness } from '../helpers/harness.ts';

export const CLAUDE = 'bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0';

/** test/helpers/harness.ts `chat`, read whole: status, body text and request id. */
export async function chat(
  r: Harness,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; requestId: string | null }> {
  const res = await sendChat(r, body, headers);
  return { status: res.status, text: await res.text(), requestId: res.headers.get('x-request-id') };
}

/** The `data: {…}` payloads of an SSE body (the final `[DONE]` excluded), through the suite's one SSE reader. */
export function sseChunks(text: string): Array<Record<string, unknown>> {
  return sseData(text)
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as Record<string, unknown>);
}

/** Waits until `predicate` holds (log lines are written asynchronously to the request's end). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
