import type { Kysely } from 'kysely';
import type { Database, JoinTokenRow } from '../schema.js';

export interface NewJoinToken {
  id: string;
  digest: string;
  spiffeId: string;
  expiresAt: Date;
  createdBy: string;
}

export async function insertJoinToken(db: Kysely<Database>, token: NewJoinToken): Promise<JoinTokenRow> {
  return db
    .insertInto('join_tokens')
    .values({ id: token.id, digest: token.digest, spiffe_id: token.spiffeId, expires_at: token.expiresAt, created_by: token.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Uses the join token with this digest, once: returns it as used when this call was its first
 * use before its expiry; otherwise what it is (used before, expired) or undefined if unknown.
 * One statement, so that two racing presentations cannot both be the first.
 */
export async function consumeJoinToken(db: Kysely<Database>, digest: string, now: Date): Promise<{ firstUse: boolean; token: JoinTokenRow | undefined }> {
  const used = await db
    .updateTable('join_tokens')
    .set({ used_at: now })
    .where('digest', '=', digest)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (used) return { firstUse: true, token: used };
  return { firstUse: false, token: await db.selectFrom('join_tokens').selectAll().where('digest', '=', digest).executeTakeFirst() };
}

export async function listJoinTokens(db: Kysely<Database>, spiffeId: string | undefined): Promise<JoinTokenRow[]> {
  let query = db.selectFrom('join_tokens').selectAll();
  if (spiffeId) query = query.where('spiffe_id', '=', spiffeId);
  return query.orderBy('created_at', 'desc').limit(1_000).execute();
}

/** Withdraws an unused join token; undefined if there is no such unused token. */
export async function deleteUnusedJoinToken(db: Kysely<Database>, id: string): Promise<JoinTokenRow | undefined> {
  return db.deleteFrom('join_tokens').where('id', '=', id).where('used_at', 'is', null).returningAll().executeTakeFirst();
}
