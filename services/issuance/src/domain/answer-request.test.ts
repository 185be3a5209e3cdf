import type { ApprovalOutcome, ApprovalRequestRecord, ApprovalVoteRecord, PendingApproval } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import type { AuditEvent } from '@mayfly/proto';
import type { CredentialClaims, CredentialFormat } from '../credentials/credential-format.js';
import { answerRequest, type Answer, type AnswerPorts } from './answer-request.js';
import { newGrantRecord } from './grant-record.js';
import type { Approver } from './separation-of-duties.js';

/** Answering approval requests over an in-memory request (the row lock is the test's single thread). */
const ASKED_AT = new Date('2026-06-01T12:00:00Z');
const NOW = new Date(ASKED_AT.getTime() + 120_000);
const WORKLOAD = 'spiffe://example.org/payments/batch';

const person = (name: string, groups: string[]): Approver => ({ id: `https://idp.example#${name}`, name: `${name}@example.org`, email: `${name}@example.org`, groups });
const PEOPLE: Record<string, Approver> = {
  alice: person('alice', ['sre']),
  bob: person('bob', ['sre']),
  owner: person('olga', ['sre', 'payments']),
};

function world(options: { noLongerHolds?: string; threshold?: number } = {}) {
  const grant = {
    ...newGrantRecord({
      spiffeId: WORKLOAD,
      task: { id: 'deploy-7', kind: 'deploy', reference: 'change 7', deadline: undefined },
      resource: 'pg:ledger',
      decision: { grantedActions: ['write'], policyIds: ['needs-two'], policyVersion: 'v1' },
      status: 'pending_approval',
      issuedAt: ASKED_AT,
      expiresAt: new Date(ASKED_AT.getTime() + 600_000),
      renewableUntil: new Date(ASKED_AT.getTime() + 600_000),
      tokenLifetimeSeconds: 300,
      heartbeatIntervalSeconds: null,
    }),
    reviewed_at: null,
    reviewed_by: null,
    review: null,
    created_at: ASKED_AT,
  };
  const request: ApprovalRequestRecord = {
    grant_id: grant.id,
    rule: 'two-sres',
    approver_groups: ['sre'],
    threshold: options.threshold ?? 2,
    pending_until: new Date(ASKED_AT.getTime() + 600_000),
    approval_valid_seconds: 300,
    requested_ttl_seconds: 300,
    policy_max_ttl_seconds: 900,
    policy_max_grant_seconds: 0,
    justification: 'ship the fix',
    claim_secret_digest: 'digest',
    certificate_thumbprint: 'thumb-1',
    certificate_serial: '01',
    evidence: null,
    approved_at: null,
    rejected_at: null,
    created_at: ASKED_AT,
  };
  const state = { grant, request, votes: [] as ApprovalVoteRecord[], outcome: undefined as ApprovalOutcome | undefined };
  const audit: AuditEvent[] = [];
  const minted: CredentialClaims[] = [];
  const credentials: CredentialFormat = {
    name: 'test',
    mint: async (claims) => (minted.push(claims), `token-${claims.tokenId}`),
    inspect: async () => {
      throw new Error('not used');
    },
    reissuable: (token) => `saved:${token}`,
    reissue: (saved) => saved.slice(6),
  };
  const current = (): PendingApproval => ({ grant: state.grant, request: state.request, votes: state.votes });
  const ports: AnswerPorts = {
    verifyApprover: async (idToken) => {
      const found = PEOPLE[idToken];
      if (!found) throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is not signed by the approvers\' identity provider');
      return found;
    },
    findOwners: async () => ({ ownerTeam: 'payments', ownerContact: 'payments-oncall@example.org' }),
    recordAnswer: async (grantId, decide) => {
      if (grantId !== state.grant.id) return undefined;
      const decided = await decide(current());
      if (decided.vote) state.votes.push(decided.vote);
      if (decided.outcome) {
        state.outcome = decided.outcome;
        state.grant = { ...state.grant, status: decided.outcome.kind === 'approved' ? 'active' : 'denied' };
      }
      audit.push(...decided.events);
      return decided.result;
    },
    findApproval: async () => current(),
    commitEvents: async (events) => void audit.push(...events),
    deliverAudit: () => undefined,
    unauthenticatedRefusal: () => ({ kind: 'each' }),
    whyNoLongerHolds: async () => options.noLongerHolds,
  };
  const answer = (kind: Answer['kind'], idToken: string, reason = 'looks right', at = NOW) =>
    answerRequest({ kind, grantId: state.grant.id, idToken, reason, peer: '10.0.0.7' }, credentials, ports, { maxGrantSeconds: 28_800 }, at);
  return { state, audit, minted, answer };
}

const kinds = (audit: readonly AuditEvent[]) => audit.map((event) => event.kind);

describe('answerRequest', () => {
  it('issues at the threshold, with the access window starting then, bound to the session certificate', async () => {
    const w = world();
    expect((await w.answer('approve', 'alice')).issued).toBe(false);
    expect(w.minted).toEqual([]);
    const later = new Date(NOW.getTime() + 30_000);
    expect((await w.answer('approve', 'bob', 'ok', later)).issued).toBe(true);
    expect(w.minted).toHaveLength(1);
    expect(w.minted[0]).toMatchObject({ grantId: w.state.grant.id, scopes: ['write'], certificateThumbprint: 'thumb-1', issuedAt: later, expiresAt: new Date(later.getTime() + 300_000) });
    expect(w.state.outcome).toMatchObject({ kind: 'approved', issuedAt: later, tokenReissue: `saved:token-${w.state.grant.token_id}` });
    expect(kinds(w.audit)).toEqual(['grant.approval_recorded', 'grant.approval_recorded', 'grant.issued']);
  });

  it('counts one person once: a second approval by the same person is recorded as repeated and issues nothing', async () => {
    const w = world();
    await w.answer('approve', 'alice');
    expect((await w.answer('approve', 'alice')).issued).toBe(false);
    expect(w.state.votes).toHaveLength(1);
    expect(w.minted).toEqual([]);
    expect(kinds(w.audit)).toEqual(['grant.approval_recorded', 'grant.answer_repeated']);
  });

  it("refuses the workload's owner (separation of duties) and someone unauthenticated, each on record", async () => {
    const w = world({ threshold: 1 });
    await expect(w.answer('approve', 'owner')).rejects.toMatchObject({ code: 'ERR_APPROVER_NOT_ALLOWED' });
    await expect(w.answer('approve', 'mallory')).rejects.toMatchObject({ code: 'ERR_TOKEN_INVALID' });
    expect(w.minted).toEqual([]);
    expect(w.audit.map((event) => [event.kind, event.actor])).toEqual([
      ['grant.answer_refused', 'olga@example.org'],
      ['grant.answer_refused', 'unauthenticated'],
    ]);
  });

  it('ends the request at the threshold when what was approved no longer holds, issuing nothing', async () => {
    const w = world({ threshold: 1, noLongerHolds: 'the ceiling of the workload no longer covers write' });
    await expect(w.answer('approve', 'alice')).rejects.toMatchObject({ code: 'ERR_REQUEST_CHANGED' });
    expect(w.minted).toEqual([]);
    expect(w.state.outcome).toMatchObject({ kind: 'rejected' });
    expect(kinds(w.audit)).toEqual(['grant.approval_recorded', 'grant.approval_invalidated']);
  });

  it('needs a reason to reject; a rejection ends the request, and a later answer finds nothing pending', async () => {
    const w = world();
    await expect(w.answer('reject', 'alice', '')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await w.answer('reject', 'alice', 'wrong database');
    expect(w.state.outcome).toMatchObject({ kind: 'rejected', reason: 'rejected by alice@example.org: wrong database' });
    await expect(w.answer('approve', 'bob')).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_PENDING' });
    expect(w.minted).toEqual([]);
  });

  it('finds nothing pending past pending_until', async () => {
    const w = world({ threshold: 1 });
    await expect(w.answer('approve', 'alice', 'ok', new Date(ASKED_AT.getTime() + 601_000))).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_PENDING' });
    expect(w.minted).toEqual([]);
  });
});
