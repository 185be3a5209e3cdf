import { type GrantRecord, type NewApprovalRequest } from '@mayfly/model';
import { createHash, randomBytes } from 'node:crypto';
import type { DecideResponse } from '@mayfly/proto';
import type { ValidGrantRequest } from './grant-request.js';
import { newGrantRecord } from './grant-record.js';
import type { WorkloadIdentity } from './workload-identity.js';

/** What a request that waits for people leaves behind: the pending grant, its request, and the secret to collect it with. */
export interface PendingGrant {
  readonly grant: GrantRecord;
  readonly approval: NewApprovalRequest;
  /** Handed to the workload once; only its digest is stored. */
  readonly claimSecret: string;
}

/** The digest of a claim secret, as stored and compared. */
export function claimSecretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * A grant in status pending_approval: no token yet. Its expires_at is the end of the wait
 * (pending_until), after which it expires unapproved. What the decision allowed is kept with the
 * approval request, so that the token can be issued at approval — with its lifetime counted from
 * then — without asking the policy again.
 */
export function pendingGrant(identity: WorkloadIdentity, request: ValidGrantRequest, decision: DecideResponse, heartbeatSeconds: number | null, now: Date): PendingGrant {
  const rule = decision.approval!;
  const pendingUntil = new Date(Math.floor(now.getTime() / 1000) * 1000 + rule.pendingSeconds * 1000);
  const claimSecret = randomBytes(32).toString('base64url');
  // No token yet: its lifetime is set at approval. Until then the grant "expires" when the wait ends.
  const grant = newGrantRecord({
    spiffeId: identity.workload.spiffeId,
    task: request.task,
    resource: request.resource,
    decision,
    status: 'pending_approval',
    issuedAt: now,
    expiresAt: pendingUntil,
    renewableUntil: pendingUntil,
    tokenLifetimeSeconds: request.requestedTtlSeconds,
    heartbeatIntervalSeconds: heartbeatSeconds,
    singleUse: request.singleUse,
  });
  return {
    claimSecret,
    grant,
    approval: {
      grant_id: grant.id,
      rule: rule.rule,
      approver_groups: [...rule.approverGroups],
      threshold: rule.threshold,
      pending_until: pendingUntil,
      approval_valid_seconds: rule.approvalValidSeconds,
      requested_ttl_seconds: request.requestedTtlSeconds,
      policy_max_ttl_seconds: decision.maxTtlSeconds,
      policy_max_grant_seconds: decision.maxGrantSeconds,
      justification: request.justification,
      claim_secret_digest: claimSecretDigest(claimSecret),
      certificate_thumbprint: identity.via === 'session' ? identity.certificate.thumbprint : null,
      certificate_serial: identity.via === 'session' ? identity.certificate.serial : null,
      evidence: { attestor: identity.evidence.attestor, issuer: identity.evidence.issuer, claims: { ...identity.evidence.claims } },
    },
  };
}
