import { type ApprovalOutcome, type ApprovalVoteRecord, type AuditEventInput, type PendingApproval, auditEvent, toGrantMessage } from '@mayfly/model';
import { LIMITS, MayflyError, isMayflyError, sanitizeText, validateUuid } from '@mayfly/core';
import type { AuditEvent, Grant } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { grantBounds } from './grant-bounds.js';
import { issuedDetail } from './issued-record.js';
import type { RefusalRecord } from './refusal-records.js';
import { checkMayAnswer, type Approver } from './separation-of-duties.js';
import { mintGrantToken } from './grant-steps.js';

export interface AnswerPorts {
  /** The person an OIDC ID token names; throws ERR_TOKEN_INVALID if it is not one. */
  verifyApprover(idToken: string): Promise<Approver>;
  /** The registered owners of a workload, and whether it is disabled. */
  findOwners(spiffeId: string): Promise<{ ownerTeam: string; ownerContact: string; disabled?: boolean } | undefined>;
  /**
   * Under the grant's row lock: `decide` sees the request as it is now and says what to record;
   * the vote, the outcome and the audit events commit together. Undefined if no such request.
   */
  recordAnswer<T>(grantId: string, decide: (current: PendingApproval) => Promise<{ vote?: ApprovalVoteRecord; outcome?: ApprovalOutcome; events: readonly AuditEvent[]; result: T }>): Promise<T | undefined>;
  /** The grant with its approval state, as it is now. */
  findApproval(grantId: string): Promise<PendingApproval | undefined>;
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  deliverAudit(events: readonly AuditEvent[]): void;
  /** Whether, and how, to record a refusal of someone who proved no identity (see UnauthenticatedRefusals). */
  unauthenticatedRefusal(peer: string): RefusalRecord;
  /** At the threshold, before anything is issued: why the request no longer holds, if it does not (see whyRequestNoLongerHolds). */
  whyNoLongerHolds(current: PendingApproval): Promise<string | undefined>;
}

export interface AnswerOptions {
  /** MAYFLY_MAX_GRANT_SECONDS. */
  readonly maxGrantSeconds: number;
}

export interface Answer {
  readonly kind: 'approve' | 'reject';
  readonly grantId: string;
  readonly idToken: string;
  readonly reason: string;
  /** The caller's network address (host): refusals of unauthenticated callers are recorded per peer, sparingly. */
  readonly peer: string;
}

const SOURCE = 'issuance';

/**
 * One person's answer to a request that waits for approval. Steps: read → authenticate the
 * person (OIDC ID token) → under the grant's lock: still pending → separation of duties → count
 * (a person's second approval counts once) → at the threshold, issue the token with its lifetime
 * from now; a rejection ends the request → commit vote, outcome and audit together → wake the
 * waiting workload. Every refusal is audited, naming the person (or "unauthenticated").
 */
export async function answerRequest(answer: Answer, credentials: CredentialFormat, ports: AnswerPorts, options: AnswerOptions, now = new Date()): Promise<{ grant: Grant; issued: boolean }> {
  validateUuid('grant_id', answer.grantId);
  const reason = sanitizeText(answer.reason, LIMITS.reasonMaxLength);
  if (answer.kind === 'reject' && reason === '') throw new MayflyError('ERR_INVALID_ARGUMENT', 'reason: is required to reject: the workload\'s owners read it', { field: 'reason' });
  let approver: Approver | undefined;
  try {
    approver = await ports.verifyApprover(answer.idToken);
    const person = approver;
    const outcome = await ports.recordAnswer(answer.grantId, (current) => decide(answer.kind, reason, person, current, credentials, ports, options, now));
    if (outcome === undefined) throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${answer.grantId} is not waiting for approval (no such request: it never needed approval, or does not exist)`);
    if (outcome.ended) throw new MayflyError('ERR_REQUEST_CHANGED', `grant ${answer.grantId} was not issued and its request has ended: ${outcome.ended}; the workload must request again`);
    const state = await ports.findApproval(answer.grantId);
    return { grant: toGrantMessage(state!.grant, state), issued: outcome.issued };
  } catch (error) {
    // A request ended at approval is on record already (grant.approval_invalidated).
    if (!isMayflyError(error, 'ERR_REQUEST_CHANGED')) await auditRefusal(answer, approver, error, ports, now);
    throw error;
  }
}

/** What one answer did: issued the token, or ended the request because it no longer holds (why). */
interface AnswerResult {
  readonly issued: boolean;
  readonly ended: string | undefined;
}

async function decide(
  kind: Answer['kind'],
  reason: string,
  approver: Approver,
  current: PendingApproval,
  credentials: CredentialFormat,
  ports: AnswerPorts,
  options: AnswerOptions,
  now: Date,
): Promise<{ vote?: ApprovalVoteRecord; outcome?: ApprovalOutcome; events: readonly AuditEvent[]; result: AnswerResult }> {
  const { grant, request, votes } = current;
  if (grant.status !== 'pending_approval' || request.pending_until.getTime() <= now.getTime()) {
    const state = grant.status === 'pending_approval' ? 'past its pending_until' : grant.status === 'denied' ? 'rejected' : grant.status;
    throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id} is not waiting for approval (it is ${state})`);
  }
  const owners = await ports.findOwners(grant.spiffe_id);
  if (!owners || owners.disabled) {
    throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id} cannot be approved: its workload ${grant.spiffe_id} is ${owners ? 'disabled' : 'no longer registered'}`);
  }
  checkMayAnswer(approver, {
    approverGroups: request.approver_groups,
    workloadChain: [grant.spiffe_id, ...grant.delegators],
    ownerTeam: owners?.ownerTeam ?? '',
    ownerContact: owners?.ownerContact ?? '',
  });
  const record = (input: Omit<AuditEventInput, 'actor' | 'taskId' | 'grantId' | 'occurredAt'>): AuditEvent =>
    auditEvent(SOURCE, { ...input, actor: approver.name, grantId: grant.id, taskId: grant.task_id, occurredAt: now });
  const vote: ApprovalVoteRecord = { grant_id: grant.id, approver: approver.id, approver_name: approver.name, groups: [...approver.groups], approved: kind === 'approve', reason, at: now };
  const earlier = votes.find((existing) => existing.approver === approver.id);
  if (earlier) {
    // One person, one answer: a repeated one is recorded as such and changes nothing.
    return { events: [record({ kind: 'grant.answer_repeated', outcome: 'denied', detail: { answer: kind, earlier: earlier.approved ? 'approve' : 'reject', at: earlier.at.toISOString() } })], result: { issued: false, ended: undefined } };
  }
  if (kind === 'reject') {
    const ended = `rejected by ${approver.name}: ${reason}`;
    return { vote, outcome: { kind: 'rejected' as const, at: now, reason: ended }, events: [record({ kind: 'grant.rejected', outcome: 'success', detail: { reason, person: approver.id, groups: approver.groups, rule: request.rule } })], result: { issued: false, ended: undefined } };
  }
  const approvers = [...votes.filter((existing) => existing.approved).map((existing) => existing.approver_name ?? existing.approver), approver.name];
  const approved = record({ kind: 'grant.approval_recorded', outcome: 'success', detail: { reason, person: approver.id, groups: approver.groups, rule: request.rule, approvals: approvers.length, threshold: request.threshold } });
  if (approvers.length < request.threshold) return { vote, events: [approved], result: { issued: false, ended: undefined } };

  // The threshold is met: issue only what still holds now (ceiling, policy, workload, session).
  const changed = await ports.whyNoLongerHolds(current);
  if (changed) {
    const invalidated = record({ kind: 'grant.approval_invalidated', outcome: 'denied', detail: { reason: changed, rule: request.rule, approvers } });
    return { vote, outcome: { kind: 'rejected' as const, at: now, reason: `ended at approval: ${changed}` }, events: [approved, invalidated], result: { issued: false, ended: changed } };
  }

  // The threshold is met: issue now. The access window starts here, not at the request.
  const bounds = grantBounds({
    issuedAt: now,
    requestedTtlSeconds: request.requested_ttl_seconds,
    policyMaxTtlSeconds: request.policy_max_ttl_seconds,
    policyMaxGrantSeconds: request.policy_max_grant_seconds,
    globalMaxGrantSeconds: options.maxGrantSeconds,
    taskDeadline: grant.task_deadline ?? undefined,
  });
  const renewableUntil = grant.single_use ? bounds.expiresAt : bounds.renewableUntil;
  const token = await mintGrantToken(credentials, grant, { issuedAt: now, expiresAt: bounds.expiresAt, boundTo: request.certificate_thumbprint ?? undefined });
  const issuedGrant = { ...grant, issued_at: now, expires_at: bounds.expiresAt, renewable_until: renewableUntil, token_lifetime_seconds: bounds.tokenLifetimeSeconds };
  const issued = record({
    kind: 'grant.issued',
    outcome: 'success',
    detail: {
      ...issuedDetail(issuedGrant, { format: credentials.name, justification: request.justification, boundTo: request.certificate_thumbprint ?? undefined }),
      spiffeId: grant.spiffe_id,
      approval: { rule: request.rule, approvers, threshold: request.threshold, requestedAt: request.created_at.toISOString(), approvedAt: now.toISOString() },
    },
  });
  return {
    vote,
    outcome: {
      kind: 'approved' as const,
      at: now,
      issuedAt: now,
      expiresAt: bounds.expiresAt,
      renewableUntil,
      tokenLifetimeSeconds: bounds.tokenLifetimeSeconds,
      tokenReissue: credentials.reissuable(token),
    },
    events: [approved, issued],
    result: { issued: true, ended: undefined },
  };
}

async function auditRefusal(answer: Answer, approver: Approver | undefined, error: unknown, ports: AnswerPorts, now: Date): Promise<void> {
  if (!isMayflyError(error) || error.code === 'ERR_DEPENDENCY_UNAVAILABLE' || error.code === 'ERR_INTERNAL') return;
  // Someone who proved no identity buys a record only sparingly (per peer, then aggregated).
  const recording = approver ? ({ kind: 'each' } as const) : ports.unauthenticatedRefusal(answer.peer);
  if (recording.kind === 'none') return;
  const events = [
    auditEvent(SOURCE, {
      kind: 'grant.answer_refused',
      actor: approver?.name ?? 'unauthenticated',
      outcome: 'denied',
      grantId: answer.grantId,
      occurredAt: now,
      detail: {
        answer: answer.kind,
        code: error.code,
        reason: error.message,
        ...(approver ? { person: approver.id, groups: approver.groups } : { peer: answer.peer }),
        ...(recording.kind === 'aggregate' ? { refusedSinceLastRecord: recording.refusedSinceLastRecord } : {}),
      },
    }),
  ];
  await ports.commitEvents(events);
  ports.deliverAudit(events);
}
