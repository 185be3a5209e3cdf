import { sql, type Kysely } from 'kysely';

/**
 * Ended grants by when they ended. The credential reaper's durable consumer asks, for every
 * revocation on the stream, which grants on login resources ended around its time
 * (`endedGrantsOnLoginResources`); without this index that was a parallel scan of every grant
 * ever issued — 170 ms of PostgreSQL per revocation at 200,000 grants, measured by the bench
 * (issue 24). A grant's end already rewrites its index entries (its status changes), so this
 * adds one entry to that update.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX grants_ended_at ON grants (ended_at) WHERE ended_at IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX grants_ended_at`.execute(db);
}
