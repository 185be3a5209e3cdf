import type { GrantPageCursor } from './grant-page-token.js';
import type { GrantRecord, GrantStatusName, NewApprovalRequest, PendingApproval, StoredGrant, WorkloadRecord } from '@mayfly/model';
import type { AuditEvent, AttestResponse, Credential, DecideRequest, DecideResponse, Evidence, Workload } from '@mayfly/proto';
import type { SessionCertificate, SessionWorkload } from './workload-identity.js';

/** What the grant flow needs from the world; wired in server.ts, faked in unit tests. */
export interface GrantFlowPorts {
  attest(evidence: Evidence, deadline: Date | undefined): Promise<AttestResponse>;
  /**
   * The registered, enabled workload a session certificate names, if the certificate is still
   * accepted (not revoked, not issued before the workload's SVID cut-off); else throws
   * ERR_SVID_REJECTED. May answer from a cache of bounded age.
   */
  checkSession(certificate: SessionCertificate): Promise<SessionWorkload>;
  decide(request: DecideRequest, deadline: Date | undefined): Promise<DecideResponse>;
  /**
   * Commits the grant row and its audit events in one transaction. 'idempotency-key-taken'
   * when another request under the grant's idempotency key committed first (nothing written).
   */
  commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<'committed' | 'idempotency-key-taken'>;
  /** The grant the workload requested under an idempotency key, if any. */
  findIdempotentGrant(spiffeId: string, key: string): Promise<GrantRecord | undefined>;
  /** Commits a pending grant, its approval request and its audit events in one transaction. */
  commitPendingGrant(grant: GrantRecord, approval: NewApprovalRequest, events: readonly AuditEvent[]): Promise<void>;
  /** Tells approvers a request waits for them (NATS mayfly.approvals.pending); best effort, never waited for. */
  announcePending(grant: GrantRecord, approval: NewApprovalRequest, workload: Workload): void;
  /**
   * Raises the break-glass alert (NATS mayfly.alerts.break-glass); best effort, never waited for.
   * It carries no justification text: that is read signed in, through ApprovalService.
   */
  announceBreakGlass(grant: GrantRecord, workload: Workload): void;
  /** Commits audit events that name no new grant: a refusal, a replay. */
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Hands committed events to the audit service in the background; never waited for. */
  deliverAudit(events: readonly AuditEvent[]): void;
  /**
   * The credential the grant carries, from the credential catalog (the kind its resource's
   * registry entry names): a login made for it, or the grant token itself. Nothing is left
   * behind when it throws.
   */
  issueCredential(grant: GrantRecord, grantToken: string): Promise<Credential>;
  /** Ends the grant's credential, when the grant it was made for will not be kept. */
  destroyCredential(grant: GrantRecord): Promise<void>;
}

/** What people read through ApprovalService: grants, the requests that wait, and whose workloads they are. */
export interface GrantReads {
  grant(grantId: string): Promise<StoredGrant | undefined>;
  /** Grants, newest first, filtered by status (none: all) and workload. */
  grants(filter: {
    readonly statuses: readonly GrantStatusName[];
    readonly spiffeId: string | undefined;
    readonly resource: string | undefined;
    readonly taskId: string | undefined;
    /** Newest first, after this grant (the previous page's last). */
    readonly after: GrantPageCursor | undefined;
    readonly limit: number;
  }): Promise<StoredGrant[]>;
  /** Requests waiting for approval, oldest first. */
  pendingApprovals(limit: number): Promise<PendingApproval[]>;
  /** Break-glass grants, newest first; only those not yet reviewed unless asked. */
  breakGlassGrants(filter: { readonly includeReviewed: boolean; readonly limit: number }): Promise<StoredGrant[]>;
  /** A grant's approval request and votes, if it needed approval. */
  approval(grantId: string): Promise<PendingApproval | undefined>;
  workload(spiffeId: string): Promise<WorkloadRecord | undefined>;
}
