import { MayflyError, newId, type Logger } from '@mayfly/core';
import { auditEvent, type AuditTrail } from '@mayfly/audit-trail';
import {
  endGrant,
  findGrantForUpdate,
  insertRevocation,
  listLiveRevocations,
  listUnpublishedRevocations,
  markRevocationPublished,
  toGrantMessage,
  type Database,
  type Kysely,
  type RevocationRow,
} from '@mayfly/db';
import { RevocationEvent, type RevokeResponse } from '@mayfly/proto';
import type { ValidRevokeRequest } from './revoke-request.js';

/** Where revocation events go once they are committed. */
export interface RevocationSink {
  /** Resolves with the event's stream sequence once stored; msgId defaults to the event id. */
  publish(event: RevocationEvent, msgId?: string): Promise<number>;
}

const SOURCE = 'revocation';

/**
 * Revokes grants. The grant's new status, the revocation record and its audit event commit in
 * one transaction: that is the moment of revocation. Publishing to the stream follows; if NATS
 * is away, the revocation waits in PostgreSQL and the retry loop publishes it when NATS is back.
 */
export class Revoker {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sink: RevocationSink,
    private readonly audit: AuditTrail,
    private readonly log: Logger,
    /**
     * Runs between the commit and the publish. Only fault-injection tests set it (they kill the
     * process here, to show that a committed revocation is published after a restart).
     */
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  async revoke(request: ValidRevokeRequest): Promise<RevokeResponse> {
    const now = new Date();
    const { row, grant, events } = await this.db.transaction().execute(async (tx) => {
      const current = await findGrantForUpdate(tx, request.grantId);
      if (!current) throw new MayflyError('ERR_GRANT_NOT_FOUND', `grant ${request.grantId} does not exist`);
      if (current.status !== 'active') {
        throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${request.grantId} is already ${current.status}; nothing to revoke`);
      }
      const ended = await endGrant(tx, current.id, request.finalStatus, request.reason, now);
      if (!ended) throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${request.grantId} ended while being revoked`);
      const revocation: RevocationRow = {
        id: newId(),
        grant_id: ended.id,
        token_id: ended.token_id,
        spiffe_id: ended.spiffe_id,
        task_id: ended.task_id,
        reason: request.reason,
        requested_by: request.requestedBy,
        revoked_at: now,
        not_after: ended.expires_at,
        published_at: null,
        stream_sequence: null,
      };
      await insertRevocation(tx, revocation);
      const auditEvents = [
        auditEvent(SOURCE, {
          kind: request.finalStatus === 'completed' ? 'grant.completed' : 'grant.revoked',
          actor: request.requestedBy,
          outcome: 'success',
          grantId: ended.id,
          taskId: ended.task_id,
          occurredAt: now,
          detail: {
            reason: request.reason,
            // What the caller said of itself; the actor above is its verified identity.
            ...(request.note ? { requestedByNote: request.note } : {}),
            tokenId: ended.token_id,
            spiffeId: ended.spiffe_id,
            revocationId: revocation.id,
          },
        }),
      ];
      await this.audit.enqueue(tx, auditEvents);
      return { row: revocation, grant: toGrantMessage(ended), events: auditEvents };
    });

    this.afterCommit();
    const event = toRevocationEvent(row);
    const published = await this.tryPublish(event);
    void this.audit.deliver(events);
    return { revocation: event, grant, published };
  }

  /** Publishes revocations that were committed but not yet acknowledged by the stream. */
  async publishPending(): Promise<number> {
    const pending = await listUnpublishedRevocations(this.db, 100);
    let published = 0;
    for (const row of pending) {
      if (!(await this.tryPublish(toRevocationEvent(row)))) break;
      published += 1;
    }
    if (published > 0) this.log.info({ published }, 'published revocations that were waiting for NATS');
    return published;
  }

  /**
   * Publishes every revocation whose token could still be presented, again: the stream lost
   * them (see StreamGuard). Each gets a fresh message id, because a purged stream still
   * remembers the old ones and would drop them as duplicates. Edges apply an event twice
   * harmlessly. Throws if NATS fails midway; the guard's next check tries again.
   */
  async republishLive(): Promise<number> {
    const round = Date.now().toString(36);
    let count = 0;
    let after: string | undefined;
    for (;;) {
      const page = await listLiveRevocations(this.db, new Date(), 500, after);
      for (const row of page) {
        const sequence = await this.sink.publish(toRevocationEvent(row), `${row.id}:${round}`);
        await markRevocationPublished(this.db, row.id, row.published_at ?? new Date(), sequence);
        count += 1;
      }
      if (page.length < 500) return count;
      after = page[page.length - 1]!.id;
    }
  }

  private async tryPublish(event: RevocationEvent): Promise<boolean> {
    try {
      const sequence = await this.sink.publish(event);
      await markRevocationPublished(this.db, event.id, new Date(), sequence);
      return true;
    } catch (error) {
      this.log.warn({ err: (error as Error).message, revocationId: event.id }, 'revocation stored but not yet published; will retry');
      return false;
    }
  }
}

export function toRevocationEvent(row: RevocationRow): RevocationEvent {
  return RevocationEvent.fromPartial({
    id: row.id,
    grantId: row.grant_id,
    tokenId: row.token_id,
    spiffeId: row.spiffe_id,
    taskId: row.task_id,
    reason: row.reason,
    revokedAt: row.revoked_at,
    notAfter: row.not_after,
  });
}
