import { sql, type Kysely } from 'kysely';

/**
 * Grants can be renewed. renewable_until is the latest any of a grant's tokens may expire;
 * token_lifetime_seconds is the lifetime of its first token, which a renewal gives again (never
 * past renewable_until); expires_at becomes the expiry of the newest token. grants.token_id stays
 * the first token's jti; grant_tokens records each renewed token (revocation by jti finds them).
 * Existing grants are not renewable (renewable_until = their expiry).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE grants
      ADD COLUMN renewable_until timestamptz,
      ADD COLUMN token_lifetime_seconds integer,
      ADD COLUMN renewals integer NOT NULL DEFAULT 0;
    UPDATE grants SET renewable_until = expires_at, token_lifetime_seconds = greatest(1, ceil(extract(epoch FROM expires_at - issued_at)))::integer;
    ALTER TABLE grants
      ALTER COLUMN renewable_until SET NOT NULL,
      ALTER COLUMN token_lifetime_seconds SET NOT NULL,
      ADD CONSTRAINT grants_renewal_ceiling CHECK (expires_at <= renewable_until AND token_lifetime_seconds > 0);

    CREATE TABLE grant_tokens (
      token_id    uuid PRIMARY KEY,
      grant_id    uuid NOT NULL REFERENCES grants (id),
      issued_at   timestamptz NOT NULL,
      expires_at  timestamptz NOT NULL,
      CHECK (expires_at > issued_at)
    );
    CREATE INDEX grant_tokens_grant ON grant_tokens (grant_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE grant_tokens;
    ALTER TABLE grants
      DROP CONSTRAINT grants_renewal_ceiling,
      DROP COLUMN renewals,
      DROP COLUMN token_lifetime_seconds,
      DROP COLUMN renewable_until;
  `.execute(db);
}
