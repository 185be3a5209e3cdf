import { sql, type Kysely } from 'kysely';

/**
 * An issuer may be trusted for several audiences (one per cluster or environment, or an old and a
 * new name while workloads move). `audience` stays, holding the first of them, for replicas of the
 * previous release that still read it while an upgrade rolls out (migrations run before it); a
 * later release drops it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE trusted_issuers ADD COLUMN audiences text[];
    UPDATE trusted_issuers SET audiences = ARRAY[audience];
    ALTER TABLE trusted_issuers
      ALTER COLUMN audiences SET NOT NULL,
      ADD CONSTRAINT trusted_issuers_audiences_check
        CHECK (cardinality(audiences) BETWEEN 1 AND 8 AND audiences[1] = audience);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE trusted_issuers DROP CONSTRAINT trusted_issuers_audiences_check, DROP COLUMN audiences`.execute(db);
}
