/** What one credential says: who, on what, may do what, for which grant and task, until when. */
export interface CredentialClaims {
  /** The workload that holds the grant and presents the credential. */
  readonly spiffeId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly tokenId: string;
  readonly grantId: string;
  readonly taskId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /**
   * SHA-256 thumbprint (base64url) of the client certificate the grant was requested with, when
   * it was: the credential is then bound to that certificate (RFC 8705) and an edge refuses it
   * from anyone not presenting the certificate.
   */
  readonly certificateThumbprint?: string | undefined;
  /** The credential may be used once: the first edge that accepts it consumes it. */
  readonly singleUse?: boolean | undefined;
  /**
   * For a delegated grant: who passed it on (the principal first) and the grants it was carved
   * from (the root first). The credential then speaks for the principal, acted on by the chain.
   */
  readonly delegation?: { readonly delegators: readonly string[]; readonly parentGrantIds: readonly string[] } | undefined;
}

/** What a presented credential proved, once its signature and issuer are checked. */
export interface PresentedCredential {
  readonly grantId: string;
  readonly tokenId: string;
  /** The workload it was issued to (its holder; for a delegated one, the actor, not the principal). */
  readonly spiffeId: string;
  readonly taskId: string;
  readonly expired: boolean;
  /** The certificate it is bound to (cnf.x5t#S256), if any. */
  readonly certificateThumbprint?: string | undefined;
}

/**
 * The extension seam for credential formats. A format mints the credential for a grant, and
 * can check one it minted (to let its holder end the grant).
 */
export interface CredentialFormat {
  readonly name: string;
  mint(claims: CredentialClaims): Promise<string>;
  /** Throws ERR_TOKEN_INVALID if the credential is not one this format minted. */
  inspect(credential: string): Promise<PresentedCredential>;
  /**
   * What it takes to issue this very credential again (for an idempotent retry), stored with
   * the grant. It must not itself be a credential: for a JWT, the signing input without the
   * signature.
   */
  reissuable(credential: string): string;
  /** The same credential again, from reissuable(); undefined when its key can no longer sign. */
  reissue(saved: string): string | undefined;
}
