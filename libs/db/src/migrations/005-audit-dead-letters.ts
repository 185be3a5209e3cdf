import { sql, type Kysely } from 'kysely';

/**
 * An outbox event the audit service refuses time after time (it cannot be stored as it is) is
 * set aside — dead-lettered — instead of blocking the events behind it. It stays in the outbox,
 * with its last error, for an operator to inspect; its dead-lettering is itself audited.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_outbox ADD COLUMN dead_lettered_at timestamptz;
    DROP INDEX audit_outbox_pending;
    CREATE INDEX audit_outbox_pending ON audit_outbox (owner, created_at) WHERE delivered_at IS NULL AND dead_lettered_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX audit_outbox_pending;
    CREATE INDEX audit_outbox_pending ON audit_outbox (owner, created_at) WHERE delivered_at IS NULL;
    ALTER TABLE audit_outbox DROP COLUMN dead_lettered_at;
  `.execute(db);
}
