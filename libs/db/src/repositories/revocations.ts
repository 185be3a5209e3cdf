import type { Insertable, Kysely } from 'kysely';
import type { Database, RevocationRow, RevocationTable } from '../schema.js';

export async function insertRevocation(db: Kysely<Database>, row: Insertable<RevocationTable>): Promise<void> {
  await db.insertInto('revocations').values(row).execute();
}

export async function markRevocationPublished(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable('revocations').set({ published_at: at }).where('id', '=', id).execute();
}

/** Revocations not yet acknowledged by the stream, oldest first. */
export async function listUnpublishedRevocations(db: Kysely<Database>, limit: number): Promise<RevocationRow[]> {
  return db
    .selectFrom('revocations')
    .selectAll()
    .where('published_at', 'is', null)
    .orderBy('revoked_at')
    .limit(limit)
    .execute();
}
