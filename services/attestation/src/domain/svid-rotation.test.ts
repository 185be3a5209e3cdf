import { type SvidRecord, type WorkloadRecord } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { repeatedRotation, rotatedSvidExpiry } from './svid-rotation.js';

const ID = 'spiffe://example.org/edge/kiosk-7';
const NOW = new Date('2026-11-30T12:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const presented = { spiffeId: ID, serial: 'ab12' };
const workload = (fields: Partial<WorkloadRecord> = {}): WorkloadRecord =>
  ({ spiffe_id: ID, owner_team: 't', owner_contact: 'c', environment: 'dev', risk_tier: 'low', shared: false, ceiling: [], disabled_at: null, svids_not_before: null, created_at: at(-7200), ...fields }) as WorkloadRecord;
const svid = (fields: Partial<SvidRecord> = {}): SvidRecord => ({
  serial: 'ab12',
  spiffe_id: ID,
  evidence_digest: 'd',
  issued_at: at(-600),
  expires_at: at(600),
  revoked_at: null,
  revoke_reason: null,
  attestor: 'join-token',
  issuer: 'mayfly-join-token',
  claims: {},
  rotatable_until: at(86_400),
  rotated_at: null,
  rotated_from: null,
  public_key_sha256: null,
  certificate_pem: null,
  ...fields,
});
const refusal = (state: { workload?: WorkloadRecord | undefined; svid?: SvidRecord | undefined }, max = 3600) => {
  try {
    rotatedSvidExpiry(presented, { workload: workload(), svid: svid(), ...state }, max, NOW);
    return undefined;
  } catch (error) {
    return isMayflyError(error) ? `${error.code}: ${error.message}` : String(error);
  }
};

describe('rotatedSvidExpiry', () => {
  it('gives a join-token session a new certificate for MAYFLY_SVID_MAX_SECONDS, never past its rotatable_until', () => {
    expect(rotatedSvidExpiry(presented, { workload: workload(), svid: svid() }, 3600, NOW)).toEqual(at(3600));
    expect(rotatedSvidExpiry(presented, { workload: workload(), svid: svid({ rotatable_until: at(900) }) }, 3600, NOW)).toEqual(at(900));
  });

  it('refuses sessions that renew with evidence, and a session at its end', () => {
    expect(refusal({ svid: svid({ attestor: 'oidc', rotatable_until: null }) })).toMatch(/^ERR_SESSION_NOT_ROTATABLE: .*attested with oidc and renews with fresh evidence/);
    expect(refusal({ svid: svid({ rotatable_until: at(5) }) })).toMatch(/^ERR_SESSION_NOT_ROTATABLE: .*may rotate only until .*new join token/);
  });

  it('refuses a certificate rotated before (a second holder of its key), expired, revoked, or of a disabled workload', () => {
    expect(refusal({ svid: svid({ rotated_at: at(-60) }) })).toMatch(/^ERR_SVID_REJECTED: .*already rotated .*someone else holds its key/);
    expect(refusal({ svid: svid({ expires_at: at(-1) }) })).toMatch(/^ERR_SVID_REJECTED: .*expired/);
    expect(refusal({ svid: svid({ revoked_at: at(-10), revoke_reason: 'lost' }) })).toMatch(/^ERR_SVID_REJECTED: .*revoked/);
    expect(refusal({ workload: workload({ disabled_at: at(-10) }) })).toMatch(/^ERR_SVID_REJECTED: .*disabled/);
    expect(refusal({ workload: workload({ svids_not_before: at(-60) }) })).toMatch(/^ERR_SVID_REJECTED: .*issued before/);
    expect(refusal({ svid: undefined })).toMatch(/^ERR_SVID_REJECTED: .*not issued/);
  });

  it('answers a retry for the same key (the answer was lost) with the same certificate, and nothing else', () => {
    const rotated = svid({ rotated_at: at(-5) });
    const successor = svid({ serial: 'cd34', rotated_from: 'ab12', public_key_sha256: 'k1', certificate_pem: 'PEM', issued_at: at(-5), expires_at: at(3595) });
    const state = { workload: workload(), svid: rotated };
    expect(repeatedRotation(presented, state, successor, 'k1', NOW)).toBe(successor);
    expect(repeatedRotation(presented, state, successor, 'k2', NOW)).toBeUndefined(); // another key: a second holder
    expect(repeatedRotation(presented, { ...state, svid: svid() }, successor, 'k1', NOW)).toBeUndefined(); // not rotated yet
    expect(repeatedRotation(presented, state, { ...successor, revoked_at: at(-1) }, 'k1', NOW)).toBeUndefined();
    expect(repeatedRotation(presented, { ...state, workload: workload({ disabled_at: at(-1) }) }, successor, 'k1', NOW)).toBeUndefined();
    expect(repeatedRotation(presented, state, { ...successor, expires_at: at(-1) }, 'k1', NOW)).toBeUndefined();
  });
});
