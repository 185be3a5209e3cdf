import type { Workload } from '@mayfly/proto';

/** Where registered workloads are looked up by the (issuer, subject) their evidence names. */
export interface WorkloadRegistry {
  /**
   * Records that the evidence with this digest has been used (until it expires) and returns the
   * workload bound to (issuer, subject). `firstUse` is false for a replay.
   */
  consumeAndFind(use: { digest: string; issuer: string; subject: string; expiresAt: Date }): Promise<{ firstUse: boolean; workload: Workload | undefined }>;
}
