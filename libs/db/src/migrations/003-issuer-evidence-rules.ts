import { sql, type Kysely } from 'kysely';

/**
 * Per-issuer evidence rules: refuse high-S ECDSA signatures (on by default) and evidence that
 * is valid for longer than a maximum (default 24 h).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE trusted_issuers
      ADD COLUMN require_low_s boolean NOT NULL DEFAULT true,
      ADD COLUMN max_evidence_lifetime_seconds integer NOT NULL DEFAULT 86400
        CHECK (max_evidence_lifetime_seconds > 0);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE trusted_issuers DROP COLUMN require_low_s, DROP COLUMN max_evidence_lifetime_seconds;
  `.execute(db);
}
