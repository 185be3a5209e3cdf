import type { Logger } from '@mayfly/core';
import type { RevocationRecord } from '@mayfly/model';
import { RevocationEvent, RevocationScope, type AuditEvent, type RevokeResponse } from '@mayfly/proto';
import type { RevocationPorts } from './ports.js';
import { commitRevocation } from './revocation-commits.js';
import type { ValidRevokeRequest } from './revoke-request.js';

/** Where revocation events go once they are committed. */
export interface RevocationSink {
  /** Resolves with the event's stream sequence once stored; msgId defaults to the event id. */
  publish(event: RevocationEvent, msgId?: string): Promise<number>;
}

/**
 * Revokes credentials. What the target ends (grants' status, a workload's session cut-off), the
 * revocation records and their audit events commit in one transaction: that is the moment of
 * revocation. Publishing to the stream follows; if NATS is away, the revocations wait in
 * PostgreSQL and the retry loop publishes them when NATS is back.
 */
export class Revoker {
  constructor(
    private readonly ports: RevocationPorts,
    private readonly sink: RevocationSink,
    private readonly log: Logger,
    /** How long a watermark stays on the stream: the stream's retention (see CommitContext). */
    private readonly watermarkLifetimeMs: number,
    /**
     * Runs between the commit and the publish. Only fault-injection tests set it (they kill the
     * process here, to show that a committed revocation is published after a restart).
     */
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  async revoke(request: ValidRevokeRequest): Promise<RevokeResponse> {
    const now = new Date();
    const committed = await this.ports.commit(async (store) => {
      const revocation = await commitRevocation({ store, request, now, watermarkLifetimeMs: this.watermarkLifetimeMs });
      await store.insertRevocations(revocation.rows);
      return { result: revocation, events: revocation.auditEvents };
    });
    this.afterCommit();
    const events = committed.rows.map(toRevocationEvent);
    let published = true;
    for (const event of events) {
      // Once NATS refuses one, the rest wait for the retry loop too (it keeps their order).
      if (!published || !(await this.tryPublish(event))) published = false;
    }
    this.ports.deliverAudit(committed.auditEvents);
    return {
      revocation: events[0],
      grant: committed.grant,
      published,
      grantsEnded: committed.grantsEnded,
      endedGrantIds: [...committed.endedGrantIds],
    };
  }

  /** Records a refusal (a second use of a single-use token) durably: outbox first, then delivery. */
  async recordRefusal(events: readonly AuditEvent[]): Promise<void> {
    await this.ports.recordEvents(events);
  }

  /** Publishes revocations that were committed but not yet acknowledged by the stream. */
  async publishPending(): Promise<number> {
    const pending = await this.ports.unpublishedRevocations(100);
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
      const page = await this.ports.liveRevocations(new Date(), 500, after);
      for (const row of page) {
        const sequence = await this.sink.publish(toRevocationEvent(row), `${row.id}:${round}`);
        await this.ports.markPublished(row.id, row.published_at ?? new Date(), sequence);
        count += 1;
      }
      if (page.length < 500) return count;
      after = page[page.length - 1]!.id;
    }
  }

  private async tryPublish(event: RevocationEvent): Promise<boolean> {
    try {
      const sequence = await this.sink.publish(event);
      await this.ports.markPublished(event.id, new Date(), sequence);
      return true;
    } catch (error) {
      this.log.warn({ err: (error as Error).message, revocationId: event.id }, 'revocation stored but not yet published; will retry');
      return false;
    }
  }
}

const SCOPES = { grant: RevocationScope.REVOCATION_SCOPE_GRANT, workload: RevocationScope.REVOCATION_SCOPE_WORKLOAD, key: RevocationScope.REVOCATION_SCOPE_KEY } as const;

export function toRevocationEvent(row: RevocationRecord): RevocationEvent {
  return RevocationEvent.fromPartial({
    id: row.id,
    scope: SCOPES[row.scope],
    grantId: row.grant_id ?? '',
    tokenId: row.token_id ?? '',
    spiffeId: row.spiffe_id ?? '',
    taskId: row.task_id ?? '',
    keyId: row.key_id ?? '',
    notBefore: row.not_before ?? undefined,
    consumed: row.consumed,
    reason: row.reason,
    revokedAt: row.revoked_at,
    notAfter: row.not_after,
  });
}
