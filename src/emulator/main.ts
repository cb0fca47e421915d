// CLI for `npm run emulator`: starts the Bedrock emulator alone and runs until SIGINT/SIGTERM.
// Flags: --port N (default 4010, or EMULATOR_PORT), --host H, --no-verify, --frame-delay-ms N, --quiet.
// Prints one JSON line `{"msg":"emulator listening","url":…}` once bound.
import { startEmulator } from './server.ts';

interface CliOptions {
  port: number;
  host: string;
  verify: boolean;
  frameDelayMs: number;
  quiet: boolean;
}

function fail(message: string): never {
  process.stderr.write(JSON.stringify({ msg: 'emulator: bad arguments', error: message }) + '\n');
  process.exit(2);
}

function intArg(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) fail(`${name} needs a non-negative integer, got ${String(value)}`);
  return n;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const opts: CliOptions = {
    port: env.EMULATOR_PORT !== undefined ? intArg('EMULATOR_PORT', env.EMULATOR_PORT) : 4010,
    host: '127.0.0.1',
    verify: true,
    frameDelayMs: 0,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--port':
        opts.port = intArg('--port', value());
        break;
      case '--host':
        opts.host = value() ?? fail('--host needs a value');
        break;
      case '--no-verify':
        opts.verify = false;
        break;
      case '--frame-delay-ms':
        opts.frameDelayMs = intArg('--frame-delay-ms', value());
        break;
      case '--quiet':
        opts.quiet = true;
        break;
      case '--help':
        process.stdout.write('usage: npm run emulator -- [--port N] [--host H] [--no-verify] [--frame-delay-ms N] [--quiet]\n');
        return process.exit(0);
      default:
        fail(`unknown flag ${arg}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2), process.env);
  const emulator = await startEmulator({
    port: opts.port,
    host: opts.host,
    verifySignature: opts.verify,
    frameDelayMs: opts.frameDelayMs,
    quiet: opts.quiet,
  });
  process.stdout.write(JSON.stringify({ msg: 'emulator listening', url: emulator.url, verifySignature: opts.verify }) + '\n');
  const stop = (signal: string): void => {
    void emulator.close().then(() => {
      process.stdout.write(JSON.stringify({ msg: 'emulator stopped', signal }) + '\n');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(JSON.stringify({ msg: 'emulator failed to start', error: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exit(1);
});
