import { type StoredGrant, auditEvent } from '@mayfly/model';
import { LIMITS, MayflyError, isMayflyError, sanitizeText, validateUuid } from '@mayfly/core';
import type { AuditEvent } from '@mayfly/proto';
import type { RefusalRecord } from './refusal-records.js';
import { checkInGroups, ownsWorkload, type Approver } from './separation-of-duties.js';

export interface ReviewPorts {
  verifyApprover(idToken: string): Promise<Approver>;
  findGrant(grantId: string): Promise<StoredGrant | undefined>;
  findOwners(spiffeId: string): Promise<{ ownerTeam: string; ownerContact: string } | undefined>;
  /** Records the review with its audit events; false when someone reviewed it first. */
  commitReview(review: { grantId: string; reviewer: string; text: string; at: Date }, events: readonly AuditEvent[]): Promise<boolean>;
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  deliverAudit(events: readonly AuditEvent[]): void;
  /** Whether, and how, to record a refusal of someone who proved no identity (see UnauthenticatedRefusals). */
  unauthenticatedRefusal(peer: string): RefusalRecord;
}

/**
 * The mandatory after-action review of a break-glass grant: by a person in one of the groups its
 * policy's rule names (kept with the grant) who is not among the workload's owners (nor the
 * workload), with what happened and whether the access was warranted. Once reviewed, the grant
 * leaves the unreviewed list. Refusals are audited.
 */
export async function reviewBreakGlass(request: { grantId: string; idToken: string; review: string; peer: string }, ports: ReviewPorts, now = new Date()): Promise<StoredGrant> {
  validateUuid('grant_id', request.grantId);
  const text = sanitizeText(request.review, LIMITS.reasonMaxLength);
  if (text === '') throw new MayflyError('ERR_INVALID_ARGUMENT', 'review: is required: what happened, and was the access warranted?', { field: 'review' });
  let reviewer: Approver | undefined;
  try {
    reviewer = await ports.verifyApprover(request.idToken);
    const grant = await ports.findGrant(request.grantId);
    if (!grant?.break_glass) throw new MayflyError('ERR_GRANT_NOT_FOUND', `no break-glass grant has id ${request.grantId}`);
    if (grant.reviewed_at) throw new MayflyError('ERR_GRANT_NOT_PENDING', `break-glass grant ${grant.id} was reviewed already, by ${grant.reviewed_by} at ${grant.reviewed_at.toISOString()}`);
    // Grants from before reviewer groups were kept name none: then any approver group will do —
    // never a person in no group at all.
    if (grant.review_groups.length > 0) checkInGroups(reviewer, grant.review_groups, 'named to review this break-glass grant');
    else if (reviewer.groups.length === 0) throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${reviewer.name} is in no group: a break-glass grant is reviewed by someone its policy's rule names`);
    const owners = await ports.findOwners(grant.spiffe_id);
    if (!owners || ownsWorkload(reviewer, owners)) {
      throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${reviewer.name} owns the workload that broke the glass (team ${owners?.ownerTeam}); someone else reviews it`);
    }
    const events = [
      auditEvent('issuance', {
        kind: 'grant.break_glass_reviewed',
        actor: reviewer.name,
        outcome: 'success',
        grantId: grant.id,
        taskId: grant.task_id,
        occurredAt: now,
        detail: { review: text, person: reviewer.id, groups: reviewer.groups, spiffeId: grant.spiffe_id, incidentReference: grant.task_reference, issuedAt: grant.issued_at.toISOString() },
      }),
    ];
    if (!(await ports.commitReview({ grantId: grant.id, reviewer: reviewer.name, text, at: now }, events))) {
      throw new MayflyError('ERR_GRANT_NOT_PENDING', `break-glass grant ${grant.id} was reviewed meanwhile`);
    }
    ports.deliverAudit(events);
    return { ...grant, reviewed_at: now, reviewed_by: reviewer.name, review: text };
  } catch (error) {
    // Someone who proved no identity buys a record only sparingly (per peer, then aggregated).
    const recording = reviewer ? ({ kind: 'each' } as const) : ports.unauthenticatedRefusal(request.peer);
    if (isMayflyError(error) && error.code !== 'ERR_DEPENDENCY_UNAVAILABLE' && error.code !== 'ERR_INTERNAL' && recording.kind !== 'none') {
      const detail = {
        code: error.code,
        reason: error.message,
        ...(reviewer ? { person: reviewer.id } : { peer: request.peer }),
        ...(recording.kind === 'aggregate' ? { refusedSinceLastRecord: recording.refusedSinceLastRecord } : {}),
      };
      const events = [auditEvent('issuance', { kind: 'grant.break_glass_review_refused', actor: reviewer?.name ?? 'unauthenticated', outcome: 'denied', grantId: request.grantId, occurredAt: now, detail })];
      await ports.commitEvents(events);
      ports.deliverAudit(events);
    }
    throw error;
  }
}
