import type { HttpsFetchOptions } from '@mayfly/pki';
import { validateSpiffeId } from '@mayfly/core';
import type { AttestedSubject, Attestor } from '../attestor.js';
import { JwtVerifier } from '../jwt/verify-jwt.js';
import type { TrustedIssuerSource } from '../trusted-issuers.js';

export interface JwtSvidAttestorOptions {
  readonly issuers: TrustedIssuerSource;
  readonly clockToleranceSeconds: number;
  readonly jwksFetch?: HttpsFetchOptions;
}

/**
 * Verifies a SPIFFE JWT-SVID (SPIFFE JWT-SVID standard): its sub is a SPIFFE ID, and it is signed
 * by a key in the JWT bundle of that ID's trust domain, registered as the issuer
 * "spiffe://<trust domain>" of kind spiffe (a JWKS: inline, or a bundle endpoint's https URL).
 * aud must carry the audience registered for it; iss is optional in JWT-SVIDs and not checked.
 */
export class JwtSvidAttestor implements Attestor {
  readonly name = 'spiffe-jwt';
  readonly evidenceKind = 'jwt_svid' as const;
  private readonly verifier: JwtVerifier;

  constructor(private readonly options: JwtSvidAttestorOptions) {
    this.verifier = new JwtVerifier({ attestor: this.name, clockToleranceSeconds: options.clockToleranceSeconds, jwksFetch: options.jwksFetch });
  }

  async attest(evidence: string): Promise<AttestedSubject> {
    const spiffeId = this.readSpiffeId(evidence);
    const url = new URL(spiffeId);
    const trustDomain = url.host;
    const bundleName = `spiffe://${trustDomain}`;
    const trusted = await this.options.issuers.find(bundleName);
    if (!trusted || trusted.kind !== 'spiffe') throw this.verifier.failed(`trust domain ${trustDomain} is not trusted: register its JWT bundle as issuer ${bundleName} of kind spiffe`);
    const verified = await this.verifier.verify(evidence, trusted, false);
    return {
      attestor: this.name,
      issuer: bundleName,
      issuerKind: 'spiffe',
      subject: spiffeId,
      expiresAt: verified.expiresAt,
      evidenceDigest: verified.digest,
      replayPolicy: trusted.replayPolicy,
      claims: { sub: spiffeId, spiffe_id: spiffeId, trust_domain: trustDomain, path: url.pathname },
    };
  }

  private readSpiffeId(evidence: string): string {
    const { sub } = this.verifier.peek(evidence);
    if (typeof sub !== 'string') throw this.verifier.failed('a JWT-SVID names its SPIFFE ID in sub; this one has none');
    try {
      validateSpiffeId('sub', sub);
    } catch {
      throw this.verifier.failed(`sub ${JSON.stringify(sub.slice(0, 200))} is not a SPIFFE ID`);
    }
    return sub;
  }
}
