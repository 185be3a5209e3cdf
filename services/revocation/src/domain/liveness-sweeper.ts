import { isMayflyError, type Logger } from '@mayfly/core';
import type { RevocationPorts } from './ports.js';
import type { Revoker } from './revoker.js';

/** Who revokes a grant whose task stopped sending heartbeats, in the audit trail. */
export const LIVENESS_ACTOR = 'mayfly:liveness';

/**
 * Revokes active grants whose heartbeat is overdue, each through the Revoker like any other
 * revocation: committed with its audit record, then pushed to every edge. A killed task so loses
 * its access within its heartbeat interval plus one sweep. Replicas may sweep at once: a grant
 * another one revoked first is skipped.
 */
export async function revokeMissedHeartbeats(ports: Pick<RevocationPorts, 'overdueHeartbeats'>, revoker: Pick<Revoker, 'revoke'>, log: Logger, now = new Date()): Promise<number> {
  const overdue = await ports.overdueHeartbeats(now, 200);
  let revoked = 0;
  for (const grant of overdue) {
    try {
      await revoker.revoke({
        target: { kind: 'grant', grantId: grant.id },
        reason: `heartbeat_missed: none since ${grant.dueAt.toISOString()} (when one was due)`,
        requestedBy: LIVENESS_ACTOR,
        note: '',
        finalStatus: 'revoked',
      });
      revoked += 1;
    } catch (error) {
      if (!isMayflyError(error, 'ERR_GRANT_NOT_ACTIVE') && !isMayflyError(error, 'ERR_GRANT_NOT_FOUND')) throw error;
    }
  }
  if (revoked > 0) log.info({ revoked }, 'revoked grants whose heartbeat stopped');
  return revoked;
}
