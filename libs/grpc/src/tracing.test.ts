import { Server, ServerCredentials } from '@grpc/grpc-js';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyError, createLogger } from '@mayfly/core';
import { DecideRequest, DecisionServiceClient, DecisionServiceService, Effect } from '@mayfly/proto';
import { withSpan } from '@mayfly/telemetry';
import { callUnary, createClient } from './client.js';
import { unary } from './handlers.js';

// A real grpc-js server on port 0 and a real client, with spans collected in memory: the
// client's trace continues in the server and in what the handler does.

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
let server: Server;
let client: DecisionServiceClient;

beforeAll(async () => {
  // A plaintext server in this process: the development mode, explicitly.
  process.env['MAYFLY_INSECURE_DEV'] = 'true';
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  server = new Server();
  server.addService(DecisionServiceService, {
    decide: unary(quiet, 'mayfly.v1.DecisionService/Decide', async (request: { resource: string }) =>
      withSpan('decide', {}, async () => {
        if (request.resource === 'pg:forbidden') throw new MayflyError('ERR_POLICY_DENIED', 'denied: test');
        return { effect: Effect.EFFECT_ALLOW, grantedActions: [], maxTtlSeconds: 1, maxGrantSeconds: 0, heartbeatSeconds: 0, policyIds: [], reasons: [], policyVersion: 'v', policySetVersion: 1, breakGlassReviewerGroups: [] };
      }),
    ),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  client = createClient(DecisionServiceClient, `127.0.0.1:${port}`, 'decision');
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('trace propagation over gRPC', () => {
  it('joins client, server and handler spans in one trace, parent to child', async () => {
    exporter.reset();
    await withSpan('caller', {}, () => callUnary(client, client.decide, DecideRequest.fromPartial({ resource: 'pg:ok' })));
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((span) => [span.name, span]));
    const caller = byName.get('caller')!;
    const clientSpan = spans.find((s) => s.name === 'mayfly.v1.DecisionService/Decide' && s.kind === 2)!; // CLIENT
    const serverSpan = spans.find((s) => s.name === 'mayfly.v1.DecisionService/Decide' && s.kind === 1)!; // SERVER
    const decide = byName.get('decide')!;
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(clientSpan.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(decide.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    expect(serverSpan.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'mayfly.v1.DecisionService', 'rpc.method': 'Decide', 'rpc.grpc.status_code': 0 });
  });

  it('records the status of a refused call; a refusal is not a server fault', async () => {
    exporter.reset();
    await expect(callUnary(client, client.decide, DecideRequest.fromPartial({ resource: 'pg:forbidden' }))).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    const serverSpan = exporter.getFinishedSpans().find((s) => s.kind === 1)!;
    expect(serverSpan.attributes).toMatchObject({ 'rpc.grpc.status_code': 7, 'mayfly.error.code': 'ERR_POLICY_DENIED' });
    expect(serverSpan.status.code).not.toBe(2); // not ERROR
  });
});
