import { WorkloadSession } from '@mayfly/client';
import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { DEMO, type DevIssuer } from '@mayfly/mesh';
import { IssuanceServiceClient } from '@mayfly/proto';
import { runLoad, type LoadPhase, type LoadTiming } from './load.js';
import { requestPeerToken } from './oauth-peer.js';
import { progress, endProgress } from './stats.js';

/**
 * Load comes from many workloads, as in production, and not one: each workload has its own
 * grant rate limit (default 50 per second), which the benchmark is not meant to measure, and its
 * own mutual-TLS connection. 64 (BENCH_WORKLOADS): at 64 callers that is as many connections as
 * the OAuth peer's client opens (fetch, one request per connection at a time), so neither side
 * gets more requests per socket write than the other; and the limit caps the mesh at 3,200
 * grants/s, above what two cores do. The 32 used until 2026-12-05 capped it at 1,600/s, which
 * session grants reached, and let two callers share each connection.
 */
export const BENCH_WORKLOADS = Number(process.env['BENCH_WORKLOADS'] ?? 64);
export const benchSubject = (i: number): string => `system:serviceaccount:bench:worker-${i % BENCH_WORKLOADS}`;

let taskCounter = 0;
/** A grant request of the bench workloads (one task each), on the demo resource unless told. */
export const grantBody = (label: string, resource: string = DEMO.resource) => ({
  task: { id: `bench-${label}-${++taskCounter}-${Date.now()}`, kind: 'bench', reference: '', deadline: undefined },
  resource,
  actions: ['read'],
  requestedTtlSeconds: 60,
  justification: '',
  idempotencyKey: '',
  heartbeatIntervalSeconds: 0,
  singleUse: false,
  breakGlass: false,
});

/** How a session's grants travel: a RequestGrant call each, or messages of its RequestGrantStream. */
export type SessionDoor = 'call' | 'stream';

/**
 * Grants within attested sessions: each of the bench workloads starts a session (StartSession,
 * evidence once) before the timed window; then grants go over mutual TLS with its X.509-SVID,
 * with no evidence and no attestation hop — by a RequestGrant call each, or (`stream`) as
 * messages of the session's RequestGrantStream, the way @mayfly/client asks within a session.
 */
export async function sessionGrants(issuer: DevIssuer, concurrency: number, timing: LoadTiming, door: SessionDoor = 'call'): Promise<LoadPhase> {
  const bootstrap = createClient(IssuanceServiceClient, serviceAddress('issuance'), 'issuance');
  const sessions: WorkloadSession[] = [];
  try {
    for (let i = 0; i < BENCH_WORKLOADS; i++) {
      sessions.push(
        await WorkloadSession.start({
          issuanceAddress: serviceAddress('issuance'),
          evidence: { oidcToken: await issuer.mint(benchSubject(i), { audience: DEMO.audience, ttlSeconds: 600 }) },
          timeoutMs: 5_000,
          bootstrap,
        }),
      );
    }
    const label = door === 'call' ? 'session grants' : 'session grants over the stream';
    return await runLoad(label, concurrency, timing, async (w) => {
      const session = sessions[(w + taskCounter) % sessions.length]!;
      const body = { ...grantBody('session'), evidence: undefined };
      if (door === 'stream') await session.requestGrant(body, 5_000);
      else await callUnary(session.client, session.client.requestGrant, body, { target: 'issuance' });
    });
  } finally {
    sessions.forEach((session) => session.close());
    bootstrap.close();
  }
}

/**
 * Grants with fresh evidence each (one-shot callers). The evidence is minted before the timed
 * window, as a workload's platform would mint it elsewhere; if the pool runs dry, the rest is
 * minted in the window and the count says so.
 */
export async function evidenceGrants(issuer: DevIssuer, concurrency: number, timing: LoadTiming, poolSize: number): Promise<LoadPhase & { mintedInWindow: number }> {
  const pool: string[] = [];
  for (let i = 0; i < poolSize; i++) {
    pool.push(await issuer.mint(benchSubject(i), { audience: DEMO.audience, ttlSeconds: 600 }));
    if (i % 1000 === 0) progress(`  minting evidence for the load: ${i}/${poolSize}`);
  }
  endProgress(`  minted ${poolSize} pieces of evidence before the timed window`);
  const client = createClient(IssuanceServiceClient, serviceAddress('issuance'), 'issuance');
  let mintedInWindow = 0;
  let next = 0;
  try {
    const phase = await runLoad('evidence grants', concurrency, timing, async () => {
      let evidence = pool[next++];
      if (evidence === undefined) {
        mintedInWindow += 1;
        evidence = await issuer.mint(benchSubject(next), { audience: DEMO.audience });
      }
      await callUnary(client, client.requestGrant, { ...grantBody('evidence'), evidence: { oidcToken: evidence } }, { target: 'issuance' });
    });
    return { ...phase, mintedInWindow };
  } finally {
    client.close();
  }
}

/** Tokens from the in-process OAuth 2.0 peer, by the client-credentials grant. */
export async function peerTokens(peer: { tokenUrl: string; authorization: string }, concurrency: number, timing: LoadTiming): Promise<LoadPhase> {
  return runLoad('oauth peer tokens', concurrency, timing, async () => {
    await requestPeerToken(peer);
  });
}
