import type { AuditEventRecord } from '@mayfly/model';

/** An event to append: as stored, less what the database assigns; its detail as JSON text. */
export type NewAuditRecord = Omit<AuditEventRecord, 'sequence' | 'recorded_at' | 'detail'> & {
  /** Serialised once, when the batch was checked (validateAuditBatch), and stored as it is. */
  readonly detailJson: string;
};

/** Which events to list (every given filter applies). */
export interface AuditQuery {
  readonly grantId?: string | undefined;
  readonly taskId?: string | undefined;
  /** Events the workload took part in: as actor, or as the subject (detail.spiffeId). */
  readonly workload?: string | undefined;
  readonly kinds?: readonly string[] | undefined;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  /** Only events after this sequence (oldest first) or before it (newest first). */
  readonly afterSequence?: string | undefined;
  readonly beforeSequence?: string | undefined;
  readonly newestFirst?: boolean;
  readonly limit: number;
}

/** The facts a usage review is built from. */
export interface UsageFacts {
  readonly issued: readonly { spiffeId: string; resource: string; actions: string[] }[];
  readonly used: readonly { spiffeId: string; resource: string; action: string; count: number }[];
}

/** The audit log as AuditService reads and appends it; wired in server.ts. */
export interface AuditLog {
  /**
   * Appends events atomically and returns their sequences in input order; an event whose id is
   * already stored (a redelivery) is not stored again, and its first sequence is returned.
   */
  append(events: readonly NewAuditRecord[]): Promise<string[]>;
  list(query: AuditQuery): Promise<AuditEventRecord[]>;
  usageFacts(since: Date, workload: string | undefined): Promise<UsageFacts>;
  /** Registered workloads' ceilings, by SPIFFE ID. */
  ceilings(workload: string | undefined): Promise<Map<string, { resource: string; actions: string[] }[]>>;
}
