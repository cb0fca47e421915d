/**
 * pino JSON logs. Credentials, Authorization headers and signatures are redacted wherever they appear in
 * a logged object (`REDACT_PATHS`), and, as a last line of defence, wherever they appear inside logged
 * text (`scrubSecrets`, on every finished line): AWS answers a bad signature with the canonical request
 * it expected, `x-amz-security-token` value included, and such a message must not carry the pod's
 * session token into the logs. Message content is logged only when logging.content is true (the caller
 * decides). Pretty output is left to the operator's terminal (`npm start | npx pino-pretty`); the process
 * itself only ever writes JSON lines.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.ts';

export type { Logger };

export const REDACT_PATHS = [
  'authorization', 'headers.authorization', 'req.headers.authorization', '*.authorization',
  'headers["x-amz-security-token"]', '*["x-amz-security-token"]', 'credentials', '*.credentials',
  'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken', 'accessKeyId', '*.accessKeyId',
  'apiKey', '*.apiKey', 'auth_token', '*.auth_token', 'authToken', '*.authToken',
];

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
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: scrubSecrets },
  }, destination);
}
