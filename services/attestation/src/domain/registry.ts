import type { Workload } from '@mayfly/proto';

/** Where registered workloads are looked up by the (issuer, subject) their evidence names. */
export interface WorkloadRegistry {
  findBound(issuer: string, subject: string): Promise<Workload | undefined>;
}
