import type { EvidenceClaims, EvidenceIssuerKind, EvidenceKind } from '@mayfly/core';

/** The evidence kinds Mayfly understands (the Evidence oneof; core's EVIDENCE_TABLE); one attestor per kind. */
export type { EvidenceKind };

/** What an attestor established: who issued the evidence, about whom, until when, and what it says. */
export interface AttestedSubject {
  readonly attestor: string;
  readonly issuer: string;
  /** The issuer's kind: which claim catalog `claims` follows. */
  readonly issuerKind: EvidenceIssuerKind;
  readonly subject: string;
  readonly expiresAt: Date;
  /** SHA-256 of what was signed: audit records carry this, never the evidence. */
  readonly evidenceDigest: string;
  /**
   * Whether the same evidence may attest again before it expires: 'single-use', or
   * 'reusable-until-expiry' (a Kubernetes projected token, which kubelet rotates about hourly).
   */
  readonly replayPolicy: 'single-use' | 'reusable-until-expiry';
  /** The verified claims the issuer's kind maps, and nothing else (EVIDENCE_CLAIMS). */
  readonly claims: EvidenceClaims;
  /**
   * Set when the evidence itself names its workload because an operator made it for one (a
   * join token); otherwise bindings and binding rules decide.
   */
  readonly boundSpiffeId?: string;
  /**
   * Set when the evidence cannot be presented again (a join token is spent): the session it
   * starts may rotate its certificate without evidence until then.
   */
  readonly rotatableUntil?: Date;
}

/**
 * The extension seam for proving what a workload is. An attestor verifies one kind of evidence
 * and says who issued it about whom, with the claims it verified; mapping that to a registered
 * workload is the registry's job (bindings and binding rules), not the attestor's.
 * It throws MayflyError ERR_ATTESTATION_FAILED with a reason a person can act on.
 */
export interface Attestor {
  readonly name: string;
  readonly evidenceKind: EvidenceKind;
  attest(evidence: string): Promise<AttestedSubject>;
}
