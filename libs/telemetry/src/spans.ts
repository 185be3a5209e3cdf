import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

export { SpanKind };

const TRACER_NAME = 'mayfly';

/**
 * Runs fn inside a new active span, records a failure on it, and ends it. With tracing off the
 * global tracer is a no-op and this is a function call and a closure.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

export function recordFailure(span: Span, error: unknown): void {
  const code = (error as { code?: unknown }).code;
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (typeof code === 'string') span.setAttribute('mayfly.error.code', code);
}

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/**
 * The trace id of the active span when that trace is recorded (sampled), else undefined: what a
 * grant keeps so that people can open its trace in the trace viewer (the console links to it).
 */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  const context = span.spanContext();
  return trace.isSpanContextValid(context) && (context.traceFlags & 1) === 1 ? context.traceId : undefined;
}
