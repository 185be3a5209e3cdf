/** The Evidence oneof's fields, as ts-proto spells them (core does not depend on the contract). */
export interface EvidenceFields {
  readonly oidcToken?: string | undefined;
  readonly jwtSvid?: string | undefined;
  readonly x509Assertion?: string | undefined;
  readonly joinToken?: string | undefined;
}

/** The one piece of evidence presented, whichever kind it is; undefined when none is. */
export function presentedEvidence(evidence: EvidenceFields | undefined): string | undefined {
  return evidence?.oidcToken || evidence?.jwtSvid || evidence?.x509Assertion || evidence?.joinToken || undefined;
}
