import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { UNRECORDED_SPAN } from '@mayfly/telemetry';
import { inServerSpan, startClientSpan } from './rpc-spans.js';

type Carrier = { traceparent?: string };
const reads: string[] = [];
const getter = {
  keys: (carrier: Carrier) => Object.keys(carrier),
  get: (carrier: Carrier, key: string) => {
    reads.push(key);
    return key === 'traceparent' ? carrier.traceparent : undefined;
  },
};
const setter = { set: (carrier: Carrier, key: string, value: string) => void (key === 'traceparent' && (carrier.traceparent = value)) };
const METHOD = 'mayfly.v1.DecisionService/DecideStream';

afterEach(() => {
  reads.length = 0;
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('rpc spans', () => {
  it('with tracing off: no carrier is read or written, the span records nothing, fn still runs and its throw is a rejection', async () => {
    const carrier: Carrier = {};
    expect(startClientSpan(METHOD, carrier, setter)).toBe(UNRECORDED_SPAN);
    expect(carrier).toEqual({});
    const { span, result } = inServerSpan(METHOD, 'mayfly.v1.DecisionService', 'DecideStream', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, getter, async () => 42);
    expect(span).toBe(UNRECORDED_SPAN);
    expect(await result).toBe(42);
    expect(reads).toEqual([]);
    const thrown = inServerSpan(METHOD, 's', 'r', {}, getter, () => {
      throw new Error('synchronous');
    });
    await expect(thrown.result).rejects.toThrow('synchronous');
  });

  it('with tracing on: the server span continues the trace the client span wrote, and is active while fn runs', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    const carrier: Carrier = {};
    const client = startClientSpan(METHOD, carrier, setter);
    expect(carrier.traceparent).toContain(client.spanContext().traceId);
    const { span, result } = inServerSpan(METHOD, 'mayfly.v1.DecisionService', 'DecideStream', carrier, getter, async () => trace.getActiveSpan());
    expect(await result).toBe(span);
    span.end();
    client.end();
    const [server] = exporter.getFinishedSpans();
    expect(server?.spanContext().traceId).toBe(client.spanContext().traceId);
    expect(server?.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(server?.attributes).toMatchObject({ 'rpc.service': 'mayfly.v1.DecisionService', 'rpc.method': 'DecideStream' });
    await provider.shutdown();
  });
});
