/** The evidence kinds Mayfly understands; one attestor per kind. */
export type EvidenceKind = 'oidc_token';

/** What an attestor established: who issued the evidence, about whom, and until when. */
export interface AttestedSubject {
  readonly attestor: string;
  readonly issuer: string;
  readonly subject: string;
  readonly expiresAt: Date;
  /** SHA-256 of what was signed: audit records carry this, never the evidence. */
  readonly evidenceDigest: string;
  /**
   * Whether the same evidence may attest again before it expires: 'single-use', or
   * 'reusable-until-expiry' (a Kubernetes projected token, which kubelet rotates about hourly).
   */
  readonly replayPolicy: 'single-use' | 'reusable-until-expiry';
}

/**
 * The extension seam for proving what a workload is. An attestor verifies one kind of evidence
 * and says who issued it about whom; mapping that to a registered workload is not its job.
 * It throws MayflyError ERR_ATTESTATION_FAILED with a reason a person can act on.
 */
export interface Attestor {
  readonly name: string;
  readonly evidenceKind: EvidenceKind;
  attest(evidence: string): Promise<AttestedSubject>;
}
