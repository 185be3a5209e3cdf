import { randomUUID } from 'node:crypto';
import { GrpcStatus, MayflyError, type Logger } from '@mayfly/core';
import { AuditEvent, AuditOutcome } from '@mayfly/proto';
import type { GrantUsage, UsageRecorder } from '@mayfly/verifier';

const BATCH = 500;

/**
 * Sends what the edge saw used to the audit service, as `grant.used` events (who used which
 * grant on which resource for what, how often, first and last use): the facts a usage review is
 * made of. A batch that fails is retried with the same event ids (the audit log stores an id
 * once), while new usage keeps accumulating in the bounded recorder: memory stays bounded however
 * long the audit service is away; uses that found no room are reported as `usage.dropped`.
 *
 * A batch the audit service refuses for what it holds (INVALID_ARGUMENT, RESOURCE_EXHAUSTED) is
 * not retried as it is — it would be refused for ever, and every later report behind it — but
 * split in halves until the event at fault stands alone, which is set aside (dead-lettered:
 * logged whole at error level and counted); the rest are delivered.
 */
export class UsageReporter {
  private pending: AuditEvent[] | undefined;
  /** Events the audit service refused for their content, set aside since start. */
  deadLettered = 0;

  constructor(
    private readonly recorder: UsageRecorder,
    private readonly send: (events: AuditEvent[]) => Promise<void>,
    private readonly edgeId: string,
    private readonly log: Logger,
  ) {}

  async report(now: Date): Promise<number> {
    if (!this.pending) {
      const { usage, dropped } = this.recorder.take();
      if (usage.length === 0 && dropped === 0) return 0;
      this.pending = [...usage.map((entry) => this.usedEvent(entry)), ...(dropped > 0 ? [this.droppedEvent(dropped, now)] : [])];
    }
    const events = this.pending;
    try {
      let delivered = 0;
      for (let i = 0; i < events.length; i += BATCH) delivered += await this.deliver(events.slice(i, i + BATCH));
      this.pending = undefined;
      return delivered;
    } catch (error) {
      this.log.warn({ err: (error as Error).message, events: events.length }, 'usage report not delivered; will retry');
      return 0;
    }
  }

  /** Sends `events`, splitting a batch refused for its content; returns how many were stored. Throws on anything else. */
  private async deliver(events: AuditEvent[]): Promise<number> {
    try {
      await this.send(events);
      return events.length;
    } catch (error) {
      if (!refusedForContent(error)) throw error;
      if (events.length === 1) {
        this.deadLettered += 1;
        this.log.error({ err: (error as Error).message, event: AuditEvent.toJSON(events[0]!) }, 'usage event refused by the audit service: set aside (dead-lettered)');
        return 0;
      }
      const half = Math.ceil(events.length / 2);
      return (await this.deliver(events.slice(0, half))) + (await this.deliver(events.slice(half)));
    }
  }

  private usedEvent(entry: GrantUsage): AuditEvent {
    return AuditEvent.fromPartial({
      id: randomUUID(),
      occurredAt: entry.lastUse,
      kind: 'grant.used',
      actor: entry.spiffeId,
      grantId: entry.grantId,
      taskId: entry.taskId,
      outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS,
      source: 'edge-verifier',
      detail: { resource: entry.resource, action: entry.action, count: entry.count, firstUse: entry.firstUse.toISOString(), lastUse: entry.lastUse.toISOString(), edge: this.edgeId },
    });
  }

  private droppedEvent(dropped: number, now: Date): AuditEvent {
    return AuditEvent.fromPartial({
      id: randomUUID(),
      occurredAt: now,
      kind: 'usage.dropped',
      actor: this.edgeId,
      outcome: AuditOutcome.AUDIT_OUTCOME_FAILED,
      source: 'edge-verifier',
      detail: { dropped, reason: 'more distinct grant uses in one period than the edge keeps (MAYFLY_EDGE_USAGE_MAX_ENTRIES)' },
    });
  }
}

/** The audit service refused the batch for what it holds: sending it again as it is cannot help. */
function refusedForContent(error: unknown): boolean {
  return error instanceof MayflyError && (error.status === GrpcStatus.INVALID_ARGUMENT || error.status === GrpcStatus.RESOURCE_EXHAUSTED);
}
