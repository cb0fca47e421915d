/**
 * Test harness: the suite's one way to run the sidecar in-process — with the emulator, both on
 * 127.0.0.1:0, every log line captured as parsed JSON through a sink (as pino's own tests do) — plus the
 * one Chat Completions client and the one SSE reader. (The sidecar as its own process:
 * sidecar-process.ts.)
 */
import { Writable } from 'node:stream';
import type { EmulatorCredential, EmulatorOptions } from '../../src/emulator/index.ts';
import { App, type AppOptions } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/ops/logger.ts';

import { TEST_CREDENTIALS } from './credentials.ts';
import { startTestEmulator, type Emulator } from './emulator.ts';

export { TEST_CREDENTIALS };

export const CLAUDE_INVOKE = {
  name: 'claude-invoke',
  model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0',
  region: 'us-east-1',
};

export interface Harness {
  emu: Emulator;
  app: App;
  url: string;
  adminUrl: string;
  /** Every log line, parsed. A line that is not JSON fails the write (and so the test). */
  logs: Array<Record<string, unknown>>;
  /** The same lines as written, for "no secret appears anywhere" checks. */
  raw: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The sidecar's environment, beyond the emulator's endpoint and AWS_REGION. */
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** The pod's AWS identity (default TEST_CREDENTIALS); the emulator then accepts exactly it. */
  credentials?: EmulatorCredential;
  /** App options over the harness's own (process metrics off, no jitter). */
  app?: Partial<AppOptions>;
}

/** A sink that parses each log line as JSON into `logs` (and keeps it as written in `raw`). */
function logSink(logs: Array<Record<string, unknown>>, raw: string[]): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      let nl;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === '') continue;
        raw.push(line);
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch (error) {
          callback(new Error(`a log line is not JSON: ${line} (${(error as Error).message})`));
          return;
        }
      }
      callback();
    },
  });
}

/**
 * Starts emulator + sidecar. `config` is sidecar.yaml as an object: ports default to 0, models to one
 * Claude alias (`claude-invoke`), the log level to debug. Resolves once the sidecar is ready.
 */
export async function startHarness(config: Record<string, unknown> = {}, options: HarnessOptions = {}): Promise<Harness> {
  // Idle keep-alive connections are kept a minute, not 5 s: client and sidecar share this process, and a
  // process starved for 5 s on a loaded machine resumed with the sidecar's keep-alive timer firing on a
  // connection whose next request was already on its way (ECONNRESET in the client). Tests of the setting
  // itself run the real process (test/e2e/connections.test.ts).
  const server = { port: 0, admin_port: 0, keep_alive_timeout_ms: 60_000, ...(config.server as object | undefined) };
  // Validated before anything listens: a config error must leave no server open behind it.
  const validated = validateConfig({
    models: [CLAUDE_INVOKE],
    ...config,
    server,
    logging: { level: 'debug', ...(config.logging as object | undefined) },
  });
  const credentials = options.credentials ?? TEST_CREDENTIALS;
  const emu = await startTestEmulator({ ...(options.credentials ? { credentials: [options.credentials] } : {}), ...options.emulator });
  const logs: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  let app: App;
  try {
    app = new App({
      config: validated,
      env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AWS_REGION: 'us-east-1', ...options.env },
      credentials: async () => ({ ...credentials }),
      logger: createLogger(validated.logging.level, logSink(logs, raw)),
      processMetrics: false,
      random: () => 0,
      ...options.app,
    });
  } catch (error) {
    await emu.close();
    throw error;
  }
  const { proxy, admin } = await app.start().catch(async (error: unknown) => {
    await app.close();
    await emu.close();
    throw error;
  });
  // Ready once the credentials resolved (at once here); /readyz answers 503 until then.
  for (let i = 0; i < 200 && !app.ready; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    emu,
    app,
    logs,
    raw,
    url: `http://127.0.0.1:${proxy.port}`,
    adminUrl: `http://127.0.0.1:${admin.port}`,
    async close() {
      await app.close();
      await emu.close();
    },
  };
}

/** Runs `run` with a fresh emulator + sidecar, closing both whatever happens. */
export async function withHarness(
  config: Record<string, unknown>,
  run: (h: Harness) => Promise<void>,
  env?: Record<string, string>,
): Promise<void> {
  const h = await startHarness(config, env ? { env } : {});
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

/**
 * Runs `run` with a sidecar whose aliases may reach a second region: `west`, an emulator of its own, is the
 * endpoint `config(west.url)` gives a fallback alias (the harness's emulator stays the first region). Both are
 * closed whatever happens.
 */
export async function withSecondRegion(
  config: (westUrl: string) => Record<string, unknown>,
  run: (h: Harness, west: Emulator) => Promise<void>,
): Promise<void> {
  const west = await startTestEmulator();
  let h: Harness | undefined;
  try {
    h = await startHarness(config(west.url));
    await run(h, west);
  } finally {
    await h?.close();
    await west.close();
  }
}

/**
 * The suite's one Chat Completions client: POSTs `body` (JSON-encoded unless already a string) to the
 * sidecar at `to` (its proxy base URL, or anything with a `url`: a harness, a rig, a running sidecar).
 */
export function chat(
  to: string | { url: string },
  body: Record<string, unknown> | string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const base = typeof to === 'string' ? to : to.url;
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Splits an SSE body into its `data:` payloads (comments dropped), asserting the framing as it goes. */
export function sseData(text: string): string[] {
  if (!text.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .filter((frame) => !frame.startsWith(':'))
    .map((frame) => {
      if (!frame.startsWith('data: ') || frame.includes('\n')) throw new Error(`bad SSE frame: ${JSON.stringify(frame)}`);
      return frame.slice('data: '.length);
    });
}

export interface ParsedStream {
  frames: string[];
  chunks: Array<Record<string, unknown>>;
  content: string[];
  text: string;
  /** Concatenated `delta.reasoning_content`. */
  reasoning: string;
  /** Concatenated tool-call argument fragments, all calls together. */
  toolArguments: string;
  finish: string | null;
  error: Record<string, unknown> | undefined;
  usage: Record<string, unknown> | undefined;
  doneCount: number;
}

/** Parses a whole SSE body and checks the ending invariants (exactly one [DONE], last). */
export function parseStream(text: string): ParsedStream {
  const frames = sseData(text);
  const doneCount = frames.filter((f) => f === '[DONE]').length;
  const chunks: Array<Record<string, unknown>> = [];
  const content: string[] = [];
  let finish: string | null = null;
  let error: Record<string, unknown> | undefined;
  let usage: Record<string, unknown> | undefined;
  let reasoning = '';
  let toolArguments = '';
  for (const frame of frames) {
    if (frame === '[DONE]') continue;
    const json = JSON.parse(frame) as Record<string, unknown>;
    if (json.error) {
      error = json.error as Record<string, unknown>;
      continue;
    }
    chunks.push(json);
    if (json.usage) usage = json.usage as Record<string, unknown>;
    const choice = (json.choices as Array<Record<string, unknown>>)[0];
    if (!choice) continue;
    const delta = choice.delta as Record<string, unknown>;
    if (typeof delta.content === 'string' && delta.content !== '') content.push(delta.content);
    if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content;
    for (const call of (delta.tool_calls as Array<{ function?: { arguments?: string } }> | undefined) ?? []) {
      toolArguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) finish = choice.finish_reason as string;
  }
  return { frames, chunks, content, text: content.join(''), reasoning, toolArguments, finish, error, usage, doneCount };
}
