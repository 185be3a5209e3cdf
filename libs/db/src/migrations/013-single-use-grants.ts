import { sql, type Kysely } from 'kysely';

/**
 * Single-use grants: their one token is consumed by the first edge that accepts it. consumed_at
 * records when; a grant is consumed at most once (the revocation service sets it with its end,
 * under the grant's row lock).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE grants
      ADD COLUMN single_use boolean NOT NULL DEFAULT false,
      ADD COLUMN consumed_at timestamptz,
      ADD CONSTRAINT grants_consumed_single_use CHECK (consumed_at IS NULL OR single_use);
    -- The revocation that a consumption caused says so: edges then answer ERR_TOKEN_CONSUMED.
    ALTER TABLE revocations ADD COLUMN consumed boolean NOT NULL DEFAULT false;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE revocations DROP COLUMN consumed;
    ALTER TABLE grants DROP CONSTRAINT grants_consumed_single_use, DROP COLUMN consumed_at, DROP COLUMN single_use;
  `.execute(db);
}
