import type { Logger } from '@mayfly/core';
import {
  enqueueAuditEvents,
  listPendingAudit,
  markAuditDelivered,
  recordAuditDeliveryFailure,
  type Database,
  type Kysely,
} from '@mayfly/db';
import { callUnary, createClient } from '@mayfly/grpc';
import { AuditEvent, AuditServiceClient } from '@mayfly/proto';

export interface AuditTrailOptions {
  readonly db: Kysely<Database>;
  /** The recording service; each service delivers only its own outbox rows. */
  readonly owner: string;
  readonly auditAddress: string;
  readonly log: Logger;
  /** How often undelivered events are retried. Default 1 s. */
  readonly retryIntervalMs?: number;
}

const BATCH = 200;
/** The audit service accepts at most 500 events per Record call. */
const MAX_BATCH_EVENTS = 400;

/**
 * A service's side of the audit trail. Events are first committed to the service's outbox in
 * the same transaction as the change they describe, so they can never be lost or describe
 * something that did not happen; then they are delivered to the audit service, at once when it
 * answers and by a background retry when it does not. The audit service stores each event id
 * once, so a redelivery is harmless.
 */
export class AuditTrail {
  private readonly client: AuditServiceClient;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

  constructor(private readonly options: AuditTrailOptions) {
    this.client = createClient(AuditServiceClient, options.auditAddress, 'audit');
  }

  get owner(): string {
    return this.options.owner;
  }

  /** Events as outbox entries, for a caller that writes them in its own statement. */
  outboxEntries(events: readonly AuditEvent[]): { id: string; payload: Buffer }[] {
    return events.map((event) => ({ id: event.id, payload: Buffer.from(AuditEvent.encode(event).finish()) }));
  }

  /** Adds events to the outbox inside the caller's transaction. */
  async enqueue(tx: Kysely<Database>, events: readonly AuditEvent[]): Promise<void> {
    await enqueueAuditEvents(tx, this.options.owner, this.outboxEntries(events));
  }

  /**
   * Delivers the given committed events now. Resolves true when the audit service has stored
   * them, false when it could not be reached (they stay in the outbox for the retry loop).
   *
   * Concurrent deliveries are batched: events handed in while a Record call is in flight go
   * out together in the next one, so under load one call and one INSERT carry many grants.
   */
  deliver(events: readonly AuditEvent[], deadline?: Date): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.queue.push({ events, deadline, resolve });
      if (!this.sending) void this.sendQueued();
    });
  }

  private readonly queue: { events: readonly AuditEvent[]; deadline: Date | undefined; resolve: (ok: boolean) => void }[] = [];
  private sending = false;

  private async sendQueued(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const events = batch.flatMap((entry) => entry.events);
      // The batch waits no longer than its most patient member allows.
      const deadlines = batch.map((entry) => entry.deadline?.getTime()).filter((t): t is number => t !== undefined);
      const deadline = deadlines.length === batch.length ? new Date(Math.max(...deadlines)) : undefined;
      const ok = await this.record(events, deadline);
      for (const entry of batch) entry.resolve(ok);
    }
    this.sending = false;
  }

  private takeBatch(): typeof this.queue {
    const batch: typeof this.queue = [];
    let size = 0;
    while (this.queue.length > 0 && (batch.length === 0 || size + this.queue[0]!.events.length <= MAX_BATCH_EVENTS)) {
      const entry = this.queue.shift()!;
      size += entry.events.length;
      batch.push(entry);
    }
    return batch;
  }

  private async record(events: readonly AuditEvent[], deadline: Date | undefined): Promise<boolean> {
    const ids = events.map((event) => event.id);
    try {
      await callUnary(this.client, this.client.record, { events: [...events] }, { deadline, timeoutMs: 2_000, target: 'audit' });
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message, events: ids.length }, 'audit service unreachable; events kept in the outbox');
      await recordAuditDeliveryFailure(this.options.db, ids, (error as Error).message).catch(() => undefined);
      return false;
    }
    // The audit service has the events: that is what the caller waits for. Clearing them from
    // the outbox can happen after; if it never does, redelivery is harmless (ids are unique).
    markAuditDelivered(this.options.db, ids, new Date()).catch((error: unknown) =>
      this.options.log.warn({ err: (error as Error).message }, 'could not mark audit events delivered; they will be redelivered'),
    );
    return true;
  }

  /** Delivers everything still pending, oldest first. */
  async drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        for (;;) {
          const pending = await listPendingAudit(this.options.db, this.options.owner, BATCH);
          if (pending.length === 0) return;
          const delivered = await this.deliver(pending.map((entry) => AuditEvent.decode(entry.payload)));
          if (!delivered || pending.length < BATCH) return;
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  /** Starts the background retry loop. */
  start(): void {
    this.timer = setInterval(() => {
      this.drain().catch((error: unknown) => this.options.log.warn({ err: error }, 'audit outbox drain failed'));
    }, this.options.retryIntervalMs ?? 1_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.draining?.catch(() => undefined);
    this.client.close();
  }
}
