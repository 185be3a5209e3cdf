import { createWriteStream } from 'node:fs';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

type Env = Readonly<Record<string, string | undefined>>;

export interface TelemetryOptions {
  /** "issuance", "decision", ... ; service.name becomes mayfly-<service> unless OTEL_SERVICE_NAME is set. */
  readonly service: string;
  readonly host: string;
  /** Port of the Prometheus /metrics endpoint; 0 picks a free one. */
  readonly metricsPort: number;
  readonly env?: Env;
}

export interface Telemetry {
  readonly tracing: boolean;
  /** The Prometheus endpoint's port, if metrics are on. */
  readonly metricsPort: number | undefined;
  shutdown(): Promise<void>;
}

/**
 * Sets up tracing and metrics for one process from the standard OpenTelemetry variables:
 *
 * - OTEL_SDK_DISABLED=true turns everything off.
 * - OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE tune batching.
 * - OTEL_TRACES_EXPORTER: "otlp", "console", "none" (default: none, so tracing costs next to
 *   nothing); OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL "grpc", "http/protobuf" (default) or
 *   "http/json"; OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, OTEL_BSP_* as the exporters define them.
 * - MAYFLY_TRACES_FILE=<path> also writes every finished span as a JSON line to that file.
 * - OTEL_METRICS_EXPORTER: "prometheus" (default) or "none".
 */
export async function setupTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  if (env['OTEL_SDK_DISABLED'] === 'true') return { tracing: false, metricsPort: undefined, shutdown: async () => undefined };
  const resource = resourceFromAttributes({
    'service.name': env['OTEL_SERVICE_NAME'] ?? `mayfly-${options.service}`,
    'service.namespace': 'mayfly',
    'service.instance.id': `${options.service}-${process.pid}`,
  });

  const processors = await spanProcessors(env);
  let tracerProvider: TracerProvider | undefined;
  if (processors.length > 0) {
    tracerProvider = new TracerProvider({ resource, spanProcessors: processors });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(tracerProvider);
  }

  let meterProvider: MeterProvider | undefined;
  let metricsPort: number | undefined;
  if ((env['OTEL_METRICS_EXPORTER'] ?? 'prometheus') !== 'none') {
    const exporter = new PrometheusExporter({ host: options.host, port: options.metricsPort, preventServerStart: true });
    await exporter.startServer();
    metricsPort = boundPort(exporter) ?? options.metricsPort;
    meterProvider = new MeterProvider({ resource, readers: [exporter] });
    metrics.setGlobalMeterProvider(meterProvider);
  }

  return {
    tracing: tracerProvider !== undefined,
    metricsPort,
    shutdown: async () => {
      await tracerProvider?.shutdown();
      await meterProvider?.shutdown();
    },
  };
}

/** The port the Prometheus exporter's HTTP server actually bound (matters when asked for 0). */
function boundPort(exporter: PrometheusExporter): number | undefined {
  const server = (exporter as unknown as { _server?: { address(): unknown } })._server;
  const address = server?.address();
  return typeof address === 'object' && address !== null && 'port' in address ? Number((address as { port: number }).port) : undefined;
}

async function spanProcessors(env: Env): Promise<SpanProcessor[]> {
  const names = (env['OTEL_TRACES_EXPORTER'] ?? 'none').split(',').map((name) => name.trim()).filter((name) => name && name !== 'none');
  const exporters: SpanExporter[] = [];
  for (const name of names) {
    if (name === 'console') exporters.push(new ConsoleSpanExporter());
    else if (name === 'otlp') exporters.push(await otlpExporter(env));
    else throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (use otlp, console or none)`);
  }
  if (env['MAYFLY_TRACES_FILE']) exporters.push(new JsonLinesSpanExporter(env['MAYFLY_TRACES_FILE']));
  const number = (name: string): number | undefined => (env[name] ? Number(env[name]) : undefined);
  const scheduledDelayMillis = number('OTEL_BSP_SCHEDULE_DELAY');
  const maxQueueSize = number('OTEL_BSP_MAX_QUEUE_SIZE');
  const maxExportBatchSize = number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  return exporters.map(
    (exporter) =>
      new BatchSpanProcessor({
        exporter,
        ...(scheduledDelayMillis !== undefined ? { scheduledDelayMillis } : {}),
        ...(maxQueueSize !== undefined ? { maxQueueSize } : {}),
        ...(maxExportBatchSize !== undefined ? { maxExportBatchSize } : {}),
      }),
  );
}

async function otlpExporter(env: Env): Promise<SpanExporter> {
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';
  switch (protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    default:
      throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol "${protocol}" (use grpc, http/protobuf or http/json)`);
  }
}

/** Appends finished spans as JSON lines: a way to read traces locally without a collector. */
class JsonLinesSpanExporter implements SpanExporter {
  private readonly out;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const ctx = span.spanContext();
      this.out.write(
        `${JSON.stringify({
          service: span.resource.attributes['service.name'],
          name: span.name,
          traceId: ctx.traceId,
          spanId: ctx.spanId,
          parentSpanId: span.parentSpanContext?.spanId,
          kind: span.kind,
          startMs: span.startTime[0] * 1e3 + span.startTime[1] / 1e6,
          durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
          status: span.status,
          attributes: span.attributes,
        })}\n`,
      );
    }
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}
