import { sql, type Kysely } from 'kysely';

/**
 * Grants newest first, for paging (`listGrants`: the console's grants page, `mayfly grants
 * list`). Without it every page sorted every matching grant; with it a page is an index range
 * scan after the previous page's last (issued_at, id), however many grants there are. Entries
 * arrive in time order, so inserting them touches the index's rightmost page only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX grants_newest_first ON grants (issued_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX grants_newest_first`.execute(db);
}
