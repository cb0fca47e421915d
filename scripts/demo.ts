/**
 * `npm run demo`: starts the Bedrock emulator and the sidecar side by side (the product imports nothing
 * from the emulator; they only meet over HTTP, as with real Bedrock), streams one chat completion
 * through the whole pipeline, prints the SSE as it arrives, and exits 0.
 */
import { App } from '../src/app.ts';
import { validateConfig } from '../src/config/load.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createLogger } from '../src/ops/logger.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function main(): Promise<void> {
  const emulator = await startEmulator({ credentials: [credentials], frameDelayMs: 15, quiet: true });
  const config = validateConfig(
    {
      server: { port: 0, admin_port: 0, admin_host: '127.0.0.1' },
      streaming: { stream_chunk_size: 24 },
      logging: { level: 'warn' },
      models: [{ name: 'claude-invoke', model: 'bedrock/invoke/us.anthropic.claude-sonnet-4-20250514-v1:0', region: 'us-east-1' }],
    },
    '<demo>',
  );
  const app = new App({
    config,
    env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url },
    credentials: async () => credentials,
    logger: createLogger('warn'),
    processMetrics: false,
  });
  const { proxy } = await app.start();
  const url = `http://127.0.0.1:${proxy.port}/v1/chat/completions`;
  const body = {
    model: 'claude-invoke',
    stream: true,
    stream_chunk_size: 16,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Say hello to the demo — in a few words.' }],
  };
  process.stdout.write(`bedrock emulator: ${emulator.url}\nsidecar:          http://127.0.0.1:${proxy.port}\n\n`);
  process.stdout.write(`POST ${url}\n${JSON.stringify(body)}\n\n`);

  emulator.script({
    type: 'text',
    text:
      'Hello from Bedrock, through the sidecar! Each SSE chunk below carries at most 16 bytes of UTF-8 — ' +
      'so this emoji 👋 and these accents (é, ü, 中文) arrive whole, never split inside a character.',
    usage: { inputTokens: 18, outputTokens: 42 },
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  process.stdout.write(`HTTP ${res.status} ${res.headers.get('content-type')}\n\n`);
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    const piece = decoder.decode(chunk as Uint8Array, { stream: true });
    text += piece;
    process.stdout.write(piece);
  }
  const done = text.trimEnd().endsWith('data: [DONE]');
  const upstream = emulator.requests[0];
  process.stdout.write(`\nupstream: ${upstream?.operation} ${upstream?.rawPath} (signature ${upstream?.signature})\n`);
  process.stdout.write(`upstream body keys: ${Object.keys(upstream?.json ?? {}).join(', ')} (no stream_chunk_size)\n`);
  await app.close();
  await emulator.close();
  if (res.status !== 200 || !done) {
    process.stderr.write('demo: the stream did not end with [DONE]\n');
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
