import { type GrantRecord } from '@mayfly/model';
import { newId } from '@mayfly/core';
import type { DecideResponse, Task } from '@mayfly/proto';

/** What differs between grants; everything else starts empty (no renewals, no heartbeat yet, no idempotency key, not delegated). */
export interface NewGrant {
  readonly spiffeId: string;
  readonly task: Task;
  readonly resource: string;
  readonly decision: Pick<DecideResponse, 'grantedActions' | 'policyIds' | 'policyVersion'> & Partial<Pick<DecideResponse, 'breakGlassReviewerGroups'>>;
  readonly status: GrantRecord['status'];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly renewableUntil: Date;
  readonly tokenLifetimeSeconds: number;
  readonly heartbeatIntervalSeconds: number | null;
  readonly singleUse?: boolean;
  readonly breakGlass?: boolean;
  readonly delegation?: { readonly parentGrantId: string; readonly ancestorGrantIds: readonly string[]; readonly delegators: readonly string[] };
}

/** A new grant row, with fresh grant and token ids: requested, held for approval, or delegated. */
export function newGrantRecord(grant: NewGrant): GrantRecord {
  return {
    id: newId(),
    spiffe_id: grant.spiffeId,
    task_id: grant.task.id,
    task_kind: grant.task.kind,
    task_reference: grant.task.reference,
    task_deadline: grant.task.deadline ?? null,
    resource: grant.resource,
    actions: [...grant.decision.grantedActions],
    status: grant.status,
    token_id: newId(),
    policy_ids: [...grant.decision.policyIds],
    policy_version: grant.decision.policyVersion,
    issued_at: grant.issuedAt,
    expires_at: grant.expiresAt,
    ended_at: null,
    end_reason: null,
    renewable_until: grant.renewableUntil,
    token_lifetime_seconds: grant.tokenLifetimeSeconds,
    renewals: 0,
    idempotency_key: null,
    request_digest: null,
    token_reissue: null,
    heartbeat_interval_seconds: grant.heartbeatIntervalSeconds,
    last_heartbeat_at: null,
    single_use: grant.singleUse ?? false,
    consumed_at: null,
    parent_grant_id: grant.delegation?.parentGrantId ?? null,
    ancestor_grant_ids: [...(grant.delegation?.ancestorGrantIds ?? [])],
    delegators: [...(grant.delegation?.delegators ?? [])],
    break_glass: grant.breakGlass ?? false,
    // Who reviews a break-glass grant afterwards: the groups its @break_glass policy's rule names.
    review_groups: grant.breakGlass ? [...(grant.decision.breakGlassReviewerGroups ?? [])] : [],
  };
}
