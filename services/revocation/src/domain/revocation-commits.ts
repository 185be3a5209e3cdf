import { auditEvent, toGrantMessage, type RevocationRecord as RevocationRow } from '@mayfly/model';
import { MayflyError, newId } from '@mayfly/core';
import type { AuditEvent, Grant } from '@mayfly/proto';
import type { RevocationStore } from './ports.js';
import type { RevocationTarget, ValidRevokeRequest } from './revoke-request.js';

/**
 * What one Revoke call changed inside its transaction (grants ended, a workload's session cut-off
 * moved), and what the caller must still write in it: the revocation rows, which the stream will
 * carry, and their audit events.
 */
export interface CommittedRevocation {
  readonly rows: readonly RevocationRow[];
  readonly auditEvents: readonly AuditEvent[];
  /** The grant, for a grant or token target. */
  readonly grant?: Grant;
  readonly grantsEnded: number;
  readonly endedGrantIds: readonly string[];
}

export interface CommitContext {
  /** The records, inside the revocation's transaction. */
  readonly store: RevocationStore;
  readonly request: ValidRevokeRequest;
  readonly now: Date;
  /**
   * How long a watermark must stay on the stream: the longest a token issued before it can live
   * (the stream's retention, which is at least the longest token lifetime).
   */
  readonly watermarkLifetimeMs: number;
}

/** A task with more active grants than this is revoked by workload watermark instead. */
export const MAX_GRANTS_PER_TASK_REVOCATION = 10_000;

const SOURCE = 'revocation';

/** Ends what the target names, in the caller's transaction, and says what to record and publish. */
export function commitRevocation(context: CommitContext): Promise<CommittedRevocation> {
  const target: RevocationTarget = context.request.target;
  switch (target.kind) {
    case 'grant':
      return revokeGrants(context, [target.grantId]);
    case 'token':
      return revokeToken(context, target.tokenId);
    case 'task':
      return revokeTask(context, target.taskId, target.spiffeId);
    case 'workload':
      return revokeWorkload(context, target.spiffeId, target.issuedBefore);
    case 'key':
      return revokeKey(context, target.keyId);
    case 'consumption':
      return consume(context, target);
  }
}

/**
 * An edge consumes a single-use token: under the grant's row lock, the first consumption marks
 * it consumed and ends the grant (completed), which revokes the token at every edge; any later
 * one finds it consumed. PostgreSQL decides, so two edges asking at once cannot both win.
 */
async function consume(context: CommitContext, target: Extract<RevocationTarget, { kind: 'consumption' }>): Promise<CommittedRevocation> {
  const { store, now } = context;
  const grant = await store.findGrantForUpdate(target.grantId);
  if (!grant || grant.token_id !== target.tokenId || !grant.single_use) {
    throw new MayflyError('ERR_GRANT_NOT_FOUND', `no single-use grant ${target.grantId} with token ${target.tokenId}`);
  }
  if (grant.consumed_at) throw new MayflyError('ERR_TOKEN_CONSUMED', `single-use token ${target.tokenId} was consumed at ${grant.consumed_at.toISOString()}`);
  if (grant.status !== 'active') throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${grant.id} is already ${grant.status}; its token cannot be used`);
  await store.markGrantConsumed(grant.id, now);
  const ended = await revokeGrants(context, [grant.id]);
  const record = auditEvent(SOURCE, {
    kind: 'grant.consumed',
    actor: context.request.requestedBy,
    outcome: 'success',
    grantId: grant.id,
    taskId: grant.task_id,
    occurredAt: now,
    detail: { tokenId: target.tokenId, spiffeId: grant.spiffe_id, resource: target.resource, action: target.action, revocationId: ended.rows[0]!.id },
  });
  return { ...ended, auditEvents: [record, ...ended.auditEvents] };
}

async function revokeToken(context: CommitContext, tokenId: string): Promise<CommittedRevocation> {
  const grantId = await context.store.findGrantIdByTokenId(tokenId);
  if (!grantId) throw new MayflyError('ERR_GRANT_NOT_FOUND', `no grant has a token with jti ${tokenId}`);
  return revokeGrants(context, [grantId]);
}

async function revokeTask(context: CommitContext, taskId: string, spiffeId: string | undefined): Promise<CommittedRevocation> {
  const ids = await context.store.lockActiveGrantIdsOfTask(taskId, spiffeId, MAX_GRANTS_PER_TASK_REVOCATION + 1);
  const whose = spiffeId ? ` of ${spiffeId}` : '';
  if (ids.length === 0) throw new MayflyError('ERR_GRANT_NOT_FOUND', `task ${taskId}${whose} has no active grant; nothing to revoke`);
  if (ids.length > MAX_GRANTS_PER_TASK_REVOCATION) {
    throw new MayflyError(
      'ERR_INVALID_ARGUMENT',
      `task ${taskId}${whose} has more than ${MAX_GRANTS_PER_TASK_REVOCATION} active grants; revoke its workload instead (one watermark covers them all)`,
      { field: 'task' },
    );
  }
  const ended = await revokeGrants(context, ids);
  // One record of the operation as a whole, beside one per grant.
  const summary = auditEvent(SOURCE, {
    kind: context.request.finalStatus === 'completed' ? 'task.completed' : 'task.revoked',
    actor: context.request.requestedBy,
    outcome: 'success',
    taskId,
    occurredAt: context.now,
    detail: {
      ...commonDetail(context.request, ended.rows[0]!),
      ...(spiffeId ? { spiffeId } : {}),
      grantsEnded: ended.grantsEnded,
      grantIds: ended.endedGrantIds.slice(0, 100),
    },
  });
  return { ...ended, auditEvents: [...ended.auditEvents, summary] };
}

/**
 * Ends each grant (locked, so two revocations cannot race) and records one revocation each —
 * then the same for every live grant delegated from them, at any depth: a delegated grant never
 * outlives the grant it was carved from. Each descendant gets its own revocation, so an edge
 * refuses it by its own grant id too (its tokens also name their ancestors).
 */
async function revokeGrants(context: CommitContext, grantIds: readonly string[]): Promise<CommittedRevocation> {
  const rows: RevocationRow[] = [];
  const auditEvents: AuditEvent[] = [];
  let grant: Grant | undefined;
  const end = async (grantId: string, cascadedFrom: readonly string[] | undefined): Promise<void> => {
    const ended = await endOne(context, grantId, cascadedFrom);
    if (!ended) return; // a descendant that ended meanwhile
    rows.push(ended.row);
    auditEvents.push(ended.event);
    if (!cascadedFrom) grant = ended.grant;
  };
  for (const grantId of grantIds) await end(grantId, undefined);
  for (const descendantId of await context.store.lockLiveDescendants(grantIds)) {
    if (!grantIds.includes(descendantId)) await end(descendantId, grantIds);
  }
  const explicit = grantIds.length === 1 && grant ? { grant } : {};
  return { rows, auditEvents, ...explicit, grantsEnded: rows.length, endedGrantIds: rows.map((row) => row.grant_id!) };
}

/** Ends one grant; a grant named by the request must be active, a descendant is skipped if not. */
async function endOne(context: CommitContext, grantId: string, cascadedFrom: readonly string[] | undefined) {
  const { store, request, now } = context;
  const current = await store.findGrantForUpdate(grantId);
  if (!current) throw new MayflyError('ERR_GRANT_NOT_FOUND', `grant ${grantId} does not exist`);
  if (current.status !== 'active') {
    if (cascadedFrom) return undefined;
    throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${grantId} is already ${current.status}; nothing to revoke`);
  }
  const reason = cascadedFrom ? `${request.reason} (delegated from grant ${current.ancestor_grant_ids.find((id) => cascadedFrom.includes(id)) ?? cascadedFrom[0]}, which ended)` : request.reason;
  const ended = await store.endGrant(current.id, request.finalStatus, reason, now);
  if (!ended) throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${grantId} ended while being revoked`);
  const row = revocationRow(context, {
    scope: 'grant',
    grant_id: ended.id,
    token_id: ended.token_id,
    spiffe_id: ended.spiffe_id,
    task_id: ended.task_id,
    not_after: ended.expires_at,
  });
  const event = auditEvent(SOURCE, {
    kind: request.finalStatus === 'completed' ? 'grant.completed' : 'grant.revoked',
    actor: request.requestedBy,
    outcome: 'success',
    grantId: ended.id,
    taskId: ended.task_id,
    occurredAt: now,
    detail: {
      ...commonDetail(request, row),
      tokenId: ended.token_id,
      spiffeId: ended.spiffe_id,
      ...(cascadedFrom ? { reason, delegatedFrom: ended.parent_grant_id } : {}),
    },
  });
  return { row, event, grant: toGrantMessage(ended) };
}

/**
 * A workload watermark: its active grants issued before the time end (one statement), its
 * session certificates issued before it stop being accepted, and edges reject its tokens whose
 * iat is before it — one stream entry, however many tokens.
 */
async function revokeWorkload(context: CommitContext, spiffeId: string, issuedBefore: Date): Promise<CommittedRevocation> {
  const { store, request, now } = context;
  if (!(await store.revokeSvidsIssuedBefore(spiffeId, issuedBefore))) {
    throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${spiffeId} is registered; nothing to revoke`);
  }
  const grantsEnded = await store.revokeWorkloadGrantsIssuedBefore(spiffeId, issuedBefore, request.reason, now);
  const row = revocationRow(context, {
    scope: 'workload',
    spiffe_id: spiffeId,
    not_before: issuedBefore,
    not_after: new Date(Math.max(issuedBefore.getTime(), now.getTime()) + context.watermarkLifetimeMs),
  });
  const event = auditEvent(SOURCE, {
    kind: 'workload.revoked',
    actor: request.requestedBy,
    outcome: 'success',
    occurredAt: now,
    detail: { ...commonDetail(request, row), spiffeId, issuedBefore: issuedBefore.toISOString(), grantsEnded },
  });
  return { rows: [row], auditEvents: [event], grantsEnded, endedGrantIds: [] };
}

/**
 * A signing key: edges reject every token with its kid from the moment they hear it, and
 * issuance stops publishing and signing with it (it reads revoked keys from PostgreSQL), so the
 * key is gone from the JWKS before the watermark ages off the stream.
 */
async function revokeKey(context: CommitContext, keyId: string): Promise<CommittedRevocation> {
  const { store, request, now } = context;
  const earlier = await store.findKeyRevocation(keyId);
  if (earlier) {
    throw new MayflyError('ERR_ALREADY_REVOKED', `signing key ${keyId} was already revoked at ${earlier.revoked_at.toISOString()} by ${earlier.requested_by}`);
  }
  const row = revocationRow(context, { scope: 'key', key_id: keyId, not_after: new Date(now.getTime() + context.watermarkLifetimeMs) });
  const event = auditEvent(SOURCE, {
    kind: 'key.revoked',
    actor: request.requestedBy,
    outcome: 'success',
    occurredAt: now,
    detail: { ...commonDetail(request, row), keyId },
  });
  return { rows: [row], auditEvents: [event], grantsEnded: 0, endedGrantIds: [] };
}

type RowTarget = Pick<RevocationRow, 'scope' | 'not_after'> & Partial<Pick<RevocationRow, 'grant_id' | 'token_id' | 'spiffe_id' | 'task_id' | 'key_id' | 'not_before'>>;

function revocationRow(context: CommitContext, target: RowTarget): RevocationRow {
  return {
    id: newId(),
    grant_id: null,
    token_id: null,
    spiffe_id: null,
    task_id: null,
    key_id: null,
    not_before: null,
    consumed: context.request.target.kind === 'consumption',
    ...target,
    reason: context.request.reason,
    requested_by: context.request.requestedBy,
    revoked_at: context.now,
    published_at: null,
    stream_sequence: null,
  };
}

/** Why, and the caller's own words about whom it acts for (its verified identity is the actor). */
function commonDetail(request: ValidRevokeRequest, row: RevocationRow): Record<string, string> {
  return {
    reason: request.reason,
    ...(request.note ? { requestedByNote: request.note } : {}),
    revocationId: row.id,
  };
}
