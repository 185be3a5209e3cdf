import type { HttpsFetchOptions } from '@mayfly/pki';
import type { Attestor, EvidenceKind } from './attestor.js';
import { OidcAttestor } from './oidc/oidc-attestor.js';
import type { TrustedIssuerSource } from './oidc/trusted-issuers.js';

export interface AttestorCatalogOptions {
  readonly trustedIssuers: TrustedIssuerSource;
  readonly clockToleranceSeconds: number;
  /** How issuers' key sets are fetched: trust anchors, and whether http: is allowed (development only). */
  readonly jwksFetch: HttpsFetchOptions;
}

/** The one place that lists which attestors exist. Add a new evidence kind here. */
export function buildAttestorCatalog(options: AttestorCatalogOptions): ReadonlyMap<EvidenceKind, Attestor> {
  const attestors: Attestor[] = [
    new OidcAttestor({ issuers: options.trustedIssuers, clockToleranceSeconds: options.clockToleranceSeconds, jwksFetch: options.jwksFetch }),
  ];
  return new Map(attestors.map((attestor) => [attestor.evidenceKind, attestor]));
}
