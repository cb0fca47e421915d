/**
 * The suite's one hand-written HTTP server on 127.0.0.1:0: a hostile stand-in for Bedrock (or for a
 * credentials endpoint the sidecar calls) where each test says what it answers, byte by byte, through a
 * plain `node:http` handler (echo the request's headers in an error, keep a finished stream open, …).
 * (A well-behaved Bedrock is the emulator: emulator.ts.)
 * Event-stream frames come from the emulator's encoder; the Anthropic invoke events are written here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chunkPayload, eventFrame, exceptionFrame } from '../../src/emulator/frames.ts';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface HostileUpstream {
  url: string;
  requests: SeenRequest[];
  server: Server;
  close(): Promise<void>;
}

export async function startHostileUpstream(
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer, seen: number) => void,
): Promise<HostileUpstream> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handle(req, res, body, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One InvokeModelWithResponseStream `chunk` frame carrying an Anthropic Messages event. */
export function anthropicChunk(event: Record<string, unknown>): Buffer {
  return eventFrame('chunk', chunkPayload(JSON.stringify(event), ''));
}

/** A whole short Anthropic answer as chunk frames, `message_stop` (the final event) last. */
export function anthropicAnswer(text: string): Buffer[] {
  return [
    anthropicChunk({
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude',
        content: [],
        usage: { input_tokens: 3, output_tokens: 1 },
      },
    }),
    anthropicChunk({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    anthropicChunk({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    anthropicChunk({ type: 'content_block_stop', index: 0 }),
    anthropicChunk({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
    anthropicChunk({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 3, outputTokenCount: 2 } }),
  ];
}

export { exceptionFrame };

export const EVENT_STREAM = 'application/vnd.amazon.eventstream';
