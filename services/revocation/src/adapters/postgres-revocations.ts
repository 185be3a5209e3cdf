import { auditedTransaction, type AuditTrail } from '@mayfly/audit-trail';
import {
  endGrant,
  expireDueGrants,
  findGrantForUpdate,
  findGrantIdByTokenId,
  findKeyRevocation,
  insertRevocations,
  listLiveRevocations,
  listOverdueHeartbeats,
  listUnpublishedRevocations,
  lockActiveGrantIdsOfTask,
  lockLiveDescendants,
  markGrantConsumed,
  markRevocationPublished,
  revokeSvidsIssuedBefore,
  revokeWorkloadGrantsIssuedBefore,
  type Database,
  type Kysely,
} from '@mayfly/db';
import type { RevocationPorts, RevocationStore } from '../domain/ports.js';

/** The revocation store over one PostgreSQL transaction. */
function storeIn(tx: Kysely<Database>): RevocationStore {
  return {
    findGrantForUpdate: (grantId) => findGrantForUpdate(tx, grantId),
    findGrantIdByTokenId: (tokenId) => findGrantIdByTokenId(tx, tokenId),
    lockActiveGrantIdsOfTask: (taskId, spiffeId, limit) => lockActiveGrantIdsOfTask(tx, taskId, spiffeId, limit),
    lockLiveDescendants: (grantIds) => lockLiveDescendants(tx, grantIds),
    endGrant: (grantId, status, reason, at) => endGrant(tx, grantId, status, reason, at),
    markGrantConsumed: (grantId, at) => markGrantConsumed(tx, grantId, at),
    revokeSvidsIssuedBefore: (spiffeId, before) => revokeSvidsIssuedBefore(tx, spiffeId, before),
    revokeWorkloadGrantsIssuedBefore: (spiffeId, before, reason, at) => revokeWorkloadGrantsIssuedBefore(tx, spiffeId, before, reason, at),
    findKeyRevocation: (keyId) => findKeyRevocation(tx, keyId),
    insertRevocations: (rows) => insertRevocations(tx, rows),
    expireDueGrants: (now, limit) => expireDueGrants(tx, now, limit),
  };
}

/** Revocation's ports over PostgreSQL, with the audit outbox in the same transactions. */
export function postgresRevocationPorts(db: Kysely<Database>, audit: AuditTrail): RevocationPorts {
  return {
    async commit(change) {
      const done = await auditedTransaction(db, audit, (tx) => change(storeIn(tx)), { deliver: 'caller' });
      return done.result;
    },
    deliverAudit: (events) => void audit.deliver(events),
    async recordEvents(events) {
      await audit.enqueue(db, events);
      void audit.deliver(events);
    },
    unpublishedRevocations: (limit) => listUnpublishedRevocations(db, limit),
    liveRevocations: (now, limit, afterId) => listLiveRevocations(db, now, limit, afterId),
    markPublished: (revocationId, at, sequence) => markRevocationPublished(db, revocationId, at, sequence),
    overdueHeartbeats: (now, limit) => listOverdueHeartbeats(db, now, limit),
  };
}
