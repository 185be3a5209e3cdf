import { sql, type Kysely } from 'kysely';

/**
 * Events committed in one statement share their created_at; the drain must still deliver them
 * in the order they happened (requested, attested, decided, issued). A sequence says so.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_outbox ADD COLUMN position bigserial;
    DROP INDEX audit_outbox_pending;
    CREATE INDEX audit_outbox_pending ON audit_outbox (owner, position) WHERE delivered_at IS NULL AND dead_lettered_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX audit_outbox_pending;
    CREATE INDEX audit_outbox_pending ON audit_outbox (owner, created_at) WHERE delivered_at IS NULL AND dead_lettered_at IS NULL;
    ALTER TABLE audit_outbox DROP COLUMN position;
  `.execute(db);
}
