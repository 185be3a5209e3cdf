import { generateKeyPairSync } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyClient, WorkloadSession, joinTokenEvidence } from '@mayfly/client';
import { callUnary, createClient } from '@mayfly/grpc';
import { AttestationServiceClient, RegistryServiceClient, RequestGrantRequest, RiskTier, Workload } from '@mayfly/proto';
import { AUDIENCE, DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// A workload bootstrapped with a join token has no evidence to present again: its session rotates
// its certificate over mutual TLS instead, until the session's rotatable_until. Each certificate
// rotates once; revocation and disabling end the chain; sessions attested with platform evidence
// renew with fresh evidence. Real processes, real PostgreSQL.

const SVID_SECONDS = 15;
const JOIN_TOKEN_SESSION_SECONDS = 120;
let t: TestMesh;
let registry: RegistryServiceClient;
let attestation: AttestationServiceClient;
beforeAll(async () => {
  t = await startTestMesh('session-rotation', {
    env: { MAYFLY_SVID_MAX_SECONDS: String(SVID_SECONDS), MAYFLY_JOIN_TOKEN_SESSION_SECONDS: String(JOIN_TOKEN_SESSION_SECONDS), MAYFLY_SESSION_CHECK_CACHE_MS: '200' },
  });
  registry = createClient(RegistryServiceClient, t.mesh.addresses.attestation, 'attestation');
  attestation = createClient(AttestationServiceClient, t.mesh.addresses.attestation, 'attestation');
}, 60_000);
afterAll(async () => {
  registry?.close();
  attestation?.close();
  await t?.close();
});

let n = 0;
/** A registered kiosk and a join token for it. */
async function kioskWithToken(): Promise<{ spiffeId: string; token: string }> {
  const spiffeId = `spiffe://e2e.mayfly.test/edge/kiosk-${++n}-${Date.now()}`;
  await callUnary(registry, registry.createWorkload, {
    workload: Workload.fromPartial({ spiffeId, ownerTeam: 'stores', ownerContact: 'stores@example.com', environment: 'dev', riskTier: RiskTier.RISK_TIER_LOW, ceiling: [{ resource: RESOURCE, actions: ['read'] }] }),
    reason: 'rotation e2e',
  });
  const { token } = await callUnary(registry, registry.createJoinToken, { spiffeId, ttlSeconds: 300, reason: 'rotation e2e' });
  return { spiffeId, token };
}
const start = (token: string) => WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: joinTokenEvidence(token), timeoutMs: 10_000, bootstrap: t.issuance });
const rotate = (session: WorkloadSession) => session.rotate(t.mesh.addresses.issuance, 10_000);
const grantWithin = (session: WorkloadSession) =>
  callUnary(session.client, session.client.requestGrant, RequestGrantRequest.fromPartial({ task: { id: `rotation-${++n}`, kind: 'ci-job', reference: 'R-1' }, resource: RESOURCE, actions: ['read'], requestedTtlSeconds: 60 }), { target: 'issuance' });
const audited = (kind: string, actor: string) => t.db.selectFrom('audit_events').select(['detail', 'outcome']).where('kind', '=', kind).where('actor', '=', actor).execute();

describe('35 session rotation', () => {
  it('a join-token session rotates its certificate without evidence: same identity and claims, a new key, never past rotatable_until', async () => {
    const kiosk = await kioskWithToken();
    const first = await start(kiosk.token);
    const sessions = [first];
    try {
      expect(first.rotatableUntil!.getTime()).toBeGreaterThan(Date.now() + (JOIN_TOKEN_SESSION_SECONDS - 10) * 1000);
      expect(first.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + SVID_SECONDS * 1000);

      const second = await rotate(first);
      sessions.push(second);
      expect(second).toMatchObject({ spiffeId: kiosk.spiffeId, rotatableUntil: first.rotatableUntil });
      expect(second.serial).not.toBe(first.serial);
      expect(second.certificate.equals(first.certificate)).toBe(false);
      expect(second.expiresAt.getTime()).toBeLessThanOrEqual(first.rotatableUntil!.getTime());
      // The rotated certificate is a session certificate like the first: grants within it, bound to it.
      const grant = await grantWithin(second);
      expect(grant.grant?.spiffeId).toBe(kiosk.spiffeId);
      // Its grants' policies still see what the join token attested.
      const svids = await t.db.selectFrom('svids').select(['serial', 'attestor', 'claims', 'rotated_from', 'rotated_at']).where('spiffe_id', '=', kiosk.spiffeId).orderBy('issued_at').execute();
      expect(svids).toEqual([
        expect.objectContaining({ serial: first.serial, attestor: 'join-token', rotated_at: expect.any(Date) }),
        expect.objectContaining({ serial: second.serial, attestor: 'join-token', rotated_from: first.serial, claims: expect.objectContaining({ spiffe_id: kiosk.spiffeId }) }),
      ]);
      // And the chain goes on from the new certificate.
      const third = await rotate(second);
      sessions.push(third);
      expect(third.spiffeId).toBe(kiosk.spiffeId);
      await eventually(async () => (await audited('session.rotated', kiosk.spiffeId)).length === 2, 10_000, 100);
      expect((await audited('session.rotated', kiosk.spiffeId)).map((event) => (event.detail as { rotatedFrom: string }).rotatedFrom)).toEqual([first.serial, second.serial]);
    } finally {
      for (const session of sessions) session.close(true);
    }
  });

  it('a certificate rotates once: a retry for the same key gets the same certificate; a rotation for another key (a second holder) is refused and audited', async () => {
    const kiosk = await kioskWithToken();
    const first = await start(kiosk.token);
    const second = await rotate(first);
    try {
      // The answer was lost, say: the client retries with the same new key and gets the same certificate.
      const retried = await rotate(first);
      expect([retried.serial, retried.certificatePem]).toEqual([second.serial, second.certificatePem]);
      retried.close(true);
      // Someone else holding the first certificate's key asks for a certificate for their own key.
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const again = await refusal(callUnary(first.client, first.client.startSession, { evidence: undefined, publicKey: publicKey.export({ type: 'spki', format: 'der' }) }, { target: 'issuance' }));
      expect([wireStatus(again), again.code, again.message]).toEqual([status.UNAUTHENTICATED, 'ERR_SVID_REJECTED', expect.stringContaining('already rotated')]);
      await eventually(async () => (await audited('session.rotation_refused', kiosk.spiffeId)).length === 1, 10_000, 100);
      expect((await audited('session.rotation_refused', kiosk.spiffeId))[0]).toMatchObject({ outcome: 'denied', detail: { svidSerial: first.serial, reason: expect.stringContaining('someone else holds its key') } });
    } finally {
      first.close(true);
      second.close(true);
    }
  });

  it('revoking the certificate or disabling the workload ends the chain', async () => {
    const revoked = await kioskWithToken();
    const session = await start(revoked.token);
    const disabled = await kioskWithToken();
    const other = await start(disabled.token);
    try {
      await callUnary(attestation, attestation.revokeSvids, { serial: session.serial, spiffeId: '', issuedBefore: undefined, reason: 'kiosk stolen' });
      const refusedRevoked = await refusal(rotate(session));
      expect([refusedRevoked.code, refusedRevoked.message]).toEqual(['ERR_SVID_REJECTED', expect.stringContaining('kiosk stolen')]);

      await callUnary(attestation, attestation.setWorkloadEnabled, { spiffeId: disabled.spiffeId, enabled: false, reason: 'decommissioned' });
      const refusedDisabled = await refusal(rotate(other));
      expect([refusedDisabled.code, refusedDisabled.message]).toEqual(['ERR_SVID_REJECTED', expect.stringContaining('disabled')]);
    } finally {
      session.close(true);
      other.close(true);
    }
  });

  it('a session attested with platform evidence renews with fresh evidence, not by rotation', async () => {
    const session = await WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: { oidcToken: await t.issuer.mint(DEV.subject, { audience: AUDIENCE }) }, timeoutMs: 10_000, bootstrap: t.issuance });
    try {
      expect(session.rotatableUntil).toBeUndefined();
      const error = await refusal(rotate(session));
      expect([wireStatus(error), error.code, error.message]).toEqual([status.FAILED_PRECONDITION, 'ERR_SESSION_NOT_ROTATABLE', expect.stringContaining('renews with fresh evidence')]);
    } finally {
      session.close(true);
    }
  });

  it('without evidence and without a session certificate, StartSession is refused; only issuance may call RotateSvid', async () => {
    const bare = await refusal(callUnary(t.issuance, t.issuance.startSession, { evidence: undefined, publicKey: Buffer.alloc(91, 1) }, { target: 'issuance' }));
    expect([wireStatus(bare), bare.message]).toEqual([status.INVALID_ARGUMENT, expect.stringContaining('unless the call rotates a session')]);
    // The operator is a mesh identity, but not issuance.
    const direct = await refusal(callUnary(attestation, attestation.rotateSvid, { spiffeId: DEV.spiffeId, serial: 'ab', publicKey: Buffer.alloc(91, 1) }));
    expect(wireStatus(direct)).toBe(status.PERMISSION_DENIED);
  });

  it('the client library rotates a join-token session by itself, presenting the token only once', async () => {
    const kiosk = await kioskWithToken();
    let evidenceCalls = 0;
    const errors: unknown[] = [];
    const client = new MayflyClient({
      issuanceAddress: t.mesh.addresses.issuance,
      evidence: () => {
        evidenceCalls += 1;
        return joinTokenEvidence(kiosk.token);
      },
      onSessionError: (error) => errors.push(error),
    });
    try {
      const before = await client.acquire({ task: { id: `kiosk-a-${Date.now()}`, kind: 'ci-job', reference: 'R-1', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
      const certificate = await client.sessionCertificate();
      // The client renews at about two thirds of the certificate's life (15 s here).
      await eventually(async () => !(await client.sessionCertificate())!.equals(certificate!), SVID_SECONDS * 1000, 250);
      const after = await client.acquire({ task: { id: `kiosk-b-${Date.now()}`, kind: 'ci-job', reference: 'R-1', deadline: undefined }, resource: RESOURCE, actions: ['read'], autoRenew: false });
      expect([before.grant.spiffeId, after.grant.spiffeId]).toEqual([kiosk.spiffeId, kiosk.spiffeId]);
      expect(evidenceCalls).toBe(1);
      expect(errors).toEqual([]);
      await before.release();
      await after.release();
    } finally {
      client.close();
    }
  }, 30_000);
});
