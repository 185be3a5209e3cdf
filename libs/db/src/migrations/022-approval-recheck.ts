import { sql, type Kysely } from 'kysely';

/**
 * What an approval must check again before it issues: the session certificate the token is to
 * be bound to (its serial, so a revoked or expired certificate ends the request) and what the
 * workload's evidence proved when it asked (policies see it as context.evidence when the request
 * is decided again at approval).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE approval_requests ADD COLUMN certificate_serial text, ADD COLUMN evidence jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE approval_requests DROP COLUMN evidence, DROP COLUMN certificate_serial`.execute(db);
}
