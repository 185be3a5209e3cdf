import type { AuditEvent, AttestResponse, DecideRequest, DecideResponse, Evidence, Workload } from '@mayfly/proto';
import type { GrantRecord } from '@mayfly/db';
import type { SessionCertificate } from './workload-identity.js';

/** What the grant flow needs from the world; wired in server.ts, faked in unit tests. */
export interface GrantFlowPorts {
  attest(evidence: Evidence, deadline: Date | undefined): Promise<AttestResponse>;
  /**
   * The registered, enabled workload a session certificate names, if the certificate is still
   * accepted (not revoked, not issued before the workload's SVID cut-off); else throws
   * ERR_SVID_REJECTED. May answer from a cache of bounded age.
   */
  checkSession(certificate: SessionCertificate): Promise<Workload>;
  decide(request: DecideRequest, deadline: Date | undefined): Promise<DecideResponse>;
  /**
   * Commits the grant row and its audit events in one transaction. 'idempotency-key-taken'
   * when another request under the grant's idempotency key committed first (nothing written).
   */
  commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<'committed' | 'idempotency-key-taken'>;
  /** The grant the workload requested under an idempotency key, if any. */
  findIdempotentGrant(spiffeId: string, key: string): Promise<GrantRecord | undefined>;
  /** Commits audit events that name no new grant: a refusal, a replay. */
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Hands committed events to the audit service in the background; never waited for. */
  deliverAudit(events: readonly AuditEvent[]): void;
}
