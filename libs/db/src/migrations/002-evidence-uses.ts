import { sql, type Kysely } from 'kysely';

/**
 * Evidence is single-use within its lifetime: attestation records the digest of every piece of
 * evidence it accepts, until the evidence expires, and refuses a digest it has seen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE evidence_uses (
      digest      text PRIMARY KEY,
      issuer      text NOT NULL,
      subject     text NOT NULL,
      expires_at  timestamptz NOT NULL,
      used_at     timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX evidence_uses_expiry ON evidence_uses (expires_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE evidence_uses`.execute(db);
}
