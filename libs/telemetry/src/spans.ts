import { INVALID_SPAN_CONTEXT, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

export { SpanKind };

const TRACER_NAME = 'mayfly';

/** What a span is when nothing records spans: every method does nothing. */
export const UNRECORDED_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * True when a tracer provider is registered (setupTelemetry found an exporter, or a test set
 * one). Off by default: OTEL_TRACES_EXPORTER is `none` unless configured.
 */
export function tracingIsOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/**
 * Runs fn inside a new active span, records a failure on it, and ends it.
 *
 * With tracing off, fn runs at once with a span that records nothing. OpenTelemetry's no-op
 * tracer would still make a span, copy the context's map to hold it and wrap fn twice — about
 * 6 KiB of garbage per grant over the ~25 spans a grant passes through (issue 24) — and with no
 * context manager registered that context reaches nothing anyway.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracingIsOn()) {
    try {
      return fn(UNRECORDED_SPAN);
    } catch (error) {
      return Promise.reject(error);
    }
  }
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
