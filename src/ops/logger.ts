/**
 * pino JSON logs. Credentials, Authorization headers and signatures are redacted wherever they appear in
 * a logged object; message content is logged only when logging.content is true (the caller decides).
 * Pretty output is left to the operator's terminal (pipe through pino-pretty); production is JSON lines.
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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'bedrock-sidecar' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
}
