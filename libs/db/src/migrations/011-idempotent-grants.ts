import { sql, type Kysely } from 'kysely';

/**
 * Idempotent RequestGrant. A grant requested with an idempotency key keeps the key, a digest of
 * the request (to refuse the same key with other parameters) and what it takes to issue the very
 * same token again (for a JWT: its signing input, header and claims without the signature — not
 * a credential). The key is unique per workload.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE grants
      ADD COLUMN idempotency_key text,
      ADD COLUMN request_digest text,
      ADD COLUMN token_reissue text,
      ADD CONSTRAINT grants_idempotency_complete CHECK ((idempotency_key IS NULL) = (request_digest IS NULL) AND (idempotency_key IS NULL) = (token_reissue IS NULL));
    CREATE UNIQUE INDEX grants_idempotency ON grants (spiffe_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX grants_idempotency;
    ALTER TABLE grants DROP CONSTRAINT grants_idempotency_complete, DROP COLUMN token_reissue, DROP COLUMN request_digest, DROP COLUMN idempotency_key;
  `.execute(db);
}
