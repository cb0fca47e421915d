/**
 * pino JSON logs. Credentials, Authorization headers and signatures are redacted wherever they appear in
 * a logged object (`SECRET_KEYS`, at any depth up to `REDACT_DEPTH`), and, as a last line of defence, wherever they appear inside logged
 * text (`scrubSecrets`, on every finished line): AWS answers a bad signature with the canonical request
 * it expected, `x-amz-security-token` value included, and such a message must not carry the pod's
 * session token into the logs. Message content is logged only when logging.content is true (the caller
 * decides). Pretty output is left to the operator's terminal (`npm start | npx pino-pretty`); the process
 * itself only ever writes JSON lines.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.ts';

export type { Logger };

/** Keys whose values never reach a log line, wherever they sit in a logged object (names compared exactly). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'authorization', 'Authorization', 'x-amz-security-token', 'credentials', 'secretAccessKey', 'sessionToken',
  'accessKeyId', 'apiKey', 'auth_token', 'authToken',
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
  [/(x-amz-security-token|aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token)(\\?["']?\s*[:=]\s*\\?["']?)[^\s"'\\&,;}]+/gi, '$1$2[redacted]'],
  [/(Signature=)[0-9a-f]{64}/gi, '$1[redacted]'],
  [/(\bBearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/g, '$1[redacted]'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[redacted]'],
];

export function scrubSecrets(line: string): string {
  let out = line;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'bedrock-sidecar' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: (object) => redactSecrets(object) },
    hooks: { streamWrite: scrubSecrets },
  }, destination);
}
