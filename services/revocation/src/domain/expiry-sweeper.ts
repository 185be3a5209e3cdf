import type { Logger } from '@mayfly/core';
import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import { expireDueGrants, type Database, type Kysely } from '@mayfly/db';

/**
 * Marks grants whose credential lifetime has ended as expired, with an audit event each. No
 * revocation is published: the token is already refused everywhere by its exp claim. Requests
 * still pending approval at their pending_until end the same way (no token was ever issued).
 */
export async function expireDueGrantsOnce(db: Kysely<Database>, audit: AuditTrail, log: Logger): Promise<number> {
  const now = new Date();
  const events = await db.transaction().execute(async (tx) => {
    const expired = await expireDueGrants(tx, now, 500);
    const auditEvents = expired.map((grant) =>
      auditEvent('revocation', {
        kind: 'grant.expired',
        actor: 'mayfly:expiry',
        outcome: 'success',
        grantId: grant.id,
        taskId: grant.task_id,
        occurredAt: now,
        detail: grant.was_pending
          ? { spiffeId: grant.spiffe_id, reason: 'not approved in time', pendingUntil: grant.expires_at.toISOString() }
          : { spiffeId: grant.spiffe_id, tokenId: grant.token_id, expiresAt: grant.expires_at.toISOString() },
      }),
    );
    await audit.enqueue(tx, auditEvents);
    return auditEvents;
  });
  if (events.length > 0) {
    log.info({ expired: events.length }, 'expired grants');
    void audit.deliver(events);
  }
  return events.length;
}
