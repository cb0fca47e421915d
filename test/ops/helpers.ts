/**
 * The sidecar and the emulator in-process on 127.0.0.1:0, with every log line captured as parsed JSON
 * through a sink (as pino's own tests do), for the observability tests.
 */
import { Writable } from 'node:stream';
import { TEST_CREDENTIALS } from '../helpers/credentials.ts';
import { chat as sendChat, sseData } from '../helpers/harness.ts';
import { App, type AppOptions } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import { startEmulator, type Emulator, type EmulatorCredential } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/ops/logger.ts';

export const CLAUDE = 'bedrock/invoke/anthropic.claude-3-haiku-20240307-v1:0';

export interface Running {
  app: App;
  emu: Emulator;
  url: string;
  admin: string;
  /** Every log line, parsed. A line that is not JSON fails the write (and so the test). */
  lines: Array<Record<string, unknown>>;
  /** The same lines as written, for "no secret appears anywhere" checks. */
  raw: string[];
  close(): Promise<void>;
}

export async function startSidecar(
  config: Record<string, unknown>,
  options: { credentials?: EmulatorCredential; app?: Partial<AppOptions> } = {},
): Promise<Running> {
  const credentials = options.credentials ?? { ...TEST_CREDENTIALS };
  const emu = await startEmulator({ quiet: true, credentials: [credentials] });
  const validated = validateConfig({ ...config, server: { port: 0, admin_port: 0, ...(config.server as object | undefined) } });
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  let pending = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      let nl;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        raw.push(line);
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch (error) {
          callback(new Error(`a log line is not JSON: ${line} (${(error as Error).message})`));
          return;
        }
      }
      callback();
    },
  });
  const app = new App({
    config: validated,
    env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AWS_REGION: 'us-east-1' },
    credentials: async () => ({ ...credentials }),
    logger: createLogger(validated.logging.level, sink),
    random: () => 0,
    ...options.app,
  });
  const { proxy, admin } = await app.start();
  for (let i = 0; i < 200 && !app.ready; i++) await new Promise((r) => setTimeout(r, 5));
  return {
    app, emu, lines, raw,
    url: `http://127.0.0.1:${proxy.port}`,
    admin: `http://127.0.0.1:${admin.port}`,
    async close() {
      await app.close();
      await emu.close();
    },
  };
}

/** test/helpers/harness.ts `chat`, read whole: status, body text and request id. */
export async function chat(r: Running, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; text: string; requestId: string | null }> {
  const res = await sendChat(r, body, headers);
  return { status: res.status, text: await res.text(), requestId: res.headers.get('x-request-id') };
}

/** The `data: {…}` payloads of an SSE body (the final `[DONE]` excluded), through the suite's one SSE reader. */
export function sseChunks(text: string): Array<Record<string, unknown>> {
  return sseData(text).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, unknown>);
}

/** Waits until `predicate` holds (log lines are written asynchronously to the request's end). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
