import type { Database, Kysely, SvidRow, WorkloadRow } from '@mayfly/db';
import { describe, expect, it } from 'vitest';
import type { SessionCertificate } from '../domain/workload-identity.js';
import { PostgresSessionRegistry, type SessionLookup } from './postgres-session-registry.js';

const SPIFFE_ID = 'spiffe://example.org/ns/ci/sa/builder';
const certificate: SessionCertificate = { spiffeId: SPIFFE_ID, serial: 'a1b2', thumbprint: 't', notBefore: new Date(0), notAfter: new Date(Date.now() + 3_600_000) };

const workload = (disabledAt: Date | null = null): WorkloadRow => ({
  spiffe_id: SPIFFE_ID, owner_team: 'ci', owner_contact: 'ci@example.org', environment: 'dev', risk_tier: 'low', shared: false,
  ceiling: [{ resource: 'svc:orders', actions: ['read'] }], disabled_at: disabledAt, break_glass_allowed: false, svids_not_before: null, created_at: new Date(0),
});
const svid: SvidRow = {
  serial: 'a1b2', spiffe_id: SPIFFE_ID, evidence_digest: 'd', issued_at: new Date(1_000), expires_at: new Date(Date.now() + 3_600_000), revoked_at: null, revoke_reason: null,
  attestor: 'oidc', issuer: 'https://issuer.example.org', claims: { sub: 'builder' }, rotatable_until: null, rotated_at: null, rotated_from: null, public_key_sha256: null, certificate_pem: null,
};

/** A registry whose reads are counted and answered when the test says so. */
function registry(ttlMs: number) {
  const reads: ((answer: Awaited<ReturnType<SessionLookup>>) => void)[] = [];
  const lookUp: SessionLookup = () => new Promise((resolve) => reads.push(resolve));
  return { sessions: new PostgresSessionRegistry(undefined as unknown as Kysely<Database>, ttlMs, lookUp), reads };
}

describe('PostgresSessionRegistry', () => {
  it('reads the registry once for all the grants that find a session unknown or expired at once', async () => {
    const { sessions, reads } = registry(60_000);
    const checks = Array.from({ length: 20 }, () => sessions.check(certificate));
    await Promise.resolve();
    expect(reads).toHaveLength(1);
    reads[0]!({ workload: workload(), svid });
    const answers = await Promise.all(checks);
    expect(answers.every((answer) => answer.workload.spiffeId === SPIFFE_ID && answer.evidence.attestor === 'oidc')).toBe(true);
    await sessions.check(certificate); // remembered: no read
    expect(reads).toHaveLength(1);
  });

  it('reads again once the answer is older than its bound, and a shared refusal refuses every waiter', async () => {
    const { sessions, reads } = registry(0);
    const first = sessions.check(certificate);
    await Promise.resolve();
    reads[0]!({ workload: workload(), svid });
    await first;
    const later = [sessions.check(certificate), sessions.check(certificate)];
    await Promise.resolve();
    expect(reads).toHaveLength(2);
    reads[1]!({ workload: workload(new Date('2026-12-01T00:00:00Z')), svid });
    for (const check of later) await expect(check).rejects.toThrow(/disabled/);
  });

  it('a failed read fails its waiters and is not remembered', async () => {
    let calls = 0;
    const lookUp: SessionLookup = async () => {
      calls += 1;
      if (calls === 1) throw new Error('database unreachable');
      return { workload: workload(), svid };
    };
    const sessions = new PostgresSessionRegistry(undefined as unknown as Kysely<Database>, 60_000, lookUp);
    const waiting = [sessions.check(certificate), sessions.check(certificate)];
    for (const check of waiting) await expect(check).rejects.toThrow('database unreachable');
    await expect(sessions.check(certificate)).resolves.toMatchObject({ workload: { spiffeId: SPIFFE_ID } });
    expect(calls).toBe(2);
  });
});
