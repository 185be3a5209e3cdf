export { Periodic, type PeriodicOptions } from './periodic.js';
export { setupTelemetry, type Telemetry, type TelemetryOptions } from './setup.js';
export { SpanKind, UNRECORDED_SPAN, activeTraceId, recordFailure, tracer, tracingIsOn, withSpan } from './spans.js';
export { mayflyMetrics, observeApprovalState, observeDatabasePool, observeRevocationState, type MayflyMetrics, type PoolStats } from './metrics.js';
export { context, metrics, propagation, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
