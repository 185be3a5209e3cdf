import { sql, type Kysely } from 'kysely';

/**
 * Sessions whose evidence cannot be presented again (a spent join token) rotate their
 * certificate without evidence until `rotatable_until`. Each certificate rotates once:
 * `rotated_at` marks it, `rotated_from` links the new one to it (a second rotation of the same
 * certificate means two holders of its key, and is refused).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE svids
      ADD COLUMN rotatable_until timestamptz,
      ADD COLUMN rotated_at timestamptz,
      ADD COLUMN rotated_from text REFERENCES svids (serial);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE svids DROP COLUMN rotated_from, DROP COLUMN rotated_at, DROP COLUMN rotatable_until`.execute(db);
}
