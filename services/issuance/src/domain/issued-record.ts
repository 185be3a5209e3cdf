
/**
 * The detail of a grant.issued audit record, which stands on its own (issue 9, point 8): what
 * was issued, until when, for which task, why, and on what decision — for a requested grant and
 * a delegated one alike. The caller adds how the holder proved itself, or the delegation chain.
 */
export function issuedDetail(grant: GrantRecord, how: { format: string; justification: string; boundTo: string | undefined }): Record<string, unknown> {
  return {
    tokenId: grant.token_id,
    format: how.format,
    resource: grant.resource,
    scopes: grant.actions,
    expiresAt: grant.expires_at.toISOString(),
    renewableUntil: grant.renewable_until.toISOString(),
    ...(grant.heartbeat_interval_seconds ? { heartbeatIntervalSeconds: grant.heartbeat_interval_seconds } : {}),
    ...(grant.single_use ? { singleUse: true } : {}),
    taskKind: grant.task_kind,
    taskReference: grant.task_reference,
    ...(how.justification ? { justification: how.justification } : {}),
    policyIds: grant.policy_ids,
    policyVersion: grant.policy_version,
    ...(how.boundTo ? { boundTo: how.boundTo } : {}),
  };
}import { type GrantRecord } from '@mayfly/model';

