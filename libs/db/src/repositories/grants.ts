import { sql, type Kysely } from 'kysely';
import { PreparedStatement } from '../prepared-statements.js';
import { outboxRows, type OutboxEntry } from './audit-outbox.js';
import type { Database, GrantRecord, GrantRow, GrantStatusName, NewGrant } from '../schema.js';

export async function insertGrant(db: Kysely<Database>, grant: NewGrant | GrantRecord): Promise<void> {
  await db.insertInto('grants').values(grant).execute();
}

/** A grant and the audit outbox entries that describe it. */
export interface GrantWithAuditEntries {
  readonly grant: GrantRecord;
  readonly entries: readonly OutboxEntry[];
}

/**
 * Every column a grant is written with, in one fixed order. The `satisfies` and the check below
 * make the compiler refuse a list that misses a column of GrantRecord or names one it lacks.
 */
const GRANT_COLUMNS = [
  'id', 'spiffe_id', 'task_id', 'task_kind', 'task_reference', 'task_deadline', 'resource', 'actions', 'status',
  'token_id', 'policy_ids', 'policy_version', 'issued_at', 'expires_at', 'ended_at', 'end_reason', 'renewable_until',
  'token_lifetime_seconds', 'renewals', 'idempotency_key', 'request_digest', 'token_reissue', 'heartbeat_interval_seconds',
  'last_heartbeat_at', 'single_use', 'consumed_at', 'parent_grant_id', 'ancestor_grant_ids', 'delegators', 'break_glass',
  'review_groups',
] as const satisfies readonly (keyof GrantRecord)[];
type UnlistedGrantColumn = Exclude<keyof GrantRecord, (typeof GRANT_COLUMNS)[number]>;
const everyGrantColumnListed: [UnlistedGrantColumn] extends [never] ? true : UnlistedGrantColumn = true;
void everyGrantColumnListed;

const GRANT_COLUMN_LIST = GRANT_COLUMNS.join(', ');
const INSERT_GRANTS = `INSERT INTO grants (${GRANT_COLUMN_LIST})
  SELECT ${GRANT_COLUMN_LIST} FROM json_populate_recordset(NULL::grants, $1::json)`;

/** Grants alone: $1 the grants as a JSON array. */
const insertGrants = new PreparedStatement(INSERT_GRANTS);

/**
 * Grants and their outbox entries: $1 the grants as a JSON array, $2 the outbox owner, $3 and $4
 * the entries' ids and payloads. WITH ORDINALITY … ORDER BY: outbox positions follow the order
 * the events happened in.
 */
const insertGrantsAndOutbox = new PreparedStatement(`
  WITH inserted_grants AS (${INSERT_GRANTS})
  INSERT INTO audit_outbox (id, owner, payload)
  SELECT entry.id, $2, entry.payload
  FROM unnest($3::uuid[], $4::bytea[]) WITH ORDINALITY AS entry(id, payload, n)
  ORDER BY entry.n`);

/**
 * Inserts grants and their audit outbox entries in one statement (a data-modifying CTE): atomic
 * like a transaction — every grant with its events, or nothing — but one round trip and one
 * commit however many grants it carries (group commit batches them).
 *
 * The statement's text is the same for one grant or sixty-four: the grants travel as one JSON
 * array (json_populate_recordset turns it into rows of the grants type, arrays and timestamps
 * included) and the outbox entries as two arrays. A multi-row VALUES list was ~30 parameters per
 * grant: kysely compiled it and PostgreSQL parsed and planned it afresh for every batch size.
 * Being constant, it is a PreparedStatement: written once, parsed and planned once per connection.
 */
export async function insertGrantsWithAuditOutbox(db: Kysely<Database>, owner: string, batch: readonly GrantWithAuditEntries[]): Promise<void> {
  if (batch.length === 0) return;
  const grants = JSON.stringify(batch.map((item) => item.grant));
  const entries = batch.flatMap((item) => item.entries);
  if (entries.length === 0) {
    await insertGrants.run(db, [grants]);
    return;
  }
  await insertGrantsAndOutbox.run(db, [grants, owner, entries.map((entry) => entry.id), entries.map((entry) => entry.payload)]);
}

/**
 * Inserts a delegated grant and its audit outbox entries, only while its parent is still active
 * and reaches at least as far (the parent row is share-locked, so a revocation of the parent
 * either sees the child and ends it too, or comes first and the child is never written).
 * Returns false, writing nothing, when the parent ended or no longer covers the child.
 */
export async function insertDelegatedGrant(db: Kysely<Database>, grant: GrantRecord, owner: string, entries: readonly OutboxEntry[]): Promise<boolean> {
  if (!grant.parent_grant_id) throw new Error('insertDelegatedGrant: the grant has no parent');
  const parentId = grant.parent_grant_id;
  return db.transaction().execute(async (tx) => {
    const parent = await tx
      .selectFrom('grants')
      .select('id')
      .where('id', '=', parentId)
      .where('status', '=', 'active')
      .where('expires_at', '>=', grant.expires_at)
      .where('renewable_until', '>=', grant.renewable_until)
      .forShare()
      .executeTakeFirst();
    if (!parent) return false;
    await tx.insertInto('grants').values(grant).execute();
    if (entries.length > 0) await tx.insertInto('audit_outbox').values(outboxRows(owner, entries)).execute();
    return true;
  });
}

/**
 * The active grants delegated (at any depth) from any of `grantIds`, locked for the rest of the
 * transaction: ending a grant ends its subtree.
 */
export async function lockLiveDescendants(db: Kysely<Database>, grantIds: readonly string[]): Promise<string[]> {
  if (grantIds.length === 0) return [];
  const rows = await db
    .selectFrom('grants')
    .select('id')
    .where('status', '=', 'active')
    .where('parent_grant_id', 'is not', null)
    .where(sql<boolean>`ancestor_grant_ids && ${sql.val(grantIds)}::uuid[]`)
    .orderBy(sql`cardinality(ancestor_grant_ids)`)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((row) => row.id);
}

export async function findGrant(db: Kysely<Database>, id: string): Promise<GrantRow | undefined> {
  return db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Of these grant ids, those whose grant is active or waiting for approval: their credentials must
 * live (the login reconciler destroys the rest). Ids that are not UUIDs are simply not found.
 */
export async function activeGrantIds(db: Kysely<Database>, ids: readonly string[]): Promise<Set<string>> {
  const uuids = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id));
  if (uuids.length === 0) return new Set();
  const rows = await db.selectFrom('grants').select('id').where('id', 'in', uuids).where('status', 'in', ['active', 'pending_approval']).execute();
  return new Set(rows.map((row) => row.id));
}

/**
 * The grants on resources with dynamic logins that ended between `from` and `to`: what a
 * revocation event (whose commit ended them) asks the credential reaper to look at.
 */
export async function endedGrantsOnLoginResources(db: Kysely<Database>, from: Date, to: Date): Promise<{ id: string; resource: string }[]> {
  return db
    .selectFrom('grants')
    .innerJoin('resources', 'resources.name', 'grants.resource')
    .select(['grants.id as id', 'grants.resource as resource'])
    .where('grants.status', 'not in', ['active', 'pending_approval'])
    .where('grants.ended_at', '>=', from)
    .where('grants.ended_at', '<=', to)
    .execute();
}

/** Locks the grant row for the rest of the transaction, so that two revocations cannot race. */
export async function findGrantForUpdate(db: Kysely<Database>, id: string): Promise<GrantRow | undefined> {
  return db.selectFrom('grants').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Ends an active grant. Returns the updated row, or undefined if it was not active. */
export async function endGrant(
  db: Kysely<Database>,
  id: string,
  status: Extract<GrantStatusName, 'completed' | 'revoked' | 'expired'>,
  reason: string,
  at: Date,
): Promise<GrantRow | undefined> {
  return db
    .updateTable('grants')
    .set({ status, end_reason: reason, ended_at: at })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Marks active grants whose credential has expired as expired, at most `limit` at a time.
 * Returns them so that the expiry can be audited.
 */
export async function expireDueGrants(db: Kysely<Database>, now: Date, limit: number): Promise<(GrantRow & { was_pending: boolean })[]> {
  const due = (status: 'active' | 'pending_approval', reason: string) =>
    db
      .updateTable('grants')
      .set({ status: 'expired', end_reason: reason, ended_at: now })
      .where('id', 'in', (qb) => qb.selectFrom('grants').select('id').where('status', '=', status).where('expires_at', '<=', now).limit(limit).forUpdate().skipLocked())
      .returningAll()
      .execute();
  const ended = (await due('active', 'credential lifetime ended')).map((row) => ({ ...row, was_pending: false }));
  // A request nobody approved in time (expires_at is its pending_until); whoever waits on it hears.
  const unapproved = await due('pending_approval', 'not approved in time');
  for (const row of unapproved) await notifyGrantState(db, row.id);
  return [...ended, ...unapproved.map((row) => ({ ...row, was_pending: true }))];
}

/** Wakes whoever follows the grant (WatchGrant, on any issuance replica), when the transaction commits. */
export async function notifyGrantState(db: Kysely<Database>, grantId: string): Promise<void> {
  await sql`SELECT pg_notify(${GRANT_STATE_CHANNEL}, ${grantId})`.execute(db);
}

/** The PostgreSQL channel grant state changes are announced on (the payload is the grant id). */
export const GRANT_STATE_CHANNEL = 'mayfly_grant_state';

/** The grant whose token (its first, or a renewed one) has this jti, if any. */
export async function findGrantIdByTokenId(db: Kysely<Database>, tokenId: string): Promise<string | undefined> {
  const first = await db.selectFrom('grants').select('id').where('token_id', '=', tokenId).executeTakeFirst();
  if (first) return first.id;
  const renewed = await db.selectFrom('grant_tokens').select('grant_id').where('token_id', '=', tokenId).executeTakeFirst();
  return renewed?.grant_id;
}

/**
 * Records a renewed token: the grant's newest expiry moves to it, its renewal count goes up —
 * only if the grant is still active and the token expires within renewable_until (checked here,
 * in the same statement, so that a renewal racing a revocation or the ceiling cannot win).
 * Returns the updated grant, or undefined if it was not renewable.
 */
export async function recordRenewedToken(
  db: Kysely<Database>,
  token: { tokenId: string; grantId: string; issuedAt: Date; expiresAt: Date },
  audit: { owner: string; entries: readonly OutboxEntry[] },
): Promise<GrantRow | undefined> {
  return db.transaction().execute(async (tx) => {
    const grant = await tx
      .updateTable('grants')
      // A renewal is also a heartbeat.
      .set((eb) => ({ expires_at: sql<Date>`greatest(expires_at, ${token.expiresAt})`, renewals: eb('renewals', '+', 1), last_heartbeat_at: token.issuedAt }))
      .where('id', '=', token.grantId)
      .where('status', '=', 'active')
      .where('renewable_until', '>=', token.expiresAt)
      // A delegated grant's token never outlives its parent's newest token.
      .where((eb) =>
        eb.or([
          eb('parent_grant_id', 'is', null),
          eb.exists(
            eb
              .selectFrom('grants as parent')
              .select('parent.id')
              .whereRef('parent.id', '=', 'grants.parent_grant_id')
              .where('parent.status', '=', 'active')
              .where('parent.expires_at', '>=', token.expiresAt),
          ),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    if (!grant) return undefined;
    await tx.insertInto('grant_tokens').values({ token_id: token.tokenId, grant_id: token.grantId, issued_at: token.issuedAt, expires_at: token.expiresAt }).execute();
    if (audit.entries.length > 0) await tx.insertInto('audit_outbox').values(outboxRows(audit.owner, audit.entries)).execute();
    return grant;
  });
}

/**
 * The active grants of a task (of one workload, or of every workload when spiffeId is
 * undefined), locked for the rest of the transaction; at most `limit`, oldest first.
 */
export async function lockActiveGrantIdsOfTask(db: Kysely<Database>, taskId: string, spiffeId: string | undefined, limit: number): Promise<string[]> {
  let query = db.selectFrom('grants').select('id').where('task_id', '=', taskId).where('status', '=', 'active');
  if (spiffeId !== undefined) query = query.where('spiffe_id', '=', spiffeId);
  const rows = await query.orderBy('issued_at').limit(limit).forUpdate().execute();
  return rows.map((row) => row.id);
}

/**
 * Ends every active grant of the workload issued before `before`, in one statement whatever
 * their number (a workload watermark covers their tokens at the edges, not one entry each).
 * Returns how many it ended.
 */
export async function revokeWorkloadGrantsIssuedBefore(db: Kysely<Database>, spiffeId: string, before: Date, reason: string, at: Date): Promise<number> {
  // Requests still waiting for approval end too: approved later, they would get a token after
  // the watermark, which edges would not refuse.
  const held = await db
    .updateTable('grants')
    .set({ status: 'revoked', end_reason: reason, ended_at: at })
    .where('spiffe_id', '=', spiffeId)
    .where('status', 'in', ['active', 'pending_approval'])
    .where('issued_at', '<', before)
    .executeTakeFirst();
  // What the workload passed on ends with it: any live grant with it in its delegation chain,
  // as edges refuse a token whose chain names a revoked workload.
  const delegated = await db
    .updateTable('grants')
    .set({ status: 'revoked', end_reason: `${reason} (delegated by ${spiffeId})`, ended_at: at })
    .where('status', '=', 'active')
    .where('parent_grant_id', 'is not', null)
    .where(sql<boolean>`delegators @> ARRAY[${spiffeId}]::text[]`)
    .where('issued_at', '<', before)
    .executeTakeFirst();
  return Number(held.numUpdatedRows) + Number(delegated.numUpdatedRows);
}

/** The grant a workload requested under an idempotency key, if any. */
export async function findGrantByIdempotencyKey(db: Kysely<Database>, spiffeId: string, key: string): Promise<GrantRow | undefined> {
  return db.selectFrom('grants').selectAll().where('spiffe_id', '=', spiffeId).where('idempotency_key', '=', key).executeTakeFirst();
}

/** True when `error` is the insert of a second grant under a workload's idempotency key. */
export function isIdempotencyKeyTaken(error: unknown): boolean {
  const pg = error as { code?: string; constraint?: string };
  return pg.code === '23505' && pg.constraint === 'grants_idempotency';
}

/**
 * Records a heartbeat of an active grant that requires liveness. Returns when the next one is
 * due, or undefined if the grant is not active (or requires none).
 */
export async function recordHeartbeat(db: Kysely<Database>, grantId: string, at: Date): Promise<Date | undefined> {
  const row = await db
    .updateTable('grants')
    .set({ last_heartbeat_at: at })
    .where('id', '=', grantId)
    .where('status', '=', 'active')
    .where('heartbeat_interval_seconds', 'is not', null)
    .returning('heartbeat_interval_seconds')
    .executeTakeFirst();
  return row?.heartbeat_interval_seconds ? new Date(at.getTime() + row.heartbeat_interval_seconds * 1000) : undefined;
}

/** Active grants whose heartbeat is overdue at `now`, at most `limit`, most overdue first. */
export async function listOverdueHeartbeats(db: Kysely<Database>, now: Date, limit: number): Promise<{ id: string; dueAt: Date }[]> {
  const due = sql<Date>`coalesce(last_heartbeat_at, issued_at) + make_interval(secs => heartbeat_interval_seconds)`;
  const rows = await db
    .selectFrom('grants')
    .select(['id', due.as('due_at')])
    .where('status', '=', 'active')
    .where('heartbeat_interval_seconds', 'is not', null)
    .where(due, '<', now)
    .orderBy(due)
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, dueAt: row.due_at }));
}

/** Marks a single-use grant consumed (under the caller's row lock). */
export async function markGrantConsumed(db: Kysely<Database>, grantId: string, at: Date): Promise<void> {
  await db.updateTable('grants').set({ consumed_at: at }).where('id', '=', grantId).where('single_use', '=', true).execute();
}
