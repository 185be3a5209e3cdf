import { createHash } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { AUDIT_DELIVERY_LINGER_MS, AUDIT_MAX_ATTEMPTS, EnvReader, serviceAddress } from '@mayfly/config';
import { MayflyError, type Logger } from '@mayfly/core';
import { enqueueAuditEvents, type Database, type Kysely } from '@mayfly/db';
import type { AuditEvent } from '@mayfly/proto';
import { Periodic, mayflyMetrics } from '@mayfly/telemetry';
import { auditEvent } from '@mayfly/model';
import { takeBatch, type Queued } from './batching.js';
import { asBuffer, decodeAuditEvent, encodedAuditEvent, encodeForCommit } from './encoded-events.js';
import { grpcAuditSink, postgresAuditOutbox, type AuditOutbox, type AuditSink } from './ports.js';

export interface AuditTrailOptions {
  readonly db: Kysely<Database>;
  /** The recording service; each service delivers only its own outbox rows. */
  readonly owner: string;
  readonly auditAddress: string;
  readonly log: Logger;
  /** How often undelivered events are retried. Default 1 s. */
  readonly retryIntervalMs?: number;
  /** Refusals of one event by the audit service before it is set aside (dead-lettered). Default 5. */
  readonly maxAttempts?: number;
  /**
   * How long a delivery waits for others to go with it when no Record call is in flight. Default
   * 0. Under load the call in flight gathers the next batch anyway; alone, each grant's events
   * would cost a Record call, an audit append and an outbox update of their own.
   */
  readonly lingerMs?: number;
  /** The outbox; default: the owner's rows of audit_outbox in `db`. */
  readonly outbox?: AuditOutbox;
  /** Where events go; default: the audit service at `auditAddress`. */
  readonly sink?: AuditSink;
}

const BATCH = 200;
const DEAD_LETTERED = 'audit.dead_lettered';

/**
 * A service's side of the audit trail. Events are first committed to the service's outbox in
 * the same transaction as the change they describe, so they can never be lost or describe
 * something that did not happen; then they are delivered to the audit service, at once when it
 * answers and by a background retry when it does not. The audit service stores each event id
 * once, so a redelivery is harmless.
 *
 * One bad event must never hold up the rest: batches are bounded by bytes as well as count; a
 * batch the audit service refuses for what it holds (INVALID_ARGUMENT, RESOURCE_EXHAUSTED) is
 * split in halves until the event at fault stands alone; an event refused maxAttempts times is
 * dead-lettered — set aside in the outbox, counted in mayfly_audit_dead_letters, and itself
 * audited — while everything else goes through.
 */
export class AuditTrail {
  private readonly outbox: AuditOutbox;
  private readonly sink: AuditSink;
  private retrying: Periodic | undefined;
  private draining: Promise<void> | undefined;

  constructor(private readonly options: AuditTrailOptions) {
    this.outbox = options.outbox ?? postgresAuditOutbox(options.db, options.owner);
    this.sink = options.sink ?? grpcAuditSink(options.auditAddress);
  }

  get owner(): string {
    return this.options.owner;
  }

  /** Events as outbox entries, for a caller that writes them in its own statement. */
  outboxEntries(events: readonly AuditEvent[]): { id: string; payload: Buffer }[] {
    return events.map((event) => ({ id: event.id, payload: asBuffer(encodeForCommit(event)) }));
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
    // Nothing to deliver is delivered. (Sent, it would be refused for its content — "at least one
    // event" — and the refusal would be split in halves forever.)
    if (events.length === 0) return Promise.resolve(true);
    for (const event of events) this.delivering.add(event.id);
    return new Promise<boolean>((resolve) => {
      this.queue.push({
        events,
        bytes: encodedSize(events),
        deadline,
        resolve: (ok) => {
          for (const event of events) this.delivering.delete(event.id);
          resolve(ok);
        },
      });
      this.scheduleSend();
    });
  }

  private lingering: NodeJS.Timeout | undefined;

  private scheduleSend(): void {
    if (this.sending || this.lingering) return;
    const lingerMs = this.options.lingerMs ?? 0;
    if (lingerMs === 0) {
      void this.sendQueued();
      return;
    }
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      void this.sendQueued();
    }, lingerMs);
  }

  /**
   * Ids of events on their way to the audit service right now. The retry loop leaves them out:
   * committed a moment ago and not yet marked delivered, they would otherwise be sent twice —
   * harmless (ids are unique) but, under load, a tenth of the audit work done again.
   */
  private readonly delivering = new Set<string>();

  private readonly queue: Queued[] = [];
  private sending = false;

  private async sendQueued(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = takeBatch(this.queue);
      const events = batch.flatMap((entry) => entry.events);
      // The batch waits no longer than its most patient member allows.
      const deadlines = batch.map((entry) => entry.deadline?.getTime()).filter((t): t is number => t !== undefined);
      const deadline = deadlines.length === batch.length ? new Date(Math.max(...deadlines)) : undefined;
      const stored = await this.record(events, deadline);
      for (const entry of batch) entry.resolve(entry.events.every((event) => stored.has(event.id)));
    }
    this.sending = false;
  }

  /** Sends events; returns the ids the audit service has stored. */
  private async record(events: readonly AuditEvent[], deadline: Date | undefined): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    const ids = events.map((event) => event.id);
    try {
      await this.sink.record(events, deadline);
    } catch (error) {
      if (!refusedForContent(error)) {
        this.options.log.warn({ err: (error as Error).message, events: ids.length }, 'audit service unreachable; events kept in the outbox');
        await this.outbox.recordDeliveryFailure(ids, (error as Error).message).catch(() => undefined);
        return new Set();
      }
      if (events.length === 1) {
        await this.refused(events[0]!, error as Error).catch((e: unknown) => this.options.log.warn({ err: e }, 'could not record an audit refusal'));
        return new Set();
      }
      // Find the event at fault: each half goes on its own.
      const half = Math.ceil(events.length / 2);
      const first = await this.record(events.slice(0, half), deadline);
      const second = await this.record(events.slice(half), deadline);
      return new Set([...first, ...second]);
    }
    // The audit service has the events: that is what the caller waits for. Clearing them from
    // the outbox can happen after; if it never does, redelivery is harmless (ids are unique).
    this.outbox.markDelivered(ids, new Date()).catch((error: unknown) =>
      this.options.log.warn({ err: (error as Error).message }, 'could not mark audit events delivered; they will be redelivered'),
    );
    return new Set(ids);
  }

  /** The audit service refused this one event for what it holds; after maxAttempts it is set aside. */
  private async refused(event: AuditEvent, error: Error): Promise<void> {
    const attempts = await this.outbox.recordRefusal(event.id, error.message);
    const maxAttempts = this.options.maxAttempts ?? 5;
    this.options.log.warn({ eventId: event.id, kind: event.kind, attempts, maxAttempts, err: error.message }, 'audit service refused an event');
    if (attempts < maxAttempts) return;
    await this.outbox.deadLetter(event.id, new Date());
    mayflyMetrics().auditDeadLetters.add(1, { owner: this.options.owner });
    this.options.log.error({ eventId: event.id, kind: event.kind, attempts }, 'audit event dead-lettered: it stays in audit_outbox for inspection');
    if (event.kind === DEAD_LETTERED) return; // never a notice about a notice
    const notice = auditEvent(this.options.owner, {
      kind: DEAD_LETTERED,
      actor: `mayfly:${this.options.owner}`,
      outcome: 'failed',
      grantId: event.grantId || undefined,
      taskId: event.taskId,
      detail: {
        eventId: event.id,
        eventKind: event.kind,
        attempts,
        error: error.message,
        payloadDigest: createHash('sha256').update(encodedAuditEvent(event)).digest('hex'),
      },
    });
    await this.outbox.enqueue(this.outboxEntries([notice]));
  }

  /** Delivers everything still pending, oldest first. */
  async drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        for (;;) {
          const listed = await this.outbox.listPending(BATCH);
          const pending = listed.filter((entry) => !this.delivering.has(entry.id));
          if (pending.length === 0) return;
          const delivered = await this.deliver(pending.map((entry) => decodeAuditEvent(entry.payload)));
          // Partly delivered (an event was refused): go on; what is left is retried next round.
          if (listed.length < BATCH) return;
          if (!delivered && !(await this.madeProgress(pending.map((entry) => entry.id)))) return;
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private async madeProgress(ids: readonly string[]): Promise<boolean> {
    const still = await this.outbox.listPending(BATCH);
    return still.some((entry) => !ids.includes(entry.id)) || still.length < ids.length;
  }

  /** Starts the background retry loop. */
  start(): void {
    this.retrying = Periodic.start({ name: `audit-trail.${this.options.owner}.retry`, intervalMs: this.options.retryIntervalMs ?? 1_000, log: this.options.log }, () => this.drain());
  }

  /**
   * Stops the retry loop after one last attempt (at most `graceMs`) to deliver what is still in
   * the outbox, so that a clean shutdown does not leave the audit log behind the grants. Whatever
   * does not go out stays in the outbox and is delivered when the service runs again.
   */
  async close(graceMs = 3_000): Promise<void> {
    await this.retrying?.stop();
    if (this.lingering) {
      // What waits for company goes now, not after the sink is closed.
      clearTimeout(this.lingering);
      this.lingering = undefined;
      if (!this.sending) void this.sendQueued();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.drain().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await Promise.race([this.draining?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 100))]);
    this.sink.close();
  }
}

function encodedSize(events: readonly AuditEvent[]): number {
  return events.reduce((sum, event) => sum + encodedAuditEvent(event).length, 0);
}

/**
 * The audit service refused the call for what it holds (an event it cannot accept, a message
 * too large), as opposed to not being there: only then does splitting the batch help.
 */
function refusedForContent(error: unknown): boolean {
  const cause = error instanceof MayflyError ? (error.cause as Partial<ServiceError> | undefined) : undefined;
  const code = cause?.code ?? (error instanceof MayflyError ? (error.status as number) : undefined);
  return code === status.INVALID_ARGUMENT || code === status.RESOURCE_EXHAUSTED;
}

/**
 * A service's audit trail as configured by the environment: the audit service at
 * MAYFLY_AUDIT_ADDR, MAYFLY_AUDIT_MAX_ATTEMPTS refusals before an event is dead-lettered.
 */
export function auditTrailFromEnv(owner: 'attestation' | 'decision' | 'issuance' | 'revocation', db: Kysely<Database>, log: Logger, env = new EnvReader(process.env, owner)): AuditTrail {
  return new AuditTrail({
    db,
    owner,
    auditAddress: serviceAddress('audit', env),
    log,
    maxAttempts: env.read(AUDIT_MAX_ATTEMPTS),
    lingerMs: env.read(AUDIT_DELIVERY_LINGER_MS),
  });
}
