import type { AuditEvent, AttestResponse, DecideRequest, DecideResponse, Evidence } from '@mayfly/proto';
import type { GrantRecord } from '@mayfly/db';

/** What the grant flow needs from the world; wired in server.ts, faked in unit tests. */
export interface GrantFlowPorts {
  attest(evidence: Evidence, deadline: Date | undefined): Promise<AttestResponse>;
  decide(request: DecideRequest, deadline: Date | undefined): Promise<DecideResponse>;
  /** Commits the grant row and its audit events in one transaction. */
  commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<void>;
  /** Commits audit events of a refused request. */
  commitRefusal(events: readonly AuditEvent[]): Promise<void>;
  /** Delivers committed events to the audit service; false if it could not. */
  deliverAudit(events: readonly AuditEvent[], deadline: Date | undefined): Promise<boolean>;
  /** Ends a grant whose token was never handed out, with its audit event. */
  withholdGrant(grantId: string, reason: string, events: readonly AuditEvent[]): Promise<void>;
}
