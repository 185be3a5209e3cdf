import { sql, type Insertable, type Kysely } from 'kysely';
import { PreparedStatement } from '../prepared-statements.js';
import type { AuditEventRow, AuditEventTable, Database } from '../schema.js';

export type NewAuditEvent = Insertable<AuditEventTable>;

/**
 * $1…$8: one array per column, in input order; $9: the details as one JSON array. WITH
 * ORDINALITY … ORDER BY keeps the events' sequence numbers in that order.
 *
 * The details go as one JSON array, not a jsonb[]: as an array literal every quote of every
 * detail would be escaped by the driver and unescaped by PostgreSQL again. ROWS FROM reads the
 * columns side by side, the details' elements with them.
 */
const appendEvents = new PreparedStatement<{ id: string; sequence: string }>(`
  INSERT INTO audit_events (id, occurred_at, kind, actor, source, grant_id, task_id, outcome, detail)
  SELECT e.id, e.occurred_at, e.kind, e.actor, e.source, e.grant_id, e.task_id, e.outcome, e.detail
  FROM ROWS FROM (
      unnest($1::uuid[]), unnest($2::timestamptz[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
      unnest($6::uuid[]), unnest($7::text[]), unnest($8::text[]), jsonb_array_elements($9::jsonb)
    ) WITH ORDINALITY AS e(id, occurred_at, kind, actor, source, grant_id, task_id, outcome, detail, n)
  ORDER BY e.n
  ON CONFLICT (id) DO NOTHING
  RETURNING id, sequence`);

/**
 * Appends events and returns their sequence numbers, in input order. One INSERT statement, so
 * the batch is atomic. An event whose id is already stored (a redelivery) is not stored again;
 * its first sequence is returned.
 *
 * The events travel as one array per column, so the statement's text is the same for one event
 * or five hundred: a PreparedStatement (a VALUES list was planned afresh for every batch size).
 */
export async function appendAuditEvents(db: Kysely<Database>, events: readonly NewAuditEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const column = <T>(read: (event: NewAuditEvent) => T): T[] => events.map(read);
  const { rows: inserted } = await appendEvents.run(db, [
    column((e) => e.id), column((e) => e.occurred_at), column((e) => e.kind), column((e) => e.actor), column((e) => e.source),
    column((e) => e.grant_id ?? null), column((e) => e.task_id), column((e) => e.outcome), `[${column((e) => e.detail).join(',')}]`,
  ]);
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
  /** Events the workload took part in: as actor, or as the subject (detail.spiffeId). */
  workload?: string | undefined;
  kinds?: readonly string[] | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Only events after this sequence (oldest first) or before it (newest first). */
  afterSequence?: string | undefined;
  beforeSequence?: string | undefined;
  newestFirst?: boolean;
  limit: number;
}

/** Events matching every given filter, in sequence order (or reversed), at most `limit`. */
export async function listAuditEvents(db: Kysely<Database>, query: AuditQuery): Promise<AuditEventRow[]> {
  let select = db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('sequence', query.newestFirst ? 'desc' : 'asc')
    .limit(query.limit);
  if (query.grantId) select = select.where('grant_id', '=', query.grantId);
  if (query.taskId) select = select.where('task_id', '=', query.taskId);
  if (query.workload) {
    const workload = query.workload;
    select = select.where((eb) => eb.or([eb('actor', '=', workload), eb(sql<string>`detail->>'spiffeId'`, '=', workload)]));
  }
  if (query.kinds && query.kinds.length > 0) select = select.where('kind', 'in', [...query.kinds]);
  if (query.since) select = select.where('occurred_at', '>=', query.since);
  if (query.until) select = select.where('occurred_at', '<', query.until);
  if (query.afterSequence) select = select.where('sequence', '>', query.afterSequence);
  if (query.beforeSequence) select = select.where('sequence', '<', query.beforeSequence);
  return select.execute();
}

/** The facts of a usage review since a time: grants issued (resource, scopes) and uses edges reported. */
export async function listUsageFacts(
  db: Kysely<Database>,
  since: Date,
  workload: string | undefined,
): Promise<{ issued: { spiffeId: string; resource: string; actions: string[] }[]; used: { spiffeId: string; resource: string; action: string; count: number }[] }> {
  // Whose grant: the record names the workload in detail.spiffeId where its actor is someone
  // else (a grant issued by the approving call has the approver as its actor, a person).
  const holder = sql<string>`COALESCE(detail->>'spiffeId', actor)`;
  let query = db
    .selectFrom('audit_events')
    .select(['kind', holder.as('holder'), sql<string>`detail->>'resource'`.as('resource'), sql<unknown>`detail->'scopes'`.as('scopes'), sql<string>`detail->>'action'`.as('action'), sql<string>`detail->>'count'`.as('count')])
    .where('kind', 'in', ['grant.issued', 'grant.used'])
    .where('occurred_at', '>=', since);
  if (workload) query = query.where(holder, '=', workload);
  // Only workloads: a person is never one, whatever a record's actor says.
  const rows = (await query.execute()).filter((row) => row.holder.startsWith('spiffe://'));
  return {
    issued: rows
      .filter((row) => row.kind === 'grant.issued' && row.resource)
      .map((row) => ({ spiffeId: row.holder, resource: row.resource, actions: Array.isArray(row.scopes) ? row.scopes.filter((scope): scope is string => typeof scope === 'string') : [] })),
    used: rows
      .filter((row) => row.kind === 'grant.used' && row.resource)
      .map((row) => ({ spiffeId: row.holder, resource: row.resource, action: row.action ?? '', count: Number(row.count) || 0 })),
  };
}

/** Registered workloads' ceilings (for the usage review). */
export async function listWorkloadCeilings(db: Kysely<Database>, workload: string | undefined): Promise<Map<string, { resource: string; actions: string[] }[]>> {
  let query = db.selectFrom('workloads').select(['spiffe_id', 'ceiling']);
  if (workload) query = query.where('spiffe_id', '=', workload);
  const rows = await query.execute();
  return new Map(rows.map((row) => [row.spiffe_id, row.ceiling.map((entry) => ({ resource: entry.resource, actions: [...entry.actions] }))]));
}
