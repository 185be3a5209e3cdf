import type { GrantRecord, NewApprovalRequest } from '@mayfly/model';
import type { Workload } from '@mayfly/proto';
import { breakGlassAnnouncement, pendingAnnouncement, type Announcement } from '../domain/announcements.js';

/** Where announcements go: NATS (always), a webhook (when configured). */
export interface AnnouncementSink {
  start?(): void;
  announce(announcement: Announcement): void;
  close(): Promise<void>;
}

/**
 * The grant flow's announcePending and announceBreakGlass ports: one announcement, built once
 * (with a link to the request's console page when MAYFLY_CONSOLE_URL is set), handed to every
 * sink. Sinks queue and return; none is ever waited for.
 */
export class Notifications {
  constructor(private readonly sinks: readonly AnnouncementSink[], private readonly consoleUrl: string | undefined) {}

  start(): void {
    for (const sink of this.sinks) sink.start?.();
  }

  announcePending(grant: GrantRecord, approval: NewApprovalRequest, workload: Workload): void {
    this.send(pendingAnnouncement(grant, approval, workload, this.consoleUrl));
  }

  announceBreakGlass(grant: GrantRecord, workload: Workload): void {
    this.send(breakGlassAnnouncement(grant, workload, this.consoleUrl));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
  }

  private send(announcement: Announcement): void {
    for (const sink of this.sinks) sink.announce(announcement);
  }
}
