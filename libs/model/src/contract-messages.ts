import { Grant, GrantStatus, RiskTier, Workload } from '@mayfly/proto';
import type { ApprovalRequestRecord as ApprovalRequestRow, ApprovalVoteRecord as ApprovalVoteRow, GrantRecord, GrantStatusName, WorkloadRecord as WorkloadRow } from './records.js';

const GRANT_STATUS: Record<GrantStatusName, GrantStatus> = {
  pending_approval: GrantStatus.GRANT_STATUS_PENDING_APPROVAL,
  active: GrantStatus.GRANT_STATUS_ACTIVE,
  completed: GrantStatus.GRANT_STATUS_COMPLETED,
  revoked: GrantStatus.GRANT_STATUS_REVOKED,
  expired: GrantStatus.GRANT_STATUS_EXPIRED,
  denied: GrantStatus.GRANT_STATUS_DENIED,
};

/** A grant row as the contract's Grant message, with its approval state when it needed one. */
export function toGrantMessage(row: GrantRecord & { reviewed_at?: Date | null; reviewed_by?: string | null; review?: string | null }, approval?: { request: ApprovalRequestRow; votes: readonly ApprovalVoteRow[] }): Grant {
  return Grant.fromPartial({
    id: row.id,
    spiffeId: row.spiffe_id,
    task: {
      id: row.task_id,
      kind: row.task_kind,
      reference: row.task_reference,
      deadline: row.task_deadline ?? undefined,
    },
    resource: row.resource,
    actions: row.actions,
    status: GRANT_STATUS[row.status],
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    tokenId: row.token_id,
    policyIds: row.policy_ids,
    endedAt: row.ended_at ?? undefined,
    endReason: row.end_reason ?? '',
    renewableUntil: row.renewable_until,
    renewals: row.renewals,
    heartbeatIntervalSeconds: row.heartbeat_interval_seconds ?? 0,
    singleUse: row.single_use,
    delegation: row.parent_grant_id ? { delegators: row.delegators, parentGrantIds: row.ancestor_grant_ids } : undefined,
    approval: approval
      ? {
          requirement: {
            rule: approval.request.rule,
            approverGroups: approval.request.approver_groups,
            threshold: approval.request.threshold,
            pendingSeconds: Math.round((approval.request.pending_until.getTime() - approval.request.created_at.getTime()) / 1000),
            approvalValidSeconds: approval.request.approval_valid_seconds,
          },
          votes: approval.votes.map((vote) => ({ approver: vote.approver_name ?? vote.approver, groups: vote.groups, approved: vote.approved, reason: vote.reason, at: vote.at })),
          pendingUntil: approval.request.pending_until,
          approvedAt: approval.request.approved_at ?? undefined,
        }
      : undefined,
    breakGlass: row.break_glass
      ? { incidentReference: row.task_reference, reviewedAt: row.reviewed_at ?? undefined, reviewedBy: row.reviewed_by ?? '', review: row.review ?? '' }
      : undefined,
  });
}

const RISK_TIER: Record<WorkloadRow['risk_tier'], RiskTier> = {
  low: RiskTier.RISK_TIER_LOW,
  medium: RiskTier.RISK_TIER_MEDIUM,
  high: RiskTier.RISK_TIER_HIGH,
  critical: RiskTier.RISK_TIER_CRITICAL,
};

/** A registry row as the proto message the decision service reads. */
export function toWorkloadMessage(row: WorkloadRow): Workload {
  return Workload.fromPartial({
    spiffeId: row.spiffe_id,
    ownerTeam: row.owner_team,
    ownerContact: row.owner_contact,
    environment: row.environment,
    riskTier: RISK_TIER[row.risk_tier],
    shared: row.shared,
    ceiling: row.ceiling,
    breakGlassAllowed: row.break_glass_allowed,
  });
}

