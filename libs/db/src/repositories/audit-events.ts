import type { Insertable, Kysely } from 'kysely';
import type { AuditEventRow, AuditEventTable, Database } from '../schema.js';

export type NewAuditEvent = Insertable<AuditEventTable>;

/**
 * Appends events and returns their sequence numbers, in input order. One INSERT statement, so
 * the batch is atomic. An event whose id is already stored (a redelivery) is not stored again;
 * its first sequence is returned.
 */
export async function appendAuditEvents(db: Kysely<Database>, events: readonly NewAuditEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const inserted = await db
    .insertInto('audit_events')
    .values([...events])
    .onConflict((oc) => oc.column('id').doNothing())
    .returning(['id', 'sequence'])
    .execute();
  const sequenceById = new Map(inserted.map((row) => [row.id, row.sequence]));
  const redelivered = events.filter((event) => !sequenceById.has(event.id)).map((event) => event.id);
  if (redelivered.length > 0) {
    const earlier = await db.selectFrom('audit_events').select(['id', 'sequence']).where('id', 'in', redelivered).execute();
    for (const row of earlier) sequenceById.set(row.id, row.sequence);
  }
  return events.map((event) => sequenceById.get(event.id) ?? '0');
}

export interface AuditQuery {
  grantId?: string | undefined;
  taskId?: string | undefined;
  limit: number;
}

export async function listAuditEvents(db: Kysely<Database>, query: AuditQuery): Promise<AuditEventRow[]> {
  let select = db.selectFrom('audit_events').selectAll().orderBy('sequence').limit(query.limit);
  if (query.grantId) select = select.where('grant_id', '=', query.grantId);
  if (query.taskId) select = select.where('task_id', '=', query.taskId);
  return select.execute();
}
