import { Server, ServerCredentials, status, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@mayfly/grpc';
import { DecideRequest, DecisionServiceClient, DecisionServiceService, Effect, type DecideResponse, type DecideStreamRequest, type DecideStreamResponse } from '@mayfly/proto';
import { batchedDecisions } from './batched-decisions.js';

/**
 * Against a decision service of an earlier release — real gRPC, in this process, serving Decide
 * and nothing else — as a rolling upgrade meets it: the stream and the batches it refuses
 * (UNIMPLEMENTED) go request by request, every caller gets its own answer, and no grant fails for
 * the upgrade. And against one whose streams end before answering (a replica shutting down).
 */
let server: Server;
let client: DecisionServiceClient;
const decided: string[] = [];
let endingServer: Server;
let endingClient: DecisionServiceClient;
/** Asks the ending server received on its stream before ending it, unanswered. */
const droppedOnStream: string[] = [];
const previousInsecure = process.env['MAYFLY_INSECURE_DEV'];

beforeAll(async () => {
  process.env['MAYFLY_INSECURE_DEV'] = 'true';
  server = new Server();
  const olderRelease = {
    decide: (call: ServerUnaryCall<DecideRequest, DecideResponse>, callback: sendUnaryData<DecideResponse>) => {
      decided.push(call.request.resource);
      // A little slow, so that requests pile up behind the one in flight.
      setTimeout(() => {
        if (call.request.resource === 'svc:refused') callback({ code: status.INVALID_ARGUMENT, details: 'resource: refused' });
        else callback(null, { effect: Effect.EFFECT_ALLOW, grantedActions: call.request.actions, maxTtlSeconds: 60, policyIds: ['p'], reasons: [], policyVersion: 'v', maxGrantSeconds: 0, heartbeatSeconds: 0, approval: undefined, breakGlass: false, policySetVersion: 1, breakGlassReviewerGroups: [] });
      }, 20);
    },
  };
  server.addService(DecisionServiceService, olderRelease as never);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  client = createClient(DecisionServiceClient, `127.0.0.1:${port}`, 'decision');

  endingServer = new Server();
  endingServer.addService(DecisionServiceService, {
    ...olderRelease,
    // Reads one message, then ends the stream with OK without answering it.
    decideStream: (call: ServerDuplexStream<DecideStreamRequest, DecideStreamResponse>) => {
      call.once('data', (ask: DecideStreamRequest) => {
        droppedOnStream.push(...ask.requests.map((r) => r.resource));
        call.end();
      });
    },
  } as never);
  const endingPort = await new Promise<number>((resolve, reject) => endingServer.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  endingClient = createClient(DecisionServiceClient, `127.0.0.1:${endingPort}`, 'decision');
});

afterAll(() => {
  client?.close();
  server?.forceShutdown();
  endingClient?.close();
  endingServer?.forceShutdown();
  if (previousInsecure === undefined) delete process.env['MAYFLY_INSECURE_DEV'];
  else process.env['MAYFLY_INSECURE_DEV'] = previousInsecure;
});

describe('batched decisions', () => {
  it('falls back to Decide, request by request, where neither DecideStream nor DecideBatch is served', async () => {
    const decide = batchedDecisions(client, { maxBatch: 8, maxInFlight: 1, overStream: true });
    const resources = ['svc:a', 'svc:b', 'svc:refused', 'svc:c', 'svc:d'];
    const answers = await Promise.all(
      resources.map((resource) =>
        decide(DecideRequest.fromPartial({ resource, actions: ['read'] }), undefined).then(
          (decision) => ({ resource, granted: decision.grantedActions }),
          (error: { code?: string }) => ({ resource, error: error.code }),
        ),
      ),
    );
    expect(answers).toEqual([
      { resource: 'svc:a', granted: ['read'] },
      { resource: 'svc:b', granted: ['read'] },
      { resource: 'svc:refused', error: 'ERR_INTERNAL' }, // no Mayfly code in a bare older server's trailers
      { resource: 'svc:c', granted: ['read'] },
      { resource: 'svc:d', granted: ['read'] },
    ]);
    // The first went alone; the four behind it were refused as a batch and went one by one.
    expect([...decided].sort()).toEqual([...resources].sort());
  });

  it('asks again by Decide what a stream ended without answering', async () => {
    decided.length = 0;
    const decide = batchedDecisions(endingClient, { maxBatch: 8, maxInFlight: 1, overStream: true });
    const resources = ['svc:e1', 'svc:e2', 'svc:e3'];
    const answers = await Promise.all(resources.map((resource) => decide(DecideRequest.fromPartial({ resource, actions: ['read'] }), undefined).then((decision) => decision.grantedActions)));
    expect(answers).toEqual([['read'], ['read'], ['read']]);
    // The first went over the stream, which ended unanswered; every request was then decided by Decide.
    expect(droppedOnStream).toContain('svc:e1');
    expect([...decided].sort()).toEqual(resources);
  });
});
