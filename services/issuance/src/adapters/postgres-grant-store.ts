import type { AuditTrail } from '@mayfly/audit-trail';
import {
  GroupCommit,
  findGrant,
  findGrantByIdempotencyKey,
  insertGrantsWithAuditOutbox,
  isIdempotencyKeyTaken,
  isRowFault,
  recordRenewedToken,
  type Database,
  type GrantRecord,
  type GrantWithAuditEntries,
  type Kysely,
} from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';
import { mayflyMetrics } from '@mayfly/telemetry';

/** Grant rows and their audit events, committed together. */
export class PostgresGrantStore {
  /** Grants that arrive together share a transaction (issue 24); a grant alone goes at once. */
  private readonly grantCommits: GroupCommit<GrantWithAuditEntries>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditTrail,
    groupCommit: { readonly maxBatch: number; readonly maxInFlight: number } = { maxBatch: 64, maxInFlight: 2 },
  ) {
    this.grantCommits = new GroupCommit((batch) => insertGrantsWithAuditOutbox(db, audit.owner, batch), {
      ...groupCommit,
      isItemFault: isRowFault,
      onCommitted: (grants) => mayflyMetrics().grantCommitBatch.record(grants),
    });
  }

  /**
   * Resolves once the transaction holding the grant and its events has committed (invariant 1);
   * a grant whose idempotency key is already taken is told so, and its batch-mates commit.
   */
  async commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<'committed' | 'idempotency-key-taken'> {
    try {
      await this.grantCommits.submit({ grant, entries: this.audit.outboxEntries(events) });
      return 'committed';
    } catch (error) {
      if (isIdempotencyKeyTaken(error)) return 'idempotency-key-taken';
      throw error;
    }
  }

  findIdempotentGrant(spiffeId: string, key: string): Promise<GrantRecord | undefined> {
    return findGrantByIdempotencyKey(this.db, spiffeId, key);
  }

  findGrant(id: string): Promise<GrantRecord | undefined> {
    return findGrant(this.db, id);
  }

  /** A renewed token and its audit events, together; undefined if the grant was no longer renewable. */
  commitRenewal(token: { tokenId: string; grantId: string; issuedAt: Date; expiresAt: Date }, events: readonly AuditEvent[]): Promise<GrantRecord | undefined> {
    return recordRenewedToken(this.db, token, { owner: this.audit.owner, entries: this.audit.outboxEntries(events) });
  }

  /** Audit events that describe no grant (a refusal, a session started), committed on their own. */
  async commitEvents(events: readonly AuditEvent[]): Promise<void> {
    await this.audit.enqueue(this.db, events);
  }
}
