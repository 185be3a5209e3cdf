import { MayflyError } from '@mayfly/core';
import { findApproval, findGrant, findSessionState, findWorkload, latestWorkloadRevocationSince, recordBreakGlassReview, recordVote, sessionRefusal, toWorkloadMessage } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { RevokeRequest } from '@mayfly/proto';
import { auditEvent } from '@mayfly/model';
import { credentialIssuedDetail } from '../domain/credential-record.js';
import type { AuditEvent } from '@mayfly/proto';
import type { AnswerPorts } from '../domain/answer-request.js';
import { whyRequestNoLongerHolds, type RecheckPorts } from '../domain/approval-recheck.js';
import { UnauthenticatedRefusals } from '../domain/refusal-records.js';
import type { ReviewPorts } from '../domain/review-break-glass.js';
import type { PersonRevocationPorts, PersonRevocationTarget } from '../domain/revoke-as-person.js';
import type { ShrinkPorts } from '../domain/shrink-ceiling.js';
import type { WatchPorts } from '../domain/watch-grant.js';
import type { IssuanceInfrastructure } from './infrastructure.js';

/** The ports of what people call: answering approval requests, reviewing break-glass, watching a request. */
export function peoplePorts(infra: IssuanceInfrastructure): { answers: AnswerPorts; reviews: ReviewPorts; watching: WatchPorts; revocations: PersonRevocationPorts; shrinks: ShrinkPorts } {
  const { db, audit, store, decision, people, deliverAudit } = infra;
  const verifyApprover = async (idToken: string) => {
    if (!people) throw new MayflyError('ERR_CONFIG', "no approvers' identity provider is configured (MAYFLY_APPROVER_ISSUER, MAYFLY_APPROVER_JWKS_URL): nobody can approve here");
    return people.verify(idToken);
  };
  const findOwners = async (spiffeId: string) => {
    const row = await findWorkload(db, spiffeId);
    return row ? { ownerTeam: row.owner_team, ownerContact: row.owner_contact, disabled: row.disabled_at !== null } : undefined;
  };
  // Refusals of people who proved no identity: recorded sparingly per peer, then aggregated.
  const unauthenticatedRefusals = new UnauthenticatedRefusals();
  const unauthenticatedRefusal = (peer: string) => unauthenticatedRefusals.record(peer);
  const recheck: RecheckPorts = {
    findWorkload: async (spiffeId) => {
      const row = await findWorkload(db, spiffeId);
      return row ? { workload: toWorkloadMessage(row), disabledAt: row.disabled_at ?? undefined } : undefined;
    },
    sessionRefusal: async (spiffeId, serial) => {
      const { workload, svid } = await findSessionState(db, spiffeId, serial);
      if (svid && svid.expires_at.getTime() <= Date.now()) return `certificate ${serial} expired at ${svid.expires_at.toISOString()}`;
      return sessionRefusal({ spiffeId, serial }, workload, svid);
    },
    workloadRevokedSince: async (spiffeId, since) => {
      const row = await latestWorkloadRevocationSince(db, spiffeId, since);
      return row ? { revokedAt: row.revoked_at, reason: row.reason } : undefined;
    },
    decide: (request) => callUnary(decision, decision.decide, request, { target: 'decision' }),
  };
  const answers: AnswerPorts = {
    verifyApprover,
    findOwners,
    unauthenticatedRefusal,
    whyNoLongerHolds: (current) => whyRequestNoLongerHolds(current, recheck),
    recordAnswer: async (grantId, decide) => {
      let committed: readonly AuditEvent[] = [];
      const result = await recordVote(
        db,
        grantId,
        async (current) => {
          const decided = await decide(current);
          committed = decided.events;
          return { ...decided, events: audit.outboxEntries(decided.events) };
        },
        audit.owner,
      );
      deliverAudit(committed);
      return result;
    },
    findApproval: (grantId) => findApproval(db, grantId),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const reviews: ReviewPorts = {
    verifyApprover,
    findOwners,
    unauthenticatedRefusal,
    findGrant: (grantId) => findGrant(db, grantId),
    commitReview: (review, events) => recordBreakGlassReview(db, review, { owner: audit.owner, entries: audit.outboxEntries(events) }),
    commitEvents: (events) => store.commitEvents(events),
    deliverAudit,
  };
  const watching: WatchPorts = {
    findApproval: (grantId) => findApproval(db, grantId),
    waitForChange: (grantId, timeoutMs) => infra.grantStates.waitForChange(grantId, timeoutMs),
    collectCredential: async (grant, grantToken) => {
      const credential = await infra.credentials.collect(grant, grantToken);
      const detail = credentialIssuedDetail(credential);
      if (detail) {
        const events = [auditEvent('issuance', { kind: 'credential.issued', actor: grant.spiffe_id, outcome: 'success', grantId: grant.id, taskId: grant.task_id, detail: { ...detail, collectedAfterApproval: true } })];
        await store.commitEvents(events);
        deliverAudit(events);
      }
      return credential;
    },
  };
  const revocationTarget = (target: PersonRevocationTarget): Partial<RevokeRequest> =>
    target.kind === 'grant' ? { grantId: target.grantId } : target.kind === 'task' ? { task: { taskId: target.taskId, spiffeId: target.spiffeId } } : { workload: { spiffeId: target.spiffeId, issuedBefore: undefined } };
  const revocations: PersonRevocationPorts = {
    verifyApprover,
    findOwners,
    findGrant: (grantId) => findGrant(db, grantId),
    revoke: async (target, reason, requestedBy) => {
      const answer = await callUnary(infra.revocation, infra.revocation.revoke, RevokeRequest.fromPartial({ ...revocationTarget(target), reason, requestedBy }), { target: 'revocation' });
      return { grantsEnded: answer.grantsEnded, revocationId: answer.revocation?.id ?? '' };
    },
  };
  const shrinks: ShrinkPorts = {
    verifyApprover,
    findWorkload: async (spiffeId) => {
      const row = await findWorkload(db, spiffeId);
      return row ? toWorkloadMessage(row) : undefined;
    },
    replaceCeiling: async (workload, ceiling, reason) => {
      const answer = await callUnary(infra.registry, infra.registry.updateWorkload, { workload: { ...workload, ceiling: [...ceiling] }, reason }, { target: 'attestation' });
      return answer.exceedingGrants.map((grant) => grant.id);
    },
    revokeGrant: async (grantId, reason, requestedBy) => {
      await callUnary(infra.revocation, infra.revocation.revoke, RevokeRequest.fromPartial({ grantId, reason, requestedBy }), { target: 'revocation' });
    },
  };
  return { answers, reviews, watching, revocations, shrinks };
}
