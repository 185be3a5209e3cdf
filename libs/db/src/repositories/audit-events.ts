import type { Insertable, Kysely } from 'kysely';
import type { AuditEventRow, AuditEventTable, Database } from '../schema.js';

export type NewAuditEvent = Insertable<AuditEventTable>;

/**
 * Appends events in one transaction and returns their sequence numbers, in input order. An
 * event whose id is already stored (a redelivery) is not stored again; its first sequence is
 * returned.
 */
export async function appendAuditEvents(db: Kysely<Database>, events: readonly NewAuditEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto('audit_events')
      .values([...events])
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const rows = await tx
      .selectFrom('audit_events')
      .select(['id', 'sequence'])
      .where('id', 'in', events.map((event) => event.id))
      .execute();
    const sequenceById = new Map(rows.map((row) => [row.id, row.sequence]));
    return events.map((event) => sequenceById.get(event.id) ?? '0');
  });
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
