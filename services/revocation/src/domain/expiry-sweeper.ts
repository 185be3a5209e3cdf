import type { Logger } from '@mayfly/core';
import { auditEvent } from '@mayfly/model';
import type { RevocationPorts } from './ports.js';

/** Grants expired per sweep, at most (the next sweep takes the rest). */
const SWEEP_LIMIT = 500;

/**
 * Marks grants whose credential lifetime has ended as expired, with an audit event each. No
 * revocation is published: the token is already refused everywhere by its exp claim. Requests
 * still pending approval at their pending_until end the same way (no token was ever issued).
 */
export async function expireDueGrantsOnce(ports: RevocationPorts, log: Logger, now = new Date()): Promise<number> {
  const events = await ports.commit(async (store) => {
    const expired = await store.expireDueGrants(now, SWEEP_LIMIT);
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
    return { result: auditEvents, events: auditEvents };
  });
  if (events.length > 0) {
    log.info({ expired: events.length }, 'expired grants');
    ports.deliverAudit(events);
  }
  return events.length;
}
