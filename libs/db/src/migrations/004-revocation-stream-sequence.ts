import { sql, type Kysely } from 'kysely';

/**
 * Where each published revocation sits in the JetStream stream. Comparing these with the
 * stream's first and last sequence tells the revocation service that the stream was purged or
 * recreated under it, so that it publishes every live revocation again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE revocations ADD COLUMN stream_sequence bigint;
    CREATE INDEX revocations_live ON revocations (not_after);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX revocations_live;
    ALTER TABLE revocations DROP COLUMN stream_sequence;
  `.execute(db);
}
