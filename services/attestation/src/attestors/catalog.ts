import { EVIDENCE_TABLE } from '@mayfly/core';
import type { HttpsFetchOptions } from '@mayfly/pki';
import type { Attestor, EvidenceKind } from './attestor.js';
import { JoinTokenAttestor, type JoinTokenStore } from './join-token/join-token-attestor.js';
import { OidcAttestor } from './oidc/oidc-attestor.js';
import { JwtSvidAttestor } from './spiffe/jwt-svid-attestor.js';
import type { TrustedIssuerSource } from './trusted-issuers.js';
import { X509Attestor } from './x509/x509-attestor.js';

export interface AttestorCatalogOptions {
  readonly trustedIssuers: TrustedIssuerSource;
  readonly joinTokens: JoinTokenStore;
  readonly clockToleranceSeconds: number;
  /** How long a session a join token starts may rotate without evidence (MAYFLY_JOIN_TOKEN_SESSION_SECONDS). */
  readonly joinTokenSessionSeconds: number;
  /** How issuers' key sets are fetched: trust anchors, and whether http: is allowed (development only). */
  readonly jwksFetch: HttpsFetchOptions;
}

/**
 * The one place that lists which attestors exist, one per evidence kind:
 * - oidc_token: OIDC JWTs, their claims mapped by issuer kind — generic OIDC, Kubernetes
 *   service-account tokens (kubernetes/), GitHub Actions and GitLab CI (ci/);
 * - jwt_svid: SPIFFE JWT-SVIDs against a trust domain's bundle (spiffe/);
 * - x509_assertion: proof of an X.509 certificate or X.509-SVID chaining to a trusted CA (x509/);
 * - join_token: one-time bootstrap tokens operators create (join-token/).
 * Add a new evidence kind here; a new OIDC platform is a claim mapper in oidc-attestor.ts.
 */
export function buildAttestorCatalog(options: AttestorCatalogOptions): ReadonlyMap<EvidenceKind, Attestor> {
  const jwt = { issuers: options.trustedIssuers, clockToleranceSeconds: options.clockToleranceSeconds, jwksFetch: options.jwksFetch };
  const attestors: Attestor[] = [
    new OidcAttestor(jwt),
    new JwtSvidAttestor(jwt),
    new X509Attestor({ issuers: options.trustedIssuers, clockToleranceSeconds: options.clockToleranceSeconds }),
    new JoinTokenAttestor(options.joinTokens, options.joinTokenSessionSeconds),
  ];
  // The evidence table names one attestor per kind: a kind without one (or a renamed attestor) fails at start, not at the first request.
  for (const row of EVIDENCE_TABLE) {
    const attestor = attestors.find((candidate) => candidate.evidenceKind === row.kind);
    if (attestor?.name !== row.attestor) throw new Error(`evidence kind ${row.kind}: the evidence table names attestor ${row.attestor}, the catalog has ${attestor?.name ?? 'none'}`);
  }
  return new Map(attestors.map((attestor) => [attestor.evidenceKind, attestor]));
}
