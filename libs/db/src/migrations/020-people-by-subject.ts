import { sql, type Kysely } from 'kysely';

/**
 * A person is their identity provider's (issuer, subject) — `approval_votes.approver` holds
 * `<issuer>#<sub>` from now on, so that one person is counted once whether or not their token
 * carries an email, in whatever case. `approver_name` keeps how they were shown (their verified
 * email, else their subject); votes recorded before keep their old key as their name.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE approval_votes ADD COLUMN approver_name text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE approval_votes DROP COLUMN approver_name`.execute(db);
}
