/**
 * `npm start`: loads sidecar.yaml (`--config FILE`, else `SIDECAR_CONFIG`, else ./sidecar.yaml),
 * starts both listeners, logs one JSON line with the bound addresses, and handles the process signals:
 * SIGTERM/SIGINT drain and exit 0; SIGHUP or a change to the file reloads it once the file is stable
 * (config/reload.ts; an invalid new file is logged and the old config kept).
 */
import { watchFile } from 'node:fs';
import { resolve } from 'node:path';
import { App } from './app.ts';
import { ConfigError, loadConfigFile } from './config/load.ts';
import { readStableConfig } from './config/reload.ts';
import { createLogger } from './ops/logger.ts';
import type { SidecarConfig } from './config/schema.ts';

function configPath(argv: readonly string[]): string {
  const at = argv.indexOf('--config');
  if (at !== -1) {
    const value = argv[at + 1];
    if (!value) fatal('--config needs a file path');
    return resolve(value);
  }
  const inline = argv.find((a) => a.startsWith('--config='));
  if (inline) return resolve(inline.slice('--config='.length));
  return resolve(process.env.SIDECAR_CONFIG || 'sidecar.yaml');
}

/** A start-up failure: one JSON log line (stdout, for collectors) and the plain message (stderr, for people). */
function fatal(message: string): never {
  process.stdout.write(`${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), service: 'bedrock-sidecar', msg: message })}\n`);
  process.stderr.write(`bedrock-sidecar: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const path = configPath(process.argv.slice(2));
  let config: SidecarConfig;
  try {
    config = loadConfigFile(path);
  } catch (error) {
    fatal(error instanceof ConfigError ? `invalid config: ${error.message}` : String((error as Error).message));
  }
  const log = createLogger(config.logging.level);
  let app: App;
  try {
    app = new App({ config, logger: log });
  } catch (error) {
    fatal(`invalid config: ${(error as Error).message}`);
  }
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (the process keeps serving)'));
  process.on('uncaughtException', (error) => log.error({ err: error }, 'uncaught exception (the process keeps serving)'));

  let addresses;
  try {
    addresses = await app.start();
  } catch (error) {
    fatal(`cannot listen: ${(error as Error).message}`);
  }
  const proxy = `http://${addresses.proxy.address}:${addresses.proxy.port}`;
  const admin = `http://${addresses.admin.address}:${addresses.admin.port}`;

  // One reload at a time; a trigger during one runs another after it (the file may have changed again).
  let reloading: Promise<void> | undefined;
  let again: string | undefined;
  const reload = (why: string): void => {
    if (reloading) {
      again = why;
      return;
    }
    reloading = readStableConfig(path, app.config)
      .then(
        ({ config: next, warnings }) => {
          for (const warning of warnings) log.warn({ reason: why }, `config reload: ${warning}`);
          app.reload(next);
        },
        (error: unknown) => {
          log.error({ reason: why, error: (error as Error).message }, 'config reload rejected; the previous config keeps serving');
        },
      )
      .catch((error: unknown) => {
        log.error({ reason: why, error: (error as Error).message }, 'config reload rejected; the previous config keeps serving');
      })
      .finally(() => {
        reloading = undefined;
        if (again !== undefined) {
          const next = again;
          again = undefined;
          reload(next);
        }
      });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  // Stat polling follows the symlink swap a ConfigMap update makes; fs.watch would lose the inode.
  watchFile(path, { interval: 1000, persistent: false }, (current, previous) => {
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) reload('file changed');
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while draining');
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced last, once every signal handler is in place: the line is written synchronously (see
  // logDestination in ops/logger.ts), so whoever reads it may signal the process at once.
  log.info({ proxy, admin, pid: process.pid, config: path, models: config.models.map((m) => m.name) }, 'bedrock-sidecar listening');
}

void main();
