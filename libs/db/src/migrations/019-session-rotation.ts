import { sql, type Kysely } from 'kysely';

/**
 * Sessions whose evidence cannot be presented again (a spent join token) rotate their
 * certificate without evidence until `rotatable_until`. Each certificate rotates once:
 * `rotated_at` marks it, `rotated_from` links the new one to it (a second rotation of the same
 * certificate for another key means two holders of its key, and is refused). A rotated
 * certificate keeps its PEM and its key's digest, so that a retry for the same key (the answer
 * was lost) gets the same certificate again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE svids
      ADD COLUMN rotatable_until timestamptz,
      ADD COLUMN rotated_at timestamptz,
      ADD COLUMN rotated_from text REFERENCES svids (serial),
      ADD COLUMN public_key_sha256 text,
      ADD COLUMN certificate_pem text;
    CREATE UNIQUE INDEX svids_rotated_from ON svids (rotated_from) WHERE rotated_from IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE svids DROP COLUMN certificate_pem, DROP COLUMN public_key_sha256, DROP COLUMN rotated_from, DROP COLUMN rotated_at, DROP COLUMN rotatable_until`.execute(db);
}
