import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditChainTable, AuditCheckpointTable, Database } from '../schema.js';

export type AuditChainLink = Selectable<AuditChainTable>;
export type AuditCheckpointRow = Selectable<AuditCheckpointTable>;

/** The chain's head now (position 0 and a zero hash before the first event). */
export async function readAuditChainHead(db: Kysely<Database>): Promise<{ position: string; chainHash: Buffer }> {
  const head = await db.selectFrom('audit_chain_head').select(['position', 'chain_hash']).executeTakeFirstOrThrow();
  return { position: head.position, chainHash: head.chain_hash };
}

/** The chain hash of the link at `position`, if the chain has one there. */
export async function readAuditChainHashAt(db: Kysely<Database>, position: string): Promise<Buffer | undefined> {
  return (await db.selectFrom('audit_chain').select('chain_hash').where('position', '=', position).executeTakeFirst())?.chain_hash;
}

export async function insertAuditCheckpoint(db: Kysely<Database>, checkpoint: Omit<AuditCheckpointRow, 'id'>): Promise<void> {
  await db.insertInto('audit_checkpoints').values(checkpoint).execute();
}

export async function latestAuditCheckpoint(db: Kysely<Database>): Promise<AuditCheckpointRow | undefined> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function listAuditCheckpoints(db: Kysely<Database>): Promise<AuditCheckpointRow[]> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
}

/** Chain links in chain order, after `afterPosition`. */
export async function listAuditChainLinks(db: Kysely<Database>, afterPosition: string, limit: number): Promise<AuditChainLink[]> {
  return db.selectFrom('audit_chain').selectAll().where('position', '>', afterPosition).orderBy('position').limit(limit).execute();
}

/** Every stored event's sequence, id and the hash of its content as it is now. */
export async function listAuditContentHashes(db: Kysely<Database>, afterSequence: string, limit: number): Promise<{ sequence: string; id: string; content_hash: Buffer }[]> {
  const result = await sql<{ sequence: string; id: string; content_hash: Buffer }>`
    SELECT e.sequence, e.id::text AS id, audit_content_hash(e) AS content_hash
    FROM audit_events e WHERE e.sequence > ${afterSequence} ORDER BY e.sequence LIMIT ${limit}
  `.execute(db);
  return result.rows;
}

/** How many links the chain has (one per event recorded through the log). */
export async function countAuditChainLinks(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('audit_chain').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}
