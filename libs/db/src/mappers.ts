import { Grant, GrantStatus } from '@mayfly/proto';
import type { GrantRecord, GrantStatusName } from './schema.js';

const GRANT_STATUS: Record<GrantStatusName, GrantStatus> = {
  pending_approval: GrantStatus.GRANT_STATUS_PENDING_APPROVAL,
  active: GrantStatus.GRANT_STATUS_ACTIVE,
  completed: GrantStatus.GRANT_STATUS_COMPLETED,
  revoked: GrantStatus.GRANT_STATUS_REVOKED,
  expired: GrantStatus.GRANT_STATUS_EXPIRED,
  denied: GrantStatus.GRANT_STATUS_DENIED,
};

/** A grant row as the contract's Grant message. */
export function toGrantMessage(row: GrantRecord): Grant {
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
  });
}
