import type { AuditTrail } from '@mayfly/audit-trail';
import { findGrant, findGrantByIdempotencyKey, insertGrantWithAuditOutbox, isIdempotencyKeyTaken, recordRenewedToken, type Database, type GrantRecord, type Kysely } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';

/** Grant rows and their audit events, committed together. */
export class PostgresGrantStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditTrail,
  ) {}

  async commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<'committed' | 'idempotency-key-taken'> {
    try {
      await insertGrantWithAuditOutbox(this.db, grant, this.audit.owner, this.audit.outboxEntries(events));
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
