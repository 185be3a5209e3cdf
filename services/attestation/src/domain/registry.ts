import type { Workload } from '@mayfly/proto';

/** Where registered workloads are looked up by the (issuer, subject) their evidence names. */
export interface WorkloadRegistry {
  /**
   * Records that the evidence with this digest has been used (until it expires) and returns the
   * workload bound to (issuer, subject). `firstUse` is false for a replay.
   */
  consumeAndFind(use: { digest: string; issuer: string; subject: string; expiresAt: Date }): Promise<RegistryAnswer>;
}

export interface RegistryAnswer {
  /** False when this evidence was used before. */
  readonly firstUse: boolean;
  readonly workload: Workload | undefined;
  /** The workload is registered but disabled: it gets no session and no grant. */
  readonly disabled: boolean;
}
