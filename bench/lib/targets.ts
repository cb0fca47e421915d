/**
 * The benchmark's targets: how each is started (its own process, measured over IPC or /proc) and what
 * it is sent.
 *
 *   direct          the emulator itself (the floor; no proxy process)
 *   passthrough     procs/passthrough.ts: undici → pipeline, no parsing (the Node limit)
 *   sidecar         procs/sidecar.ts: the App, default config (guardrails off)
 *   sidecar-regex   the same with a regex output guardrail in sync mode on the alias
 *   portkey         BENCH_PEER=portkey: the Portkey gateway from the npm registry, installed into a
 *                   scratch directory at bench time (never a project dependency)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { embeddingAliases } from './embeddings.ts';
import { Proc } from './proc.ts';
import { chatRequest, converseRequest, MODEL_ID, SIDECAR_ALIAS, signed, type RequestShape, type Workload } from './workload.ts';

export type TargetName = 'direct' | 'passthrough' | 'sidecar' | 'sidecar-regex' | 'portkey';

export interface TargetSpec {
  name: TargetName;
  label: string;
  /** Starts the target's process; undefined for the direct target. */
  start(emulatorUrl: string): Promise<Proc | undefined>;
  request(w: Workload): RequestShape;
}

/** What a target is sent for a workload: event-stream targets get a request signed for the emulator. */
export function requestFor(spec: TargetSpec, w: Workload, emulatorUrl: string): Promise<RequestShape> {
  const shape = spec.request(w);
  return shape.protocol === 'eventstream' ? signed(shape, emulatorUrl) : Promise.resolve(shape);
}

export const PROCS_DIR = join(import.meta.dirname, '..', '.build', 'bench', 'procs');

/** Upstream pool size for both proxies: one connection per concurrent stream at the highest point. */
export const UPSTREAM_CONNECTIONS = 512;

export function sidecarConfig(withRegexGuardrail: boolean): Record<string, unknown> {
  const alias: Record<string, unknown> = { name: SIDECAR_ALIAS, model: `bedrock/converse/${MODEL_ID}`, region: 'us-east-1' };
  const config: Record<string, unknown> = {
    server: { port: 0, admin_port: 0 },
    // The one change from the defaults: the pool must hold a connection per concurrent stream (HTTP/1.1).
    upstream: { connections: UPSTREAM_CONNECTIONS },
    // The embeddings row's aliases (bench/lib/embeddings.ts); they cost a streaming request nothing.
    models: [alias, ...embeddingAliases()],
  };
  if (withRegexGuardrail) {
    config.guardrails = [
      { name: 'bench-regex', type: 'regex', patterns: ['(?i)project\\s+nightingale'], action: 'block', stream_mode: 'sync' },
    ];
    alias.guardrails = ['bench-regex'];
  }
  return config;
}

function sidecarTarget(name: 'sidecar' | 'sidecar-regex', label: string, regex: boolean, nodeArgs: string[]): TargetSpec {
  return {
    name,
    label,
    start: (emulatorUrl) =>
      Proc.start({
        name,
        args: [...nodeArgs, join(PROCS_DIR, 'sidecar.js')],
        stats: 'ipc',
        env: { BENCH_UPSTREAM: emulatorUrl, BENCH_SIDECAR_CONFIG: JSON.stringify(sidecarConfig(regex)) },
      }),
    request: (w) => chatRequest(w),
  };
}

export const PEER_DIR = process.env.BENCH_PEER_DIR ?? '/tmp/bench-peer';
const PORTKEY_VERSION = process.env.BENCH_PORTKEY_VERSION ?? '1.15.2';

/** Installs the Portkey gateway into PEER_DIR with npm (once); returns its server script. */
export function installPortkey(): string {
  const script = join(PEER_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (!existsSync(script)) {
    mkdirSync(PEER_DIR, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        PEER_DIR,
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-save',
        `@portkey-ai/gateway@${PORTKEY_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
  }
  return script;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function targetSpecs(options: { peer: string | undefined; nodeArgs: (name: TargetName) => string[] }): TargetSpec[] {
  const specs: TargetSpec[] = [
    { name: 'direct', label: 'direct to the emulator (floor)', start: async () => undefined, request: (w) => converseRequest(w) },
    {
      name: 'passthrough',
      label: 'bare pass-through (undici → pipeline)',
      start: (emulatorUrl) =>
        Proc.start({
          name: 'passthrough',
          args: [...options.nodeArgs('passthrough'), join(PROCS_DIR, 'passthrough.js')],
          stats: 'ipc',
          env: { BENCH_UPSTREAM: emulatorUrl, BENCH_CONNECTIONS: String(UPSTREAM_CONNECTIONS) },
        }),
      request: (w) => converseRequest(w),
    },
    sidecarTarget('sidecar', 'sidecar, default config', false, options.nodeArgs('sidecar')),
    sidecarTarget('sidecar-regex', 'sidecar + regex guardrail (sync)', true, options.nodeArgs('sidecar-regex')),
  ];
  if (options.peer === 'portkey') {
    let emulator = '';
    specs.push({
      name: 'portkey',
      label: `Portkey gateway ${PORTKEY_VERSION} (peer)`,
      start: async (emulatorUrl) => {
        emulator = emulatorUrl;
        const script = installPortkey();
        const port = await freePort();
        return Proc.start({
          name: 'portkey',
          args: [...options.nodeArgs('portkey'), script, `--port=${port}`, '--headless'],
          stats: 'proc',
          readyUrl: `http://127.0.0.1:${port}/`,
          cwd: PEER_DIR,
        });
      },
      request: (w) =>
        chatRequest(w, MODEL_ID, {
          'x-portkey-provider': 'bedrock',
          'x-portkey-custom-host': emulator,
          'x-portkey-aws-region': 'us-east-1',
          'x-portkey-aws-access-key-id': 'AKIDEXAMPLE',
          'x-portkey-aws-secret-access-key': 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        }),
    });
  }
  return specs;
}
