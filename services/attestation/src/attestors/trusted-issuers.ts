import type { EvidenceIssuerKind } from '@mayfly/core';

/** An issuer (or certificate authority) whose evidence Mayfly accepts, as the registry holds it. */
export interface TrustedIssuer {
  readonly issuer: string;
  /** Which claims its evidence yields, and which attestor reads it. */
  readonly kind: Exclude<EvidenceIssuerKind, 'join-token'>;
  /** Evidence must carry at least one of these in its aud. */
  readonly audiences: readonly string[];
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
  /** The trust_domain claim of its evidence, if the operator set one (SPIFFE issuers: their own). */
  readonly trustDomain: string | undefined;
  /** X.509 issuers: the CA certificates, PEM. */
  readonly caPem: string | undefined;
}

export interface TrustedIssuerSource {
  find(issuer: string): Promise<TrustedIssuer | undefined>;
  /** Every trusted issuer of one kind (the X.509 attestor tries each CA). */
  ofKind(kind: TrustedIssuer['kind']): Promise<readonly TrustedIssuer[]>;
}
