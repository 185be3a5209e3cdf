import type { GrantRecord, NewApprovalRequest } from '@mayfly/model';
import { riskTierToJSON, type Workload } from '@mayfly/proto';

/**
 * What people are told needs them: a request waiting for approval, or a break-glass grant to
 * review. It says what and where to look — never why: the justification (free text, perhaps
 * naming systems, customers or incidents) is read signed in, through ApprovalService or the
 * console, not by whoever a bus or a chat channel lets read.
 */
export type Announcement =
  | { readonly event: 'approval.pending'; readonly grantId: string; readonly message: Record<string, unknown>; readonly summary: string; readonly link: string | undefined }
  | { readonly event: 'break_glass.issued'; readonly grantId: string; readonly message: Record<string, unknown>; readonly summary: string; readonly link: string | undefined };

const riskTier = (workload: Workload): string => riskTierToJSON(workload.riskTier).replace('RISK_TIER_', '').toLowerCase();
const pageOf = (consoleUrl: string | undefined, grantId: string): string | undefined => (consoleUrl ? `${consoleUrl.replace(/\/+$/, '')}/grants/${encodeURIComponent(grantId)}` : undefined);

export function pendingAnnouncement(grant: GrantRecord, approval: NewApprovalRequest, workload: Workload, consoleUrl: string | undefined): Announcement {
  const link = pageOf(consoleUrl, grant.id);
  return {
    event: 'approval.pending',
    grantId: grant.id,
    link,
    summary: `${workload.spiffeId} asks to ${grant.actions.join(', ')} on ${grant.resource} for ${grant.task_kind} ${grant.task_reference}: ${approval.threshold} approval(s) from ${approval.approver_groups.join(', ')} (rule ${approval.rule}) before ${approval.pending_until.toISOString()}`,
    message: {
      grantId: grant.id,
      workload: workload.spiffeId,
      owner: { team: workload.ownerTeam, contact: workload.ownerContact },
      environment: workload.environment,
      riskTier: riskTier(workload),
      task: { id: grant.task_id, kind: grant.task_kind, reference: grant.task_reference },
      resource: grant.resource,
      actions: grant.actions,
      details: `mayfly approvals show ${grant.id}`,
      ...(link ? { link } : {}),
      rule: approval.rule,
      approverGroups: approval.approver_groups,
      threshold: approval.threshold,
      pendingUntil: approval.pending_until.toISOString(),
      requestedAt: grant.issued_at.toISOString(),
    },
  };
}

export function breakGlassAnnouncement(grant: GrantRecord, workload: Workload, consoleUrl: string | undefined): Announcement {
  const link = pageOf(consoleUrl, grant.id);
  return {
    event: 'break_glass.issued',
    grantId: grant.id,
    link,
    summary: `BREAK-GLASS: ${workload.spiffeId} holds ${grant.actions.join(', ')} on ${grant.resource} for incident ${grant.task_reference} until ${grant.expires_at.toISOString()}; it needs an after-action review`,
    message: {
      severity: 'high',
      grantId: grant.id,
      workload: workload.spiffeId,
      owner: { team: workload.ownerTeam, contact: workload.ownerContact },
      incidentReference: grant.task_reference,
      details: `mayfly grants show ${grant.id}`,
      ...(link ? { link } : {}),
      resource: grant.resource,
      actions: grant.actions,
      issuedAt: grant.issued_at.toISOString(),
      expiresAt: grant.expires_at.toISOString(),
      reviewRequired: true,
    },
  };
}
