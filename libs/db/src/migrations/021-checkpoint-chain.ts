import { sql, type Kysely } from 'kysely';

/**
 * Checkpoints name the one before them (signed, see @mayfly/audit-trail's checkpoint v2), so a
 * checkpoint deleted from the middle or the end of the table leaves a gap verification names.
 * One successor per checkpoint: two audit replicas signing at once cannot fork the sequence (the
 * second insert fails and is retried at the next interval).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_checkpoints ADD COLUMN previous_position bigint;
    CREATE UNIQUE INDEX audit_checkpoints_one_successor ON audit_checkpoints (previous_position) WHERE previous_position IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX audit_checkpoints_one_successor; ALTER TABLE audit_checkpoints DROP COLUMN previous_position`.execute(db);
}
