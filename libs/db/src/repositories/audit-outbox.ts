import { sql, type Kysely } from 'kysely';
import { PreparedStatement } from '../prepared-statements.js';
import type { Database } from '../schema.js';

export interface OutboxEntry {
  id: string;
  payload: Buffer;
}

/** Outbox rows for encoded audit events: pending until the audit service has them. */
export function outboxRows(owner: string, entries: readonly OutboxEntry[]) {
  return entries.map((entry) => ({ id: entry.id, owner, payload: entry.payload, last_error: null, delivered_at: null }));
}

/** Stores encoded audit events, in the caller's transaction, until the audit service has them. */
export async function enqueueAuditEvents(
  db: Kysely<Database>,
  owner: string,
  entries: readonly OutboxEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('audit_outbox')
    .values(outboxRows(owner, entries))
    .execute();
}

/**
 * The audit service has these events: they leave the outbox. (They were once kept, marked
 * delivered, and never pruned: the table grew by every event ever recorded, and marking cost
 * PostgreSQL a new row version per event where a delete costs a mark — issue 24.) Dead-lettered
 * events are never delivered, so they stay for an operator. The ids travel as one array, so the
 * statement is the same for any number of them: a PreparedStatement.
 */
export async function removeDeliveredAudit(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await removeOutboxEntries.run(db, [[...ids]]);
}

/** $1: the ids of the entries to remove. */
const removeOutboxEntries = new PreparedStatement('DELETE FROM audit_outbox WHERE id = ANY($1::uuid[])');

export async function recordAuditDeliveryFailure(db: Kysely<Database>, ids: readonly string[], error: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('audit_outbox')
    .set({ attempts: sql`attempts + 1`, last_error: error.slice(0, 1000) })
    .where('id', 'in', [...ids])
    .execute();
}

/** Counts a refusal of one event by the audit service; returns how many it has had so far. */
export async function recordAuditRefusal(db: Kysely<Database>, id: string, error: string): Promise<number> {
  const row = await db
    .updateTable('audit_outbox')
    .set({ attempts: sql`attempts + 1`, last_error: error.slice(0, 1000) })
    .where('id', '=', id)
    .returning('attempts')
    .executeTakeFirst();
  return row?.attempts ?? 0;
}

/** Sets an event aside: it is no longer delivered, and stays for an operator to inspect. */
export async function deadLetterAudit(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable('audit_outbox').set({ dead_lettered_at: at }).where('id', '=', id).execute();
}

/** Undelivered entries of one owner, oldest first. */
export async function listPendingAudit(db: Kysely<Database>, owner: string, limit: number): Promise<OutboxEntry[]> {
  return db
    .selectFrom('audit_outbox')
    .select(['id', 'payload'])
    .where('owner', '=', owner)
    .where('delivered_at', 'is', null)
    .where('dead_lettered_at', 'is', null)
    .orderBy('position')
    .limit(limit)
    .execute();
}
