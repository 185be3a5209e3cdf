import { describe, expect, it } from 'vitest';
import type { SvidRecord as SvidRow, WorkloadRecord as WorkloadRow } from './records.js';
import { sessionRefusal } from './session-refusal.js';

const ID = 'spiffe://example.org/ci/builder';
const cert = { spiffeId: ID, serial: 'ab12', thumbprint: 't', notBefore: new Date(1_000), notAfter: new Date(9_000) };
const workload = (fields: Partial<WorkloadRow> = {}): WorkloadRow =>
  ({ spiffe_id: ID, owner_team: 't', owner_contact: 'c', environment: 'dev', risk_tier: 'low', shared: false, ceiling: [], disabled_at: null, svids_not_before: null, created_at: new Date(0), ...fields }) as WorkloadRow;
const svid = (fields: Partial<SvidRow> = {}): SvidRow => ({ serial: 'ab12', spiffe_id: ID, evidence_digest: 'd', issued_at: new Date(1_000), expires_at: new Date(9_000), revoked_at: null, revoke_reason: null, attestor: 'oidc', issuer: 'https://issuer.example', claims: {}, rotatable_until: null, rotated_at: null, rotated_from: null, public_key_sha256: null, certificate_pem: null, ...fields });

describe('sessionRefusal', () => {
  it('accepts a certificate attestation issued to an enabled, registered workload', () => {
    expect(sessionRefusal(cert, workload(), svid())).toBeUndefined();
  });

  it('refuses an unregistered or disabled workload, and a certificate attestation never issued', () => {
    expect(sessionRefusal(cert, undefined, svid())).toMatch(/not a registered workload/);
    expect(sessionRefusal(cert, workload({ disabled_at: new Date(5_000) }), svid())).toMatch(/disabled/);
    expect(sessionRefusal(cert, workload(), undefined)).toMatch(/not issued/);
    expect(sessionRefusal(cert, workload(), svid({ spiffe_id: 'spiffe://example.org/other' }))).toMatch(/not issued/);
  });

  it('refuses a certificate revoked by serial, or issued before the workload\'s cut-off', () => {
    expect(sessionRefusal(cert, workload(), svid({ revoked_at: new Date(2_000), revoke_reason: 'key leaked' }))).toMatch(/revoked .*key leaked/);
    expect(sessionRefusal(cert, workload({ svids_not_before: new Date(1_500) }), svid())).toMatch(/issued before/);
    expect(sessionRefusal(cert, workload({ svids_not_before: new Date(500) }), svid())).toBeUndefined();
  });
});
