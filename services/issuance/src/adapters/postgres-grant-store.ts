import type { AuditTrail } from '@mayfly/audit-trail';
import { insertGrantWithAuditOutbox, type Database, type GrantRecord, type Kysely } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';

/** Grant rows and their audit events, committed together. */
export class PostgresGrantStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditTrail,
  ) {}

  async commitGrant(grant: GrantRecord, events: readonly AuditEvent[]): Promise<void> {
    await insertGrantWithAuditOutbox(this.db, grant, this.audit.owner, this.audit.outboxEntries(events));
  }

  /** Audit events that describe no grant (a refusal, a session started), committed on their own. */
  async commitEvents(events: readonly AuditEvent[]): Promise<void> {
    await this.audit.enqueue(this.db, events);
  }
}
