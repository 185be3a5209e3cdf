import { connectivityState, credentials, status } from '@grpc/grpc-js';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import { DecisionServiceClient, DecisionServiceService, Effect, type DecideStreamRequest, type DecideStreamResponse } from '@mayfly/proto';
import { withSpan } from '@mayfly/telemetry';
import { MAX_UNANSWERED, answeringStream } from './answering-stream.js';
import { AskingStream, StreamEndedError } from './asking-stream.js';
import { connectEagerly, createClient } from './client.js';
import { startGrpcServer, type RunningGrpcServer } from './server.js';

// A real grpc-js server (startGrpcServer, plaintext development mode) and a real client in this
// process: asks and answers over one DecideStream, deadlines, rotation, and a server shutting
// down with asks in hand.

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const previousInsecure = process.env['MAYFLY_INSECURE_DEV'];

/** What the server did: calls opened, asks handled. */
let streamsOpened = 0;
let asksHandled = 0;
/** How long the handler takes for an ask whose first request names this resource. */
const DELAYS: Record<string, number> = { 'svc:slow': 300, 'svc:never': 60_000 };

/** Asks for 'svc:held' wait for this until a test releases it. */
let releaseHeld: () => void = () => undefined;
let held = new Promise<void>((resolve) => (releaseHeld = resolve));

let server: RunningGrpcServer;
let client: DecisionServiceClient;

async function startServer(port = 0): Promise<RunningGrpcServer> {
  const handler = answeringStream<DecideStreamRequest, DecideStreamResponse>(quiet, 'mayfly.v1.DecisionService/DecideStream', async ({ id, requests }) => {
    asksHandled += 1;
    if (requests[0]?.resource === 'svc:held') await held;
    const delay = DELAYS[requests[0]?.resource ?? ''] ?? 0;
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay).unref());
    return withSpan('decide', {}, async () => ({
      id,
      outcomes: requests.map((request) => ({
        decision: { effect: Effect.EFFECT_ALLOW, grantedActions: request.actions, maxTtlSeconds: 60, policyIds: [request.resource], reasons: [], policyVersion: 'v', maxGrantSeconds: 0, heartbeatSeconds: 0, approval: undefined, breakGlass: false, policySetVersion: 1, breakGlassReviewerGroups: [] },
        error: undefined,
      })),
    }));
  });
  return startGrpcServer({
    host: '127.0.0.1',
    port,
    healthPort: 0,
    log: quiet,
    services: [{ name: 'mayfly.v1.DecisionService', definition: DecisionServiceService, implementation: { decideStream: (call: Parameters<typeof handler>[0]) => ((streamsOpened += 1), handler(call)) } }],
  });
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const ends = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > ends) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const asking = (maxAgeMs = 60_000) => new AskingStream(client, () => client.decideStream(), { method: 'mayfly.v1.DecisionService/DecideStream', target: 'decision', maxAgeMs });
const askFor = (resource: string) => ({ requests: [{ resource, actions: ['read'], workload: undefined, task: undefined, requestedTtlSeconds: 0, justification: '', delegation: undefined, breakGlass: false, evidence: undefined }] });

beforeAll(async () => {
  process.env['MAYFLY_INSECURE_DEV'] = 'true';
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  server = await startServer();
  client = createClient(DecisionServiceClient, `127.0.0.1:${server.port}`, 'decision');
});

afterEach(() => {
  streamsOpened = 0;
  asksHandled = 0;
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(100);
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  if (previousInsecure === undefined) delete process.env['MAYFLY_INSECURE_DEV'];
  else process.env['MAYFLY_INSECURE_DEV'] = previousInsecure;
});

describe('asking stream', () => {
  it('carries many asks over one call, each answered with its own outcome', async () => {
    const stream = asking();
    const resources = Array.from({ length: 200 }, (_, i) => `svc:${i}`);
    const answers = await Promise.all(resources.map((resource) => stream.ask(askFor(resource))));
    expect(answers.map((answer) => answer.outcomes[0]?.decision?.policyIds[0])).toEqual(resources);
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(200);
    expect(streamsOpened).toBe(1);
    expect(asksHandled).toBe(200);
    stream.close();
  });

  it(`reads no more than ${MAX_UNANSWERED} asks of one stream at once: the rest wait unread until one is answered`, async () => {
    const stream = asking();
    const answers = Promise.all(Array.from({ length: MAX_UNANSWERED + 5 }, () => stream.ask(askFor('svc:held'))));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(asksHandled).toBe(MAX_UNANSWERED);
    releaseHeld();
    expect(await answers).toHaveLength(MAX_UNANSWERED + 5);
    expect(asksHandled).toBe(MAX_UNANSWERED + 5);
    held = new Promise<void>((resolve) => (releaseHeld = resolve));
    stream.close();
  });

  it('reads no more from a caller that takes no answers: answers do not pile up in the server', async () => {
    // A caller whose HTTP/2 receive window stays shut (1 byte, never read from) takes no answers:
    // once a few KB are buffered each write waits, and an ask counts until its answer has left.
    // (The answers echo the 8 KB resource name: small writes are taken in before they are sent.)
    const stalled = new DecisionServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure(), { 'grpc-node.flow_control_window': 1 });
    const call = stalled.decideStream();
    call.on('error', () => undefined);
    const asks = MAX_UNANSWERED * 3;
    for (let id = 1; id <= asks; id++) call.write({ id, traceparent: '', ...askFor(`svc:stalled-${id}-${'x'.repeat(8_000)}`) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(asksHandled).toBeGreaterThanOrEqual(MAX_UNANSWERED);
    expect(asksHandled).toBeLessThanOrEqual(MAX_UNANSWERED + 2);
    call.cancel();
    stalled.close();
  });

  it('with streams: n, asks take n streams in turn, each opened once', async () => {
    const stream = new AskingStream(client, () => client.decideStream(), { method: 'mayfly.v1.DecisionService/DecideStream', target: 'decision', maxAgeMs: 60_000, streams: 3 });
    for (let i = 0; i < 9; i += 1) expect((await stream.ask(askFor(`svc:pool-${i}`))).outcomes[0]?.decision?.policyIds).toEqual([`svc:pool-${i}`]);
    expect(streamsOpened).toBe(3);
    expect(asksHandled).toBe(9);
    stream.close();
  });

  it('continues the asker’s trace in the server', async () => {
    exporter.reset();
    const stream = asking();
    await withSpan('grant', {}, () => stream.ask(askFor('svc:traced')));
    stream.close();
    const spans = exporter.getFinishedSpans();
    const grant = spans.find((s) => s.name === 'grant')!;
    const clientSpan = spans.find((s) => s.name === 'mayfly.v1.DecisionService/DecideStream' && s.kind === 2)!; // CLIENT
    const serverSpan = spans.find((s) => s.name === 'mayfly.v1.DecisionService/DecideStream' && s.kind === 1)!; // SERVER
    const handlerSpan = spans.find((s) => s.name === 'decide')!;
    expect(new Set([grant, clientSpan, serverSpan, handlerSpan].map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(clientSpan.parentSpanContext?.spanId).toBe(grant.spanContext().spanId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
    expect(handlerSpan.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
  });

  it('rejects an ask its deadline passes for with ERR_DEADLINE_EXCEEDED, and keeps the stream for the next', async () => {
    const stream = asking();
    const started = Date.now();
    await expect(stream.ask(askFor('svc:never'), new Date(Date.now() + 150))).rejects.toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await stream.ask(askFor('svc:after'))).outcomes[0]?.decision?.policyIds).toEqual(['svc:after']);
    expect(streamsOpened).toBe(1);
    stream.close();
  });

  it('opens a new stream once the open one is older than maxAgeMs; the old one still answers its asks', async () => {
    const stream = asking(100);
    const slow = stream.ask(askFor('svc:slow'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const later = await stream.ask(askFor('svc:later'));
    expect(later.outcomes[0]?.decision?.policyIds).toEqual(['svc:later']);
    expect((await slow).outcomes[0]?.decision?.policyIds).toEqual(['svc:slow']);
    expect(streamsOpened).toBe(2);
    stream.close();
  });

  it('an ask made while the channel waits out a reconnection backoff waits for it, instead of failing without reaching the server', async () => {
    // The peer is not up yet (as when issuance starts before decision): the channel's first
    // attempts fail, and it sits in TRANSIENT_FAILURE between retries.
    const port = await freePort();
    const earlyClient = connectEagerly(createClient(DecisionServiceClient, `127.0.0.1:${port}`, 'decision'));
    await until(() => earlyClient.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE);
    const late = await startServer(port);
    try {
      const stream = new AskingStream(earlyClient, () => earlyClient.decideStream(), { method: 'mayfly.v1.DecisionService/DecideStream', target: 'decision', maxAgeMs: 60_000 });
      // A stream opened now would end at once with UNAVAILABLE (StreamEndedError), and the
      // caller would fall back to a call for something the stream could have carried.
      const answer = await stream.ask(askFor('svc:after-backoff'));
      expect(answer.outcomes[0]?.decision?.policyIds).toEqual(['svc:after-backoff']);
      expect(streamsOpened).toBe(1);
      stream.close();
    } finally {
      earlyClient.close();
      await late.shutdown(100);
    }
  });

  it('a server shutting down answers the asks in hand, ends its streams at once, and later asks fail as StreamEndedError', async () => {
    const own = await startServer();
    const ownClient = createClient(DecisionServiceClient, `127.0.0.1:${own.port}`, 'decision');
    const stream = new AskingStream(ownClient, () => ownClient.decideStream(), { method: 'mayfly.v1.DecisionService/DecideStream', target: 'decision', maxAgeMs: 60_000 });
    await stream.ask(askFor('svc:warm')); // the stream is open
    const inHand = stream.ask(askFor('svc:slow'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server has it
    const started = Date.now();
    // Without ending its streams, the shutdown would wait out the whole grace period.
    await own.shutdown(10_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await inHand).outcomes[0]?.decision?.policyIds).toEqual(['svc:slow']);
    const refused = await stream.ask(askFor('svc:gone')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StreamEndedError);
    expect((refused as StreamEndedError).cause.code).toBe(status.UNAVAILABLE);
    ownClient.close();
  });
});
