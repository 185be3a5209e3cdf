import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { GrantStatus, RevokeRequest } from '@mayfly/proto';
import { UNVERIFIED_CALLER, readRevokeRequest } from './revoke-request.js';

const GRANT = '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01';
const OPERATOR = 'spiffe://mayfly.local/mayfly/operator';
const WORKLOAD = 'spiffe://mayfly.local/ci/builder';
const NOW = new Date('2026-11-23T10:00:00Z');
const request = (fields: Partial<RevokeRequest>) => RevokeRequest.fromPartial({ grantId: GRANT, reason: 'leaked', ...fields });

function refusal(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    expect(isMayflyError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
    return error as Error;
  }
  throw new Error('expected a refusal');
}

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
    expect(refusal(() => readRevokeRequest(request({ grantId: "x' OR 1=1" }), OPERATOR)).message).toMatch(/grant_id/);
    refusal(() => readRevokeRequest(request({ finalStatus: GrantStatus.GRANT_STATUS_ACTIVE }), OPERATOR));
  });

  it('reads each scope of target', () => {
    const only = (fields: Partial<RevokeRequest>) => readRevokeRequest(RevokeRequest.fromPartial(fields), OPERATOR, NOW).target;
    expect(only({ grantId: GRANT })).toEqual({ kind: 'grant', grantId: GRANT });
    expect(only({ tokenId: GRANT })).toEqual({ kind: 'token', tokenId: GRANT });
    expect(only({ task: { taskId: 'deploy-42', spiffeId: '' } })).toEqual({ kind: 'task', taskId: 'deploy-42', spiffeId: undefined });
    expect(only({ task: { taskId: 'deploy-42', spiffeId: WORKLOAD } })).toEqual({ kind: 'task', taskId: 'deploy-42', spiffeId: WORKLOAD });
    expect(only({ workload: { spiffeId: WORKLOAD, issuedBefore: undefined } })).toEqual({ kind: 'workload', spiffeId: WORKLOAD, issuedBefore: NOW });
    const earlier = new Date('2026-11-23T09:00:00Z');
    expect(only({ workload: { spiffeId: WORKLOAD, issuedBefore: earlier } })).toEqual({ kind: 'workload', spiffeId: WORKLOAD, issuedBefore: earlier });
    expect(only({ keyId: 'Zm9vYmFy_-' })).toEqual({ kind: 'key', keyId: 'Zm9vYmFy_-' });
  });

  it('wants exactly one target', () => {
    expect(refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ reason: 'x' }), OPERATOR)).message).toMatch(/name what to revoke/);
    expect(refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ grantId: GRANT, keyId: 'abc' }), OPERATOR)).message).toMatch(/only one target/);
  });

  it('refuses a watermark in the future, a malformed target, and COMPLETED beyond one grant', () => {
    const later = new Date(NOW.getTime() + 60_000);
    expect(refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ workload: { spiffeId: WORKLOAD, issuedBefore: later } }), OPERATOR, NOW)).message).toMatch(/in the future/);
    refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ workload: { spiffeId: 'not-spiffe' } }), OPERATOR, NOW));
    refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ keyId: 'a b/c' }), OPERATOR));
    refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ task: { taskId: '', spiffeId: '' } }), OPERATOR));
    expect(
      refusal(() => readRevokeRequest(RevokeRequest.fromPartial({ workload: { spiffeId: WORKLOAD }, finalStatus: GrantStatus.GRANT_STATUS_COMPLETED }), OPERATOR, NOW)).message,
    ).toMatch(/ends a grant or a task/);
  });
});
