import { callUnary } from '@mayfly/grpc';
import type { AuditEvent, AuditServiceClient, ChainStatusResponse, UsageReportResponse } from '@mayfly/proto';

export interface AuditFilters {
  readonly grant: string;
  readonly task: string;
  readonly workload: string;
  readonly kind: string;
  readonly since: Date | undefined;
  readonly until: Date | undefined;
}

/**
 * The audit trail for the console's readers: the audit service's ListEvents (newest first,
 * paged on the server) and its chain check. The console may read, never write; it shows these
 * only to people issuance says are readers (PeopleApi.whoAmI).
 */
export class AuditReader {
  constructor(private readonly client: AuditServiceClient) {}

  events(filters: AuditFilters, pageToken: string, limit = 50): Promise<{ events: AuditEvent[]; nextPageToken: string }> {
    return callUnary(
      this.client,
      this.client.listEvents,
      {
        grantId: filters.grant,
        taskId: filters.task,
        workload: filters.workload,
        kinds: filters.kind ? [filters.kind] : [],
        since: filters.since,
        until: filters.until,
        limit,
        pageToken,
        newestFirst: true,
        afterSequence: 0,
      },
      { target: 'audit' },
    );
  }

  /** Per workload: ceiling, granted and used (from the edges' use reports) since `since`. */
  usage(workload: string, since: Date): Promise<UsageReportResponse> {
    return callUnary(this.client, this.client.usageReport, { workload, since }, { target: 'audit', timeoutMs: 15_000 });
  }

  chainStatus(): Promise<ChainStatusResponse> {
    return callUnary(this.client, this.client.chainStatus, {}, { target: 'audit', timeoutMs: 30_000 });
  }
}
