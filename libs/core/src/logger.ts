import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that could hold a credential or evidence. They are censored in every log line, wherever
 * they appear in the logged object, so a careless `log.info({ req })` cannot leak a token.
 */
const REDACTED_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'evidence',
  'oidcToken',
  'privateKey',
  'key',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.evidence',
  '*.oidcToken',
  '*.privateKey',
  '*.authorization',
];

/** A JSON logger for one service. Level from MAYFLY_LOG_LEVEL (default info). */
export function createLogger(service: string, level = process.env.MAYFLY_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
