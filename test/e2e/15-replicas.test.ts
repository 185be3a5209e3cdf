import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus } from '@mayfly/bus';
import { MayflyClient } from '@mayfly/client';
import { callUnary, createClient } from '@mayfly/grpc';
import type { MeshReplica } from '@mayfly/mesh';
import { GrantStatus, RevocationServiceClient } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 8: replicas share the load. A client given several addresses (a headless Service's pods
// in Kubernetes; an "ipv4:" list here) spreads calls over all of them, and servers close
// connections after MAYFLY_GRPC_MAX_CONNECTION_AGE_MS so that clients re-resolve and find new
// replicas — with no failed call when they do.

let t: TestMesh;
let decisionReplica: MeshReplica;
let issuanceReplica: MeshReplica;

beforeAll(async () => {
  t = await startTestMesh('replicas', {
    env: { MAYFLY_GRPC_MAX_CONNECTION_AGE_MS: '1000', MAYFLY_GRANT_RATE_PER_SECOND: '0', MAYFLY_REVOCATION_STREAM_CHECK_MS: '300', MAYFLY_EXPIRY_SWEEP_MS: '200' },
  });
  decisionReplica = await t.mesh.startReplica('decision');
  // A second issuance that knows both decision replicas, as a headless Service would list them.
  issuanceReplica = await t.mesh.startReplica('issuance', { env: { MAYFLY_DECISION_ADDR: `ipv4:${t.mesh.addresses.decision},${decisionReplica.address}` } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** The process's count of decisions made, from its Prometheus endpoint. */
async function decisionsMade(metricsAddress: string): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return [...text.matchAll(/^mayfly_decisions_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('15 replicas', () => {
  it('spreads decisions over both decision replicas, across connection recycling, with no failed grant', async () => {
    const before = [await decisionsMade(`127.0.0.1:${t.mesh.ports.metrics.decision}`), await decisionsMade(decisionReplica.metricsAddress)];
    const client = t.client(DEV.subject);
    const viaReplica = new MayflyClient({ issuanceAddress: issuanceReplica.address, evidence: () => t.evidence(DEV.subject), session: false });
    const failures: unknown[] = [];
    const started = Date.now();
    let grants = 0;
    // Longer than two connection ages: every connection is recycled at least once under load.
    while (Date.now() - started < 3_000) {
      await Promise.all(
        [viaReplica, viaReplica, client].map((workload, n) =>
          workload
            .acquire({ task: { id: `replicas-${grants}-${n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'] })
            .then((grant) => grant.release())
            .catch((error: unknown) => failures.push(error)),
        ),
      );
      grants += 3;
    }
    viaReplica.close();
    expect(failures).toEqual([]);
    const after = [await decisionsMade(`127.0.0.1:${t.mesh.ports.metrics.decision}`), await decisionsMade(decisionReplica.metricsAddress)];
    const made = after.map((count, i) => count - before[i]!);
    // The first issuance (one address) sent a third of the grants, all to the first decision;
    // the replica issuance sent the other two thirds, spread over both decisions — each about a
    // third of all grants. Its DecideStreams must not all sit on one replica.
    const fromReplicaIssuance = [made[0]! - grants / 3, made[1]!];
    const spread = `decisions per replica: ${made.join(', ')} of ${grants} grants`;
    expect(fromReplicaIssuance[0], spread).toBeGreaterThan(grants / 6);
    expect(fromReplicaIssuance[1], spread).toBeGreaterThan(grants / 6);
    expect(made[0]! + made[1]!).toBe(grants);
  }, 30_000);

  it('two revocation replicas: revocations through either reach every edge once, expiry sweeps do not collide, the stream guards agree', async () => {
    const revocationReplica = await t.mesh.startReplica('revocation');
    const nats = await connectBus(t.natsUrl, 'mayfly-e2e-replicas-edge');
    const states: string[] = [];
    const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats, ...t.stream, onFeedStateChange: (state) => states.push(state) });
    await edge.ready;
    const replicaClient = createClient(RevocationServiceClient, revocationReplica.address, 'revocation');
    try {
      const client = t.client(DEV.subject);
      const acquire = (n: number, ttlSeconds = 60) =>
        client.acquire({ task: { id: `revocation-replicas-${n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'], ttlSeconds });
      const grants = await Promise.all(Array.from({ length: 8 }, (_, n) => acquire(n)));
      const shortLived = await Promise.all(Array.from({ length: 6 }, (_, n) => acquire(100 + n, 1)));
      const revoked = grants.slice(0, 6);
      await Promise.all(
        revoked.map((grant, n) => {
          const via = n % 2 === 0 ? t.revocation : replicaClient;
          return callUnary(via, via.revoke, { grantId: grant.grant.id, reason: `via replica ${n % 2}`, requestedBy: 'e2e', finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED }, { target: 'revocation' });
        }),
      );
      for (const grant of revoked) await eventually(async () => !(await edge.verify(grant.accessToken, { audience: RESOURCE })).ok);
      for (const grant of revoked) expect(await edge.verify(grant.accessToken, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
      for (const grant of grants.slice(6)) expect((await edge.verify(grant.accessToken, { audience: RESOURCE })).ok).toBe(true);

      // Both replicas sweep expired grants: each is marked expired, and audited, exactly once.
      const ids = shortLived.map((grant) => grant.grant.id);
      await eventually(async () => (await t.db.selectFrom('grants').select('status').where('id', 'in', ids).execute()).every((row) => row.status === 'expired'), 10_000, 100);
      await eventually(async () => (await t.db.selectFrom('audit_events').select('grant_id').where('kind', '=', 'grant.expired').where('grant_id', 'in', ids).execute()).length === ids.length, 10_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // several more sweeps and stream checks by both
      const expiredEvents = await t.db.selectFrom('audit_events').select('grant_id').where('kind', '=', 'grant.expired').where('grant_id', 'in', ids).execute();
      expect(expiredEvents.map((event) => event.grant_id).sort()).toEqual([...ids].sort());
      const revokedEvents = await t.db.selectFrom('audit_events').select('grant_id').where('kind', '=', 'grant.revoked').where('grant_id', 'in', revoked.map((grant) => grant.grant.id)).execute();
      expect(revokedEvents).toHaveLength(revoked.length);

      // Neither guard found the stream wanting (each republishes once when it starts, by design),
      // so no edge was sent back to resync.
      expect(states.filter((state) => state !== 'live' && state !== 'catching-up')).toEqual([]);
      const repairs = t.logLines.filter((line) => line.includes('revocation stream repaired'));
      expect(repairs.filter((line) => !line.includes('first check since the revocation service started'))).toEqual([]);
    } finally {
      replicaClient.close();
      await edge.close();
      await nats.close();
      await revocationReplica.stop();
    }
  }, 60_000);
});
