import type { EvidenceClaims } from '@mayfly/core';
import type { Workload } from '@mayfly/proto';

/** One presentation of evidence, as its attestor verified it. */
export interface EvidenceUse {
  readonly digest: string;
  readonly issuer: string;
  readonly subject: string;
  readonly expiresAt: Date;
  readonly claims: EvidenceClaims;
  /** The evidence names its workload itself (a join token an operator made for it). */
  readonly boundSpiffeId?: string | undefined;
}

/** Where registered workloads are found for evidence: exact bindings first, then binding rules. */
export interface WorkloadRegistry {
  /**
   * Records that the evidence with this digest has been used (until it expires) and returns the
   * workload it proves. `firstUse` is false for a replay.
   */
  consumeAndFind(use: EvidenceUse): Promise<RegistryAnswer>;
}

export interface RegistryAnswer {
  /** False when this evidence was used before. */
  readonly firstUse: boolean;
  readonly workload: Workload | undefined;
  /** The workload is registered but disabled: it gets no session and no grant. */
  readonly disabled: boolean;
  /** Set when binding rules disagree about the evidence: it proves nothing. */
  readonly problem?: string;
  /** What bound it ("binding", "rule <id>", "join token"), or the SPIFFE ID that is not registered. */
  readonly boundBy?: string;
  readonly unregisteredSpiffeId?: string;
}
