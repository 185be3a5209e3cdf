import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, RevocationRow, RevocationTable } from '../schema.js';

export async function insertRevocation(db: Kysely<Database>, row: Insertable<RevocationTable>): Promise<void> {
  await db.insertInto('revocations').values(row).execute();
}

/** Inserts many revocations in one statement (a task's grants). */
export async function insertRevocations(db: Kysely<Database>, rows: readonly Insertable<RevocationTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('revocations').values([...rows]).execute();
}

/** Records that the stream stored the revocation, and at which sequence. */
export async function markRevocationPublished(db: Kysely<Database>, id: string, at: Date, streamSequence: number): Promise<void> {
  await db.updateTable('revocations').set({ published_at: at, stream_sequence: String(streamSequence) }).where('id', '=', id).execute();
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

/** Revocations whose token could still be presented, in pages by id (pass the last id seen). */
export async function listLiveRevocations(db: Kysely<Database>, now: Date, limit: number, afterId?: string): Promise<RevocationRow[]> {
  let query = db.selectFrom('revocations').selectAll().where('not_after', '>', now);
  if (afterId) query = query.where('id', '>', afterId);
  return query.orderBy('id').limit(limit).execute();
}

/** The lowest and highest stream sequence of the published revocations still live. */
export async function liveRevocationSequences(db: Kysely<Database>, now: Date): Promise<{ lowest: number; highest: number } | undefined> {
  const row = await db
    .selectFrom('revocations')
    .select([sql<string | null>`min(stream_sequence)`.as('lowest'), sql<string | null>`max(stream_sequence)`.as('highest')])
    .where('not_after', '>', now)
    .where('stream_sequence', 'is not', null)
    .executeTakeFirst();
  if (!row || row.lowest === null || row.highest === null) return undefined;
  return { lowest: Number(row.lowest), highest: Number(row.highest) };
}

/** The revocation of a signing key, if it has been revoked. */
export async function findKeyRevocation(db: Kysely<Database>, keyId: string): Promise<RevocationRow | undefined> {
  return db.selectFrom('revocations').selectAll().where('scope', '=', 'key').where('key_id', '=', keyId).executeTakeFirst();
}

/** Every signing key ever revoked (issuance never publishes nor signs with one again). */
export async function listRevokedKeyIds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('revocations').select('key_id').where('scope', '=', 'key').execute();
  return rows.flatMap((row) => (row.key_id === null ? [] : [row.key_id]));
}

/** The newest watermark over a workload (everything it held revoked) made after `since`, if any. */
export async function latestWorkloadRevocationSince(db: Kysely<Database>, spiffeId: string, since: Date): Promise<RevocationRow | undefined> {
  return db
    .selectFrom('revocations')
    .selectAll()
    .where('scope', '=', 'workload')
    .where('spiffe_id', '=', spiffeId)
    .where('revoked_at', '>', since)
    .orderBy('revoked_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
