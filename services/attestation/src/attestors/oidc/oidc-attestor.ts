import type { HttpsFetchOptions } from '@mayfly/pki';
import type { JWTPayload } from 'jose';
import type { AttestedSubject, Attestor } from '../attestor.js';
import { withTrustDomain, type MappedClaims } from '../claims.js';
import { githubActionsClaims } from '../ci/github-actions-claims.js';
import { gitlabCiClaims } from '../ci/gitlab-ci-claims.js';
import { CONTROL_CHARACTERS, JwtVerifier } from '../jwt/verify-jwt.js';
import { kubernetesClaims } from '../kubernetes/kubernetes-claims.js';
import type { TrustedIssuer, TrustedIssuerSource } from '../trusted-issuers.js';

export interface OidcAttestorOptions {
  readonly issuers: TrustedIssuerSource;
  /** Allowed clock difference, seconds. */
  readonly clockToleranceSeconds: number;
  /** Trust anchors for issuers' JWKS URLs; http: URLs are refused unless allowHttp (development). */
  readonly jwksFetch?: HttpsFetchOptions;
}

/** How each kind of OIDC issuer's token becomes claims (a kind not listed is not an OIDC issuer). */
const CLAIM_MAPPERS: Partial<Record<TrustedIssuer['kind'], (payload: JWTPayload) => MappedClaims>> = {
  oidc: (payload) => ({ claims: { sub: String(payload.sub) } }),
  kubernetes: kubernetesClaims,
  'github-actions': githubActionsClaims,
  'gitlab-ci': gitlabCiClaims,
};

/** Longest iss accepted: it reaches the database, the audit trail and error messages. */
const MAX_ISSUER_LENGTH = 512;

/**
 * Verifies an OIDC JWT (Kubernetes service-account token, GitHub Actions or GitLab CI token,
 * any other OIDC issuer's) against the JWKS of an issuer Mayfly trusts — signature, iss, aud,
 * exp — and maps its claims by the issuer's kind.
 */
export class OidcAttestor implements Attestor {
  readonly name = 'oidc';
  readonly evidenceKind = 'oidc_token' as const;
  private readonly verifier: JwtVerifier;

  constructor(private readonly options: OidcAttestorOptions) {
    this.verifier = new JwtVerifier({ attestor: this.name, clockToleranceSeconds: options.clockToleranceSeconds, jwksFetch: options.jwksFetch });
  }

  async attest(evidence: string): Promise<AttestedSubject> {
    const claimedIssuer = this.readClaimedIssuer(evidence);
    const trusted = await this.options.issuers.find(claimedIssuer);
    if (!trusted) throw this.verifier.failed(`issuer ${JSON.stringify(claimedIssuer)} is not a trusted issuer`);
    const mapClaims = CLAIM_MAPPERS[trusted.kind];
    if (!mapClaims) throw this.verifier.failed(`issuer ${JSON.stringify(claimedIssuer)} is registered as kind ${trusted.kind}, whose evidence is not an OIDC token`);
    const verified = await this.verifier.verify(evidence, trusted);
    const mapped = mapClaims(verified.payload);
    if ('problem' in mapped) throw this.verifier.failed(`${trusted.kind} evidence: ${mapped.problem}`);
    return {
      attestor: this.name,
      issuer: trusted.issuer,
      issuerKind: trusted.kind,
      subject: verified.subject,
      expiresAt: verified.expiresAt,
      // What was signed, not how it was spelled: a respelled token is the same evidence.
      evidenceDigest: verified.digest,
      replayPolicy: trusted.replayPolicy,
      claims: withTrustDomain(mapped.claims, trusted.trustDomain),
    };
  }

  private readClaimedIssuer(evidence: string): string {
    const { iss } = this.verifier.peek(evidence);
    if (typeof iss !== 'string' || iss.length === 0) throw this.verifier.failed('evidence has no issuer (iss)');
    if (iss.length > MAX_ISSUER_LENGTH) throw this.verifier.failed(`evidence issuer (iss) is longer than ${MAX_ISSUER_LENGTH} characters`);
    if (CONTROL_CHARACTERS.test(iss)) throw this.verifier.failed('evidence issuer (iss) contains control characters');
    return iss;
  }
}
