/**
 * Test harness: the emulator and the sidecar, both in-process on 127.0.0.1:0, plus SSE helpers.
 */
import { Writable } from 'node:stream';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { App } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/ops/logger.ts';

import { TEST_CREDENTIALS } from './credentials.ts';

export { TEST_CREDENTIALS };

export const CLAUDE_INVOKE = { name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' };

export interface Harness {
  emu: Emulator;
  app: App;
  url: string;
  adminUrl: string;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts emulator + sidecar. `config` is sidecar.yaml as an object (ports default to 0). */
export async function startHarness(config: Record<string, unknown> = {}, options: { env?: Record<string, string>; emulator?: Parameters<typeof startEmulator>[0] } = {}): Promise<Harness> {
  const server = { port: 0, admin_port: 0, ...(config.server as object | undefined) };
  // Validated before anything listens: a config error must leave no server open behind it.
  const validated = validateConfig({ models: [CLAUDE_INVOKE], ...config, server, logging: { level: 'debug', ...(config.logging as object | undefined) } });
  const emu = await startEmulator({ quiet: true, ...options.emulator });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  let app: App;
  try {
    app = new App({
      config: validated,
      env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emu.url, AWS_REGION: 'us-east-1', ...options.env },
      credentials: async () => ({ ...TEST_CREDENTIALS }),
      logger: createLogger(validated.logging.level, sink),
      processMetrics: false,
      random: () => 0,
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
  return {
    emu, app, logs,
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
  return text.slice(0, -2).split('\n\n').filter((frame) => !frame.startsWith(':')).map((frame) => {
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
