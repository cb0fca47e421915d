/**
 * The sidecar as the benchmark runs it: the production `App` (compiled, as the Dockerfile builds it),
 * with the config the orchestrator passes, its pino log line per request going to stdout (which the
 * orchestrator sends to /dev/null), Prometheus process metrics on, static AWS credentials, and Bedrock
 * pointed at the emulator. Beside it, the stats agent; its `extra` sums what waits inside the live
 * streams' pipelines (for the slow-reader run).
 *
 * env: BENCH_UPSTREAM (emulator origin), BENCH_SIDECAR_CONFIG (sidecar.yaml as JSON).
 */
import { App } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { LiveStream, QueuedData } from '../../src/server/stream-response.ts';
import { failed, ready, serveStats } from './agent.ts';

export interface SidecarExtra extends QueuedData {
  streams: number;
}

class BenchApp extends App {
  readonly streams = new Set<LiveStream>();

  override track(stream: LiveStream): () => void {
    this.streams.add(stream);
    const untrack = super.track(stream);
    return () => {
      this.streams.delete(stream);
      untrack();
    };
  }
}

async function main(): Promise<void> {
  let app: BenchApp;
  try {
    const config = validateConfig(JSON.parse(process.env.BENCH_SIDECAR_CONFIG ?? '{}'), 'bench config');
    app = new BenchApp({
      config,
      env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: process.env.BENCH_UPSTREAM ?? '', AWS_REGION: 'us-east-1' },
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }),
    });
  } catch (error) {
    failed((error as Error).message);
    return;
  }
  serveStats((): SidecarExtra => {
    const sum: SidecarExtra = { streams: 0, bytes: 0, items: 0, highWaterBytes: 0, highWaterItems: 0 };
    for (const stream of app.streams) {
      const q = stream.queued();
      sum.streams++;
      sum.bytes += q.bytes;
      sum.items += q.items;
      sum.highWaterBytes += q.highWaterBytes;
      sum.highWaterItems += q.highWaterItems;
    }
    return sum;
  });
  const { proxy } = await app.start();
  ready(`http://127.0.0.1:${proxy.port}`);
}

void main().catch((error: unknown) => failed(String(error)));
