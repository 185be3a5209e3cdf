import { APPROVALS_PENDING_SUBJECT, BREAK_GLASS_ALERT_SUBJECT, connectBus, type NatsConnection } from '@mayfly/bus';
import type { Logger } from '@mayfly/core';
import type { GrantRecord, NewApprovalRequest } from '@mayfly/db';
import { riskTierToJSON, type Workload } from '@mayfly/proto';

/**
 * Tells people what needs them, on NATS: a request waiting for approval on
 * mayfly.approvals.pending, a break-glass grant on mayfly.alerts.break-glass. Best effort: a grant
 * never waits for NATS, and while NATS is away announcements are logged instead (the audit trail
 * has every request either way).
 *
 * An announcement says that something needs people and where to look — never why: the
 * justification (free text, perhaps naming systems, customers or incidents) is not on NATS, where
 * any subscriber the NATS operator lets in would read it. Approvers read it through
 * ApprovalService (`mayfly approvals show <grant>`), signed in.
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

  announcePending(grant: GrantRecord, approval: NewApprovalRequest, workload: Workload): void {
    this.publish(APPROVALS_PENDING_SUBJECT, {
      grantId: grant.id,
      workload: workload.spiffeId,
      owner: { team: workload.ownerTeam, contact: workload.ownerContact },
      environment: workload.environment,
      riskTier: riskTierToJSON(workload.riskTier).replace('RISK_TIER_', '').toLowerCase(),
      task: { id: grant.task_id, kind: grant.task_kind, reference: grant.task_reference },
      resource: grant.resource,
      actions: grant.actions,
      details: `mayfly approvals show ${grant.id}`,
      rule: approval.rule,
      approverGroups: approval.approver_groups,
      threshold: approval.threshold,
      pendingUntil: approval.pending_until.toISOString(),
      requestedAt: grant.issued_at.toISOString(),
    });
  }

  announceBreakGlass(grant: GrantRecord, workload: Workload): void {
    this.publish(BREAK_GLASS_ALERT_SUBJECT, {
      severity: 'high',
      grantId: grant.id,
      workload: workload.spiffeId,
      owner: { team: workload.ownerTeam, contact: workload.ownerContact },
      incidentReference: grant.task_reference,
      details: `mayfly grants show ${grant.id}`,
      resource: grant.resource,
      actions: grant.actions,
      issuedAt: grant.issued_at.toISOString(),
      expiresAt: grant.expires_at.toISOString(),
      reviewRequired: true,
    });
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
