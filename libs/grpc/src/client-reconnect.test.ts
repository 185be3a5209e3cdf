import { Server, ServerCredentials, connectivityState } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MayflyError, createLogger } from '@mayfly/core';
import { DecideRequest, DecisionServiceClient, DecisionServiceService, Effect } from '@mayfly/proto';
import { callUnary, createClient } from './client.js';
import { unary } from './handlers.js';

// A real grpc-js client whose peer is not there yet, then is. CI once failed a grant with
// "decision is unavailable: No connection established" right after the mesh reported every
// service SERVING: issuance's channel had failed to connect while decision was still starting
// and was waiting out its backoff, failing every call at once.

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const ALLOW = { effect: Effect.EFFECT_ALLOW, grantedActions: [], maxTtlSeconds: 1, maxGrantSeconds: 0, heartbeatSeconds: 0, policyIds: [], reasons: [], policyVersion: 'v', policySetVersion: 1, breakGlassReviewerGroups: [] };
const closers: Array<() => void> = [];

beforeAll(() => {
  process.env['MAYFLY_INSECURE_DEV'] = 'true'; // plaintext in this process, explicitly
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(port: number): Promise<number> {
  const server = new Server();
  server.addService(DecisionServiceService, { decide: unary(quiet, 'mayfly.v1.DecisionService/Decide', async () => ALLOW) });
  closers.push(() => server.forceShutdown());
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
}

/** A port that was free a moment ago: a server took it and let it go. */
async function vacatedPort(): Promise<number> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  server.forceShutdown();
  return port;
}

/** A client to nothing, left failing until its backoff has grown well past the time a bind takes. */
async function clientInBackoff(port: number): Promise<DecisionServiceClient> {
  const client = createClient(DecisionServiceClient, `127.0.0.1:${port}`, 'decision');
  closers.push(() => client.close());
  const channel = client.getChannel();
  channel.getConnectivityState(true);
  // Backoff starts at 100 ms and grows 1.6 times per failure: after 1.5 s the wait is ~0.4–1 s.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await new Promise<void>((resolve) => {
    const waitForFailure = (): void => {
      const state = channel.getConnectivityState(false);
      if (state === connectivityState.TRANSIENT_FAILURE) return resolve();
      channel.watchConnectivityState(state, Date.now() + 5_000, waitForFailure);
    };
    waitForFailure();
  });
  return client;
}

describe('callUnary on a channel that failed to connect', () => {
  it('waits for the reconnection when the peer has come back, instead of failing at once', async () => {
    const port = await vacatedPort();
    const client = await clientInBackoff(port);
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.TRANSIENT_FAILURE);
    await listen(port);
    const answer = await callUnary(client, client.decide, DecideRequest.fromPartial({ resource: 'pg:ok' }), { target: 'decision', timeoutMs: 5_000 });
    expect(answer.effect).toBe(Effect.EFFECT_ALLOW);
  });

  it('still fails with the channel\'s reason, before the deadline, when the peer stays away', async () => {
    const port = await vacatedPort();
    const client = await clientInBackoff(port);
    const started = Date.now();
    const error = await callUnary(client, client.decide, DecideRequest.fromPartial({ resource: 'pg:ok' }), { target: 'decision', timeoutMs: 1_000 }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(MayflyError);
    expect((error as MayflyError).code).toBe('ERR_DEPENDENCY_UNAVAILABLE');
    expect((error as MayflyError).message).toMatch(/decision is unavailable: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
