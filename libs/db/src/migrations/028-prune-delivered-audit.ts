import { sql, type Kysely } from 'kysely';

/**
 * Delivered audit events leave the outbox from now on (the audit service holds them); those
 * delivered before stay nowhere useful — the outbox kept every event ever recorded. Removed here
 * once. (Service roles get DELETE on their own outbox rows with the role provisioning after
 * every migration.) Nothing to undo: a delivered row was never read again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM audit_outbox WHERE delivered_at IS NOT NULL`.execute(db);
}

export async function down(): Promise<void> {
  // Deleted rows were already in the audit log; there is nothing to put back.
}
