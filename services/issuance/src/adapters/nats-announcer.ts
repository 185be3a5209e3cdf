import { APPROVALS_PENDING_SUBJECT, BREAK_GLASS_ALERT_SUBJECT, connectBus, type NatsConnection } from '@mayfly/bus';
import type { Logger } from '@mayfly/core';
import type { Announcement } from '../domain/announcements.js';

/**
 * Tells people what needs them, on NATS: a request waiting for approval on
 * mayfly.approvals.pending, a break-glass grant on mayfly.alerts.break-glass. Best effort: a grant
 * never waits for NATS, and while NATS is away announcements are logged instead (the audit trail
 * has every request either way). What an announcement holds, and why no justification: see
 * domain/announcements.ts.
 */
export class NatsAnnouncer {
  private nats: NatsConnection | undefined;
  private closed = false;

  constructor(private readonly natsUrl: string, private readonly log: Logger) {}

  /** Connects in the background (retrying); issuance does not wait for NATS to start. */
  start(): void {
    const attempt = (): void => {
      if (this.closed) return;
      connectBus(this.natsUrl, 'mayfly-issuance').then(
        (nats) => {
          if (this.closed) void nats.close();
          else this.nats = nats;
        },
        (error: unknown) => {
          this.log.warn({ err: error }, 'NATS unreachable: approvals and break-glass alerts are logged, not announced, until it is back');
          setTimeout(attempt, 5_000).unref();
        },
      );
    };
    attempt();
  }

  announce(announcement: Announcement): void {
    this.publish(announcement.event === 'approval.pending' ? APPROVALS_PENDING_SUBJECT : BREAK_GLASS_ALERT_SUBJECT, announcement.message);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.nats?.drain().catch(() => undefined);
  }

  private publish(subject: string, message: Record<string, unknown>): void {
    const nats = this.nats;
    if (!nats || nats.isClosed()) {
      this.log.warn({ subject, announcement: message }, 'not announced on NATS (not connected)');
      return;
    }
    try {
      nats.publish(subject, JSON.stringify(message));
    } catch (error) {
      this.log.warn({ err: error, subject, announcement: message }, 'announcement failed');
    }
  }
}
