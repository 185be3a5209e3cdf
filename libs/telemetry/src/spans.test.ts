import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { tracingIsOn, withSpan } from './spans.js';

afterEach(() => trace.disable());

describe('withSpan', () => {
  it('with tracing off, runs fn with a span that records nothing, and passes its result and failures through', async () => {
    expect(tracingIsOn()).toBe(false);
    const seen = await withSpan('off', { a: 1 }, async (span) => {
      span.setAttribute('ignored', true);
      return { recording: span.isRecording(), traceId: span.spanContext().traceId };
    });
    expect(seen).toEqual({ recording: false, traceId: '00000000000000000000000000000000' });
    await expect(withSpan('off', {}, async () => Promise.reject(new Error('async failure')))).rejects.toThrow('async failure');
    // A function that throws before returning a promise still gives a rejected promise, not a throw.
    const thrown = withSpan('off', {}, (() => {
      throw new Error('sync failure');
    }) as () => Promise<never>);
    await expect(thrown).rejects.toThrow('sync failure');
  });

  it('with a tracer provider registered, records the span, its attributes and its failure', async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    expect(tracingIsOn()).toBe(true);
    await withSpan('on', { 'mayfly.test': 'yes' }, async (span) => expect(span.isRecording()).toBe(true));
    await expect(withSpan('failing', {}, async () => Promise.reject(Object.assign(new Error('denied'), { code: 'ERR_POLICY_DENIED' })))).rejects.toThrow('denied');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['on', 'failing']);
    expect(spans[0]!.attributes['mayfly.test']).toBe('yes');
    expect(spans[1]!.attributes['mayfly.error.code']).toBe('ERR_POLICY_DENIED');
  });
});
