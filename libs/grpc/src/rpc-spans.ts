import { SpanKind, UNRECORDED_SPAN, context, propagation, trace, tracer, tracingIsOn, type Span, type TextMapGetter, type TextMapSetter } from '@mayfly/telemetry';

/**
 * Runs fn in a server span that continues the caller's trace (read from `carrier`: a call's
 * metadata, a streamed message's traceparent), active while fn runs. The caller ends the span.
 *
 * With tracing off (the default) fn runs at once with a span that records nothing, as withSpan
 * does: reading a trace context, making a no-op span and entering a context for it cost garbage
 * on every call and every streamed ask, and reached nothing (issue 24).
 */
export function inServerSpan<Carrier, T>(
  method: string,
  service: string,
  rpc: string,
  carrier: Carrier,
  getter: TextMapGetter<Carrier>,
  fn: () => Promise<T>,
): { span: Span; result: Promise<T> } {
  if (!tracingIsOn()) return { span: UNRECORDED_SPAN, result: run(fn) };
  const parent = propagation.extract(context.active(), carrier, getter);
  const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpc } }, parent);
  return { span, result: context.with(trace.setSpan(parent, span), () => run(fn)) };
}

/**
 * Starts the client span of a call or streamed ask to `method` ("mayfly.v1.DecisionService/
 * Decide") and writes its trace context into `carrier` for the server to continue. The caller
 * ends the span. With tracing off, a span that records nothing, and the carrier left as it is.
 */
export function startClientSpan<Carrier>(method: string, carrier: Carrier, setter: TextMapSetter<Carrier>): Span {
  if (!tracingIsOn()) return UNRECORDED_SPAN;
  const [service, rpc] = method.split('/');
  const span = tracer().startSpan(method, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': service ?? '', 'rpc.method': rpc ?? '' } });
  propagation.inject(trace.setSpan(context.active(), span), carrier, setter);
  return span;
}

/** fn's promise; a synchronous throw becomes a rejection, as context.with(…, async fn) gave. */
function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}
