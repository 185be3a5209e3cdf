/** How the OIDC attestor learns which issuers to trust. */
export interface TrustedIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string | undefined;
  readonly jwks: { keys: unknown[] } | undefined;
  readonly algorithms: readonly string[];
  /**
   * Refuse ECDSA signatures whose s is in the upper half of the curve order. Replay detection
   * does not depend on it (it keys on the signed content), so an issuer whose signer does not
   * normalise s — Go's crypto/ecdsa, for one — can be registered with this off.
   */
  readonly requireLowS: boolean;
  /** Evidence valid for longer than this (exp − iat) is refused: a long-lived token is a standing credential. */
  readonly maxEvidenceLifetimeSeconds: number;
  /** Single-use, or reusable until expiry (the default for Kubernetes service-account issuers). */
  readonly replayPolicy: 'single-use' | 'reusable-until-expiry';
}

export interface TrustedIssuerSource {
  find(issuer: string): Promise<TrustedIssuer | undefined>;
}
