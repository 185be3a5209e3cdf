import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import { GrantStatus, RevocationServiceClient, Verdict } from '@mayfly/proto';
import { natsProxy } from '../support/nats-proxy.js';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 4: an acknowledged revocation is never lost. Committed while the revocation
// service cannot reach NATS, it is published when NATS returns; committed by a process killed
// (SIGKILL) before it could publish, it is published when the process is back. Meanwhile edges
// that hear no heartbeat fail closed; they never accept the revoked token.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('nothing_lost');
  // Only the revocation processes these tests start may publish: the mesh's own is stopped.
  await t.mesh.stopService('revocation');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const acquire = (label: string) =>
  t.client(DEV.subject).acquire({ task: { id: `${label}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'], ttlSeconds: 120 });
const sidecar = (token: string) =>
  callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
const revocationRow = (grantId: string) => t.db.selectFrom('revocations').selectAll().where('grant_id', '=', grantId).executeTakeFirst();

describe('17 nothing lost', () => {
  it('a revocation acknowledged while NATS is unreachable is published when NATS returns; edges fail closed meanwhile', async () => {
    const proxy = await natsProxy(new URL(t.natsUrl));
    const revocation = await t.mesh.startReplica('revocation', { env: { NATS_URL: proxy.url } });
    const client = createClient(RevocationServiceClient, revocation.address, 'revocation');
    try {
      const [revoked, other] = [await acquire('nats-away'), await acquire('nats-away-other')];
      await eventually(async () => (await sidecar(revoked.accessToken)).verdict === Verdict.VERDICT_ACCEPTED, 10_000, 100);

      proxy.cut();
      const response = await callUnary(client, client.revoke, { grantId: revoked.grant.id, reason: 'while NATS was away', requestedBy: 'e2e', finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED }, { target: 'revocation', timeoutMs: 10_000 });
      expect(response.published).toBe(false); // acknowledged: committed, waiting for NATS
      expect(await revocationRow(revoked.grant.id)).toMatchObject({ published_at: null });
      // No heartbeat reaches the edge: it refuses everything rather than accept the revoked token.
      await eventually(async () => (await sidecar(other.accessToken)).reasonCode === 'ERR_REVOCATION_FEED_STALE', 10_000, 100);
      expect((await sidecar(revoked.accessToken)).verdict).toBe(Verdict.VERDICT_REJECTED);

      proxy.heal();
      await eventually(async () => (await revocationRow(revoked.grant.id))?.published_at !== null, 15_000, 100);
      await eventually(async () => (await sidecar(other.accessToken)).verdict === Verdict.VERDICT_ACCEPTED, 15_000, 100);
      expect(await sidecar(revoked.accessToken)).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_REVOKED' });
    } finally {
      client.close();
      await revocation.stop();
      await proxy.close();
    }
  }, 60_000);

  it('a revocation service killed between its commit and its publish publishes the revocation when it is back', async () => {
    const revocation = await t.mesh.startReplica('revocation', { env: { MAYFLY_FAULT_INJECTION: 'crash-after-revocation-commit' } });
    const client = createClient(RevocationServiceClient, revocation.address, 'revocation');
    try {
      const grant = await acquire('crash-point');
      await eventually(async () => (await sidecar(grant.accessToken)).verdict === Verdict.VERDICT_ACCEPTED, 10_000, 100);
      const linesBefore = t.logLines.length;
      // The process dies after the commit: the caller gets no answer…
      await refusal(callUnary(client, client.revoke, { grantId: grant.grant.id, reason: 'killed mid-revoke', requestedBy: 'e2e', finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED }, { target: 'revocation', timeoutMs: 5_000 }));
      // …but the revocation is committed, and the supervised process, restarted, publishes it.
      expect(await t.db.selectFrom('grants').select('status').where('id', '=', grant.grant.id).executeTakeFirstOrThrow()).toEqual({ status: 'revoked' });
      await eventually(async () => (await revocationRow(grant.grant.id))?.published_at !== null, 15_000, 100);
      // The log line may trail the row's update on a busy machine (CI once read the log too early).
      await eventually(async () => t.logLines.slice(linesBefore).some((line) => line.startsWith('revocation') && line.includes('published revocations that were waiting for NATS')), 5_000, 50);
      await eventually(async () => (await sidecar(grant.accessToken)).reasonCode === 'ERR_TOKEN_REVOKED', 15_000, 100);
    } finally {
      client.close();
      await revocation.stop();
    }
  }, 60_000);
});
