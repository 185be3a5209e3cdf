import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { GrantStatus, RevokeRequest } from '@mayfly/proto';
import { UNVERIFIED_CALLER, readRevokeRequest } from './revoke-request.js';

const GRANT = '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01';
const OPERATOR = 'spiffe://mayfly.local/mayfly/operator';
const request = (fields: Partial<RevokeRequest>) => RevokeRequest.fromPartial({ grantId: GRANT, reason: 'leaked', ...fields });

describe('readRevokeRequest', () => {
  it('names the verified caller as requester and keeps the claimed text only as a note', () => {
    expect(readRevokeRequest(request({ requestedBy: 'the CEO' }), OPERATOR)).toMatchObject({ requestedBy: OPERATOR, note: 'the CEO' });
    expect(readRevokeRequest(request({}), undefined).requestedBy).toBe(UNVERIFIED_CALLER);
  });

  it('never refuses a revocation for its reason: long, coloured, empty or control-laden text is cleaned up', () => {
    const long = readRevokeRequest(request({ reason: `\u001b[31m${'e'.repeat(5000)}\u001b[0m` }), OPERATOR);
    expect(long.reason.length).toBe(512);
    expect(long.reason).not.toContain('\u001b');
    expect(readRevokeRequest(request({ reason: '' }), OPERATOR).reason).toBe('no reason given');
    expect(readRevokeRequest(request({ reason: 'a\u0000b' }), OPERATOR).reason).toBe('a b');
  });

  it('still refuses what identifies the grant or the outcome', () => {
    expect(() => readRevokeRequest(request({ grantId: "x' OR 1=1" }), OPERATOR)).toThrow(/grant_id/);
    let error: unknown;
    try {
      readRevokeRequest(request({ finalStatus: GrantStatus.GRANT_STATUS_ACTIVE }), OPERATOR);
    } catch (e) {
      error = e;
    }
    expect(isMayflyError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
  });
});
