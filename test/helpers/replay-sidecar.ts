/**
 * The sidecar's real process (`src/main.ts`, spawned as `npm start` runs it) in front of an upstream on
 * 127.0.0.1 that answers every call with one recording of real Bedrock (test/fixtures/real-traffic/): its
 * status, headers and body, whole. Direct model ids are allowed, so a client names the recording's route or
 * model id. For the replays that hold each surface against what Bedrock really said.
 */
import { startHostileUpstream } from './hostile-upstream.ts';
import type { Recording } from './real-traffic.ts';
import { killSidecar, spawnSidecar, writeConfigFile } from './sidecar-process.ts';

export interface ReplaySidecar {
  /** The sidecar's proxy URL. */
  proxy: string;
  /** The recording the upstream answers with from now on. */
  play(recording: Recording): void;
  close(): Promise<void>;
}

export async function startReplaySidecar(): Promise<ReplaySidecar> {
  let current: Recording | undefined;
  const upstream = await startHostileUpstream((_req, res) => {
    if (!current) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(current.status, { ...current.headers, 'content-length': current.body.length });
    res.end(current.body);
  });
  const config = writeConfigFile(
    'server: {port: 0, admin_port: 0, admin_host: 127.0.0.1}\nlogging: {level: info}\nupstream: {max_attempts: 1}\nrouting: {allow_direct_models: true}\nmodels: []\n',
  );
  const sidecar = spawnSidecar(['--config', config], { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url });
  await sidecar.ready;
  return {
    proxy: sidecar.proxy,
    play: (recording) => {
      current = recording;
    },
    close: async () => {
      await killSidecar(sidecar);
      await upstream.close();
    },
  };
}
