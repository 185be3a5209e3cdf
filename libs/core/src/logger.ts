import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { EVIDENCE_LOG_PATHS } from './evidence.js';

export type { Logger };

/**
 * Paths that could hold a credential or evidence. They are censored in every log line, wherever
 * they appear in the logged object, so a careless `log.info({ req })` cannot leak a token.
 */
const REDACTED_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'privateKey',
  'key',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.privateKey',
  '*.authorization',
  // Every kind of evidence, from the evidence table.
  ...EVIDENCE_LOG_PATHS,
];

export interface LoggerOptions {
  /** Default: MAYFLY_LOG_LEVEL, else info. */
  readonly level?: string;
  /** Default: standard output. */
  readonly destination?: DestinationStream;
}

/** A JSON logger for one service. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['MAYFLY_LOG_LEVEL'] ?? 'info';
  const settings = {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Every line logged inside a traced request carries its trace and span ids.
    mixin: traceIds,
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

function traceIds(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}
