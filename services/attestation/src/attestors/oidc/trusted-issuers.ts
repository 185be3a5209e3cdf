/** How the OIDC attestor learns which issuers to trust. */
export interface TrustedIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string | undefined;
  readonly jwks: { keys: unknown[] } | undefined;
  readonly algorithms: readonly string[];
}

export interface TrustedIssuerSource {
  find(issuer: string): Promise<TrustedIssuer | undefined>;
}
