import type { GrantStatusName, RevocationRecord, StoredGrant } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';

/**
 * The grant and revocation records as one revocation changes them. Every method runs inside the
 * transaction the revocation commits in; the row-locking ones hold their rows until it ends.
 */
export interface RevocationStore {
  findGrantForUpdate(grantId: string): Promise<StoredGrant | undefined>;
  findGrantIdByTokenId(tokenId: string): Promise<string | undefined>;
  /** Locks and lists a task's active grants (of one workload, if given), at most `limit`. */
  lockActiveGrantIdsOfTask(taskId: string, spiffeId: string | undefined, limit: number): Promise<string[]>;
  /** Locks and lists every live grant delegated, at any depth, from these. */
  lockLiveDescendants(grantIds: readonly string[]): Promise<string[]>;
  /** Ends an active grant; undefined if it was not active. */
  endGrant(grantId: string, status: Extract<GrantStatusName, 'completed' | 'revoked' | 'expired'>, reason: string, at: Date): Promise<StoredGrant | undefined>;
  markGrantConsumed(grantId: string, at: Date): Promise<void>;
  /** Stops accepting the workload's session certificates issued before `before`; false if it is not registered. */
  revokeSvidsIssuedBefore(spiffeId: string, before: Date): Promise<boolean>;
  /** Ends the workload's active grants issued before `before`; how many. */
  revokeWorkloadGrantsIssuedBefore(spiffeId: string, before: Date, reason: string, at: Date): Promise<number>;
  findKeyRevocation(keyId: string): Promise<RevocationRecord | undefined>;
  insertRevocations(rows: readonly RevocationRecord[]): Promise<void>;
  /** Marks grants (and requests pending approval) past their time as expired, at most `limit`. */
  expireDueGrants(now: Date, limit: number): Promise<(StoredGrant & { was_pending: boolean })[]>;
}

/** What the revocation service needs from the world; wired in server.ts, faked in unit tests. */
export interface RevocationPorts {
  /**
   * Runs `change` in one transaction and commits the audit events it returns with it. The events
   * are not delivered yet: the caller hands them to deliverAudit when it is ready.
   */
  commit<T>(change: (store: RevocationStore) => Promise<{ result: T; events: readonly AuditEvent[] }>): Promise<T>;
  /** Hands committed events to the audit service in the background; never waited for. */
  deliverAudit(events: readonly AuditEvent[]): void;
  /** Commits audit events that change nothing else (a refusal), then delivers them. */
  recordEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Revocations the stream has not acknowledged yet, oldest first. */
  unpublishedRevocations(limit: number): Promise<RevocationRecord[]>;
  /** Revocations whose token could still be presented, by id, after `afterId`. */
  liveRevocations(now: Date, limit: number, afterId: string | undefined): Promise<RevocationRecord[]>;
  markPublished(revocationId: string, at: Date, streamSequence: number): Promise<void>;
  /** Active grants whose heartbeat is overdue, and since when. */
  overdueHeartbeats(now: Date, limit: number): Promise<{ id: string; dueAt: Date }[]>;
}

/** The revocation stream's state, as JetStream reports it. */
export interface StreamSnapshot {
  /** When this incarnation of the stream was created (changes when it is deleted and made again). */
  readonly created: string;
  readonly firstSequence: number;
  readonly lastSequence: number;
}
