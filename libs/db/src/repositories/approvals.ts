import { type Kysely } from 'kysely';
import { outboxRows, type OutboxEntry } from './audit-outbox.js';
import { notifyGrantState } from './grants.js';
import type { ApprovalOutcome, NewApprovalRequest, PendingApproval } from '@mayfly/model';
import type { ApprovalRequestRow, ApprovalVoteRow, Database, GrantRecord, GrantRow } from '../schema.js';

export type { ApprovalOutcome, NewApprovalRequest, PendingApproval };


/** The pending grant, its approval request and its audit events, in one transaction. */
export async function insertPendingGrant(db: Kysely<Database>, grant: GrantRecord, request: NewApprovalRequest, audit: { owner: string; entries: readonly OutboxEntry[] }): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('grants').values(grant).execute();
    await tx.insertInto('approval_requests').values(request).execute();
    if (audit.entries.length > 0) await tx.insertInto('audit_outbox').values(outboxRows(audit.owner, audit.entries)).execute();
  });
}

/** The grant and, if it ever needed approval, its request and answers. */
export async function findApproval(db: Kysely<Database>, grantId: string, options: { lock?: boolean } = {}): Promise<PendingApproval | undefined> {
  let grantQuery = db.selectFrom('grants').selectAll().where('id', '=', grantId);
  if (options.lock) grantQuery = grantQuery.forUpdate();
  const grant = await grantQuery.executeTakeFirst();
  if (!grant) return undefined;
  const request = await db.selectFrom('approval_requests').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
  if (!request) return undefined;
  const votes = await db.selectFrom('approval_votes').selectAll().where('grant_id', '=', grantId).orderBy('at').execute();
  return { grant, request, votes };
}

/**
 * Records one person's answer and what it decided, with its audit events, in one transaction
 * under the grant's row lock: `decide` sees the grant, request and votes as they are now and
 * says what to write. A person's second answer is not recorded again (one row per person).
 */
export async function recordVote<T>(
  db: Kysely<Database>,
  grantId: string,
  decide: (current: PendingApproval) => Promise<{ vote?: ApprovalVoteRow; outcome?: ApprovalOutcome; events: readonly OutboxEntry[]; result: T }>,
  owner: string,
): Promise<T | undefined> {
  return db.transaction().execute(async (tx) => {
    const current = await findApproval(tx, grantId, { lock: true });
    if (!current) return undefined;
    const { vote, outcome, events, result } = await decide(current);
    if (vote) await tx.insertInto('approval_votes').values(vote).onConflict((oc) => oc.columns(['grant_id', 'approver']).doNothing()).execute();
    if (outcome) await applyOutcome(tx, grantId, outcome);
    if (events.length > 0) await tx.insertInto('audit_outbox').values(outboxRows(owner, events)).execute();
    if (outcome) await notifyGrantState(tx, grantId);
    return result;
  });
}


async function applyOutcome(tx: Kysely<Database>, grantId: string, outcome: ApprovalOutcome): Promise<void> {
  if (outcome.kind === 'approved') {
    await tx
      .updateTable('grants')
      .set({
        status: 'active',
        issued_at: outcome.issuedAt,
        expires_at: outcome.expiresAt,
        renewable_until: outcome.renewableUntil,
        token_lifetime_seconds: outcome.tokenLifetimeSeconds,
        token_reissue: outcome.tokenReissue,
      })
      .where('id', '=', grantId)
      .where('status', '=', 'pending_approval')
      .execute();
    await tx.updateTable('approval_requests').set({ approved_at: outcome.at }).where('grant_id', '=', grantId).execute();
    return;
  }
  await tx.updateTable('grants').set({ status: 'denied', ended_at: outcome.at, end_reason: outcome.reason }).where('id', '=', grantId).where('status', '=', 'pending_approval').execute();
  await tx.updateTable('approval_requests').set({ rejected_at: outcome.at }).where('grant_id', '=', grantId).execute();
}

/** Grants waiting for approval, oldest first. */
export async function listPendingApprovals(db: Kysely<Database>, limit: number): Promise<PendingApproval[]> {
  const grants = await db.selectFrom('grants').selectAll().where('status', '=', 'pending_approval').orderBy('issued_at').limit(limit).execute();
  if (grants.length === 0) return [];
  const ids = grants.map((grant) => grant.id);
  const requests = await db.selectFrom('approval_requests').selectAll().where('grant_id', 'in', ids).execute();
  const votes = await db.selectFrom('approval_votes').selectAll().where('grant_id', 'in', ids).orderBy('at').execute();
  return grants.flatMap((grant) => {
    const request = requests.find((row) => row.grant_id === grant.id);
    return request ? [{ grant, request, votes: votes.filter((vote) => vote.grant_id === grant.id) }] : [];
  });
}

/** Grants issued through break-glass, newest first; only those not yet reviewed unless asked. */
export async function listBreakGlassGrants(db: Kysely<Database>, options: { includeReviewed: boolean; limit: number }): Promise<GrantRow[]> {
  let query = db.selectFrom('grants').selectAll().where('break_glass', '=', true);
  if (!options.includeReviewed) query = query.where('reviewed_at', 'is', null);
  return query.orderBy('issued_at', 'desc').limit(options.limit).execute();
}

/** How many break-glass grants nobody has reviewed yet, and how many requests wait for approval (metrics). */
export async function countApprovalState(db: Kysely<Database>): Promise<{ unreviewedBreakGlass: number; pendingApprovals: number }> {
  const count = async (where: 'unreviewed' | 'pending') => {
    let query = db.selectFrom('grants').select((eb) => eb.fn.countAll<string>().as('count'));
    query = where === 'unreviewed' ? query.where('break_glass', '=', true).where('reviewed_at', 'is', null) : query.where('status', '=', 'pending_approval');
    return Number((await query.executeTakeFirstOrThrow()).count);
  };
  return { unreviewedBreakGlass: await count('unreviewed'), pendingApprovals: await count('pending') };
}

/** Records the after-action review of a break-glass grant, with its audit events; false if it was reviewed already (or is not one). */
export async function recordBreakGlassReview(
  db: Kysely<Database>,
  review: { grantId: string; reviewer: string; text: string; at: Date },
  audit: { owner: string; entries: readonly OutboxEntry[] },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('grants')
      .set({ reviewed_at: review.at, reviewed_by: review.reviewer, review: review.text })
      .where('id', '=', review.grantId)
      .where('break_glass', '=', true)
      .where('reviewed_at', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    if (audit.entries.length > 0) await tx.insertInto('audit_outbox').values(outboxRows(audit.owner, audit.entries)).execute();
    return true;
  });
}

/** Grants, newest first, filtered by status and workload. */
/** Where a page of grants starts: after this (issued_at, id), newest first. */
export interface GrantPageCursor {
  readonly issuedAt: Date;
  readonly id: string;
}

/**
 * Grants, newest first, by keyset paging: a page after `after` costs the same however deep it
 * is (an index range scan on (issued_at, id)), where OFFSET would read every row before it.
 */
export async function listGrants(
  db: Kysely<Database>,
  options: { statuses: readonly GrantRow['status'][]; spiffeId: string | undefined; resource?: string | undefined; taskId?: string | undefined; after?: GrantPageCursor | undefined; limit: number },
): Promise<GrantRow[]> {
  let query = db.selectFrom('grants').selectAll();
  if (options.statuses.length > 0) query = query.where('status', 'in', options.statuses);
  if (options.spiffeId) query = query.where('spiffe_id', '=', options.spiffeId);
  if (options.resource) query = query.where('resource', '=', options.resource);
  if (options.taskId) query = query.where('task_id', '=', options.taskId);
  const after = options.after;
  if (after) query = query.where((eb) => eb(eb.refTuple('issued_at', 'id'), '<', eb.tuple(after.issuedAt, after.id)));
  return query.orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}
