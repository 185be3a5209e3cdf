import { sql, type Kysely } from 'kysely';
import type { Database, PolicySetRow } from '../schema.js';

/** The PostgreSQL channel new policy set versions are announced on (the payload is the version). */
export const POLICY_SETS_CHANNEL = 'mayfly_policy_sets';

export interface PolicySetFile {
  name: string;
  text: string;
}

export interface NewPolicySet {
  digest: string;
  files: readonly PolicySetFile[];
  createdBy: string;
  reason: string;
  rolledBackFrom?: number | undefined;
}

/** The active (highest) version, if any was stored. */
export async function latestPolicySet(db: Kysely<Database>): Promise<PolicySetRow | undefined> {
  return db.selectFrom('policy_sets').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function findPolicySet(db: Kysely<Database>, version: number): Promise<PolicySetRow | undefined> {
  return db.selectFrom('policy_sets').selectAll().where('version', '=', version).executeTakeFirst();
}

/** Versions, newest first, without their files' text. */
export async function listPolicySets(db: Kysely<Database>, limit: number): Promise<PolicySetRow[]> {
  return db.selectFrom('policy_sets').selectAll().orderBy('version', 'desc').limit(limit).execute();
}

/**
 * Stores the set as the next version and announces it, in the caller's transaction (so a push
 * that rolls back announces nothing). Pushes are serialised by a transaction-scoped lock: two at
 * once get consecutive versions, never the same one. Returns undefined, storing nothing, when
 * the set's digest equals the active version's.
 */
export async function appendPolicySet(tx: Kysely<Database>, set: NewPolicySet): Promise<{ row: PolicySetRow; created: boolean }> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${POLICY_SETS_CHANNEL}))`.execute(tx);
  const latest = await latestPolicySet(tx);
  if (latest && latest.digest === set.digest && set.rolledBackFrom === undefined) return { row: latest, created: false };
  const row = await tx
    .insertInto('policy_sets')
    .values({
      version: (latest?.version ?? 0) + 1,
      digest: set.digest,
      files: JSON.stringify(set.files),
      created_by: set.createdBy,
      reason: set.reason,
      rolled_back_from: set.rolledBackFrom ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await sql`SELECT pg_notify(${POLICY_SETS_CHANNEL}, ${String(row.version)})`.execute(tx);
  return { row, created: true };
}

/** Stores the seed set as version 1 when nothing is stored yet (every replica may try; one does). */
export async function seedPolicySet(tx: Kysely<Database>, set: NewPolicySet): Promise<PolicySetRow | undefined> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${POLICY_SETS_CHANNEL}))`.execute(tx);
  if (await latestPolicySet(tx)) return undefined;
  return (await appendPolicySet(tx, set)).row;
}
