/**
 * pino JSON logs. Credentials, Authorization headers and signatures are redacted wherever they appear in
 * a logged object (`SECRET_KEYS`, at any depth up to `REDACT_DEPTH`), and, as a last line of defence, wherever they appear inside logged
 * text (`scrubSecrets`, on every finished line): AWS answers a bad signature with the canonical request
 * it expected, `x-amz-security-token` value included, and such a message must not carry the pod's
 * session token into the logs. Message content is logged only when logging.content is true (the caller
 * decides). Pretty output is left to the operator's terminal (`npm start | npx pino-pretty`); the process
 * itself only ever writes JSON lines.
 */
import { writeSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.ts';
import { scrubKnownSecrets } from './secrets.ts';

export type { Logger };

/** Keys whose values never reach a log line, wherever they sit in a logged object (names compared exactly). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'Authorization',
  'x-amz-security-token',
  'credentials',
  'secretAccessKey',
  'sessionToken',
  'accessKeyId',
  'apiKey',
  'auth_token',
  'authToken',
]);
/** How deep `redactSecrets` looks: `req.headers.authorization` is three levels. */
export const REDACT_DEPTH = 4;
const CENSOR = '[redacted]';

/**
 * A logged object with every `SECRET_KEYS` value replaced by `[redacted]`, copying only the objects on the
 * way to a secret (the caller's objects are never changed); anything without one is returned as it is.
 * Plain objects only are walked (an Error is serialised by pino itself, and text is scrubbed on the line).
 * This is pino's `redact` option for a fixed key list: that option costs ~25 µs per line here (it
 * re-serialises every redacted path), this walk about one.
 */
export function redactSecrets(value: Record<string, unknown>, depth = 1): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const current = value[key];
    let next = current;
    if (SECRET_KEYS.has(key)) {
      if (current !== undefined) next = CENSOR;
    } else if (depth < REDACT_DEPTH && isPlainObject(current)) {
      next = redactSecrets(current, depth + 1);
    }
    if (next !== current) {
      copy ??= { ...value };
      copy[key] = next;
    }
  }
  return copy ?? value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Credential-shaped text, matched in the serialized JSON line: a credential name, its separator (in a
 * header dump, a query string, an INI file or JSON, possibly escaped), then the value, which stops at a
 * quote, a backslash (a JSON escape such as `\n`), whitespace or a separator; signatures; bearer tokens;
 * AWS access key ids.
 */
const SECRET_TEXT: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /(x-amz-security-token|aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token)(\\?["']?\s*[:=]\s*\\?["']?)[^\s"'\\&,;}]+/gi,
    '$1$2[redacted]',
  ],
  [/(Signature=)[0-9a-f]{64}/gi, '$1[redacted]'],
  [/(\bBearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/g, '$1[redacted]'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[redacted]'],
];

export function scrubSecrets(line: string): string {
  let out = scrubKnownSecrets(line);
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/** Most bytes of log lines kept waiting while the destination fails; lines beyond it are dropped. */
export const MAX_PENDING_LOG_BYTES = 1024 * 1024;

/**
 * The process's log destination: a file descriptor (stdout by default) through pino's own sonic-boom,
 * synchronous, with a bounded buffer and an 'error' listener, so that a destination that fails (the reader
 * of the pipe gone: EPIPE; a closed descriptor: EBADF; a reader that stopped reading: EAGAIN; a full disk)
 * drops lines and never hangs or crashes the process.
 *
 * Why not pino's default destination (`pino()` without a stream: an *asynchronous* sonic-boom on fd 1):
 * - pino registers an exit hook for an asynchronous destination that calls `flushSync()` inside
 *   `process.exit`, and sonic-boom 4's `flushSync` retries every write error other than EAGAIN/EBUSY
 *   forever (sleep 100 ms, write again). With stdout piped into a reader that has exited (`npm start |
 *   head -2`, a dead collector), the write that first meets EPIPE is typically still in flight (thread pool)
 *   when SIGTERM's drain calls `process.exit(0)`, so pino's broken-pipe filter has not yet made the stream
 *   a no-op, and the exit hook loops on write(1) → EPIPE: listeners closed, process never exits.
 * - Any error but EPIPE is re-emitted by pino; with no 'error' listener that is an uncaught exception,
 *   whose handler (main.ts) logs, which writes again and fails again, without end.
 * In synchronous mode pino registers no exit hook (nothing is ever left buffered) and a failing write is
 * reported at once: on EPIPE pino's own filter turns the stream into a no-op (the reader of a pipe never
 * comes back); every other error reaches the listener below. The failed lines stay pending and are retried
 * with the next line, so a transient failure loses nothing; `maxLength` bounds what waits (sonic-boom drops
 * what would exceed it, and a dropped line still retries the write, so logging resumes once the
 * destination takes writes again). `retryEAGAIN: false` makes a full pipe one of those failures: the
 * default sleeps 100 ms and retries, in sync mode blocking the event loop (every stream, and SIGTERM) for
 * as long as the reader does not read. The listener tells stderr once per error code; stderr may be the
 * same broken pipe, hence a plain `writeSync` whose failure is ignored (never `process.stderr`, whose
 * errors are events of their own). `logger.fatal()` calls `flushSync()`, which still loops on a failing
 * destination: this code logs at `error` at most.
 */
export function logDestination(fd = 1): DestinationStream {
  // Creating process.stdout opens fd 1 through libuv, which sets O_NONBLOCK on a pipe: a full pipe is then
  // EAGAIN (held, see above) rather than a write(2) that blocks the whole process until the reader reads.
  // pino's default destination did the same as a side effect (it checks process.stdout); nothing ever
  // writes through process.stdout, so it has no errors of its own to report.
  if (fd === 1) void process.stdout;
  const destination = pino.destination({ dest: fd, sync: true, maxLength: MAX_PENDING_LOG_BYTES, retryEAGAIN: () => false });
  const told = new Set<string>();
  destination.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? error.message;
    if (told.has(code)) return;
    told.add(code);
    try {
      const outcome =
        code === 'EPIPE'
          ? 'its reader has gone: log lines are dropped from now on'
          : `log lines are held (up to ${MAX_PENDING_LOG_BYTES} bytes) and retried with the next line, or dropped, while it fails`;
      writeSync(2, `bedrock-sidecar: writing logs to fd ${fd} failed (${code}); ${outcome}\n`);
    } catch {
      // stderr is gone as well: nothing else to tell.
    }
  });
  // A dropped line retries what waits (see above). A single line over the bound (logging.content with a
  // 20 MB body) can never be written: it leaves a short line in its place, so nothing vanishes unseen.
  destination.on('drop', (data: string | Buffer) => {
    destination.write(Buffer.byteLength(data) > MAX_PENDING_LOG_BYTES ? droppedLine(data) : '');
  });
  return destination;
}

/** The line written in place of one too long to write: its size, and its request id if it had one. */
function droppedLine(data: string | Buffer): string {
  const head = typeof data === 'string' ? data.slice(0, 4096) : data.subarray(0, 4096).toString('utf8');
  const requestId = /"requestId":"([\x20-\x7e]{1,128}?)"/.exec(head)?.[1];
  const level = /"level":"([a-z]{1,8})"/.exec(head)?.[1];
  return `${JSON.stringify({
    level: 'warn',
    time: new Date().toISOString(),
    service: 'bedrock-sidecar',
    ...(requestId ? { requestId } : {}),
    droppedBytes: Buffer.byteLength(data),
    droppedLevel: level ?? null,
    msg: `a log line of ${Buffer.byteLength(data)} bytes was dropped: longer than the ${MAX_PENDING_LOG_BYTES}-byte bound`,
  })}\n`;
}

export function createLogger(level: LogLevel, destination: DestinationStream = logDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'bedrock-sidecar' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (object) => redactSecrets(object) },
      hooks: { streamWrite: scrubSecrets },
    },
    destination,
  );
}
