import { randomUUID } from 'node:crypto';
import type { Logger } from '@mayfly/core';
import { AuditEvent, AuditOutcome } from '@mayfly/proto';
import type { GrantUsage, UsageRecorder } from '@mayfly/verifier';

const BATCH = 500;

/**
 * Sends what the edge saw used to the audit service, as `grant.used` events (who used which
 * grant on which resource for what, how often, first and last use): the facts a usage review is
 * made of. A batch that fails is retried with the same event ids (the audit log stores an id
 * once), while new usage keeps accumulating in the bounded recorder: memory stays bounded however
 * long the audit service is away; uses that found no room are reported as `usage.dropped`.
 */
export class UsageReporter {
  private pending: AuditEvent[] | undefined;

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
      for (let i = 0; i < events.length; i += BATCH) await this.send(events.slice(i, i + BATCH));
      this.pending = undefined;
      return events.length;
    } catch (error) {
      this.log.warn({ err: (error as Error).message, events: events.length }, 'usage report not delivered; will retry');
      return 0;
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
